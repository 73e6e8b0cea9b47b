"""The browser tests' own tools, checked once: Debian's Chromium runs, and axe-core, injected into a page,
does refuse what the page tests rely on it to refuse (so a clean page there means something)."""

from __future__ import annotations

from tests.browser.conftest import assert_accessible, axe_violations

FLAWED = """<!doctype html><html lang="en"><head><title>Flawed</title></head><body><main>
<h1>Flawed</h1>
<form><input name="summary"><button>Send</button></form>
<p style="color:#bbb;background:#fff">Pale text</p>
</main></body></html>"""

SOUND = """<!doctype html><html lang="en"><head><title>Sound</title></head><body><main>
<h1>Sound</h1>
<form><label for="s">Summary</label><input id="s" name="summary"><button>Send</button></form>
<p style="color:#333;background:#fff">Dark text</p>
</main></body></html>"""


def test_the_browser_is_debians_chromium_and_axe_refuses_missing_labels_and_low_contrast(new_person):
    page = new_person()
    assert "Chrome" in page.evaluate("navigator.userAgent")
    page.set_content(FLAWED)
    assert {v["id"] for v in axe_violations(page)} >= {"label", "color-contrast"}
    page.set_content(SOUND)
    assert_accessible(page)
