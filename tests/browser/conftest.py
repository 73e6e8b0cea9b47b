"""The browser tests' fixtures: Debian's Chromium driven by Playwright (one browser for all of them; a
fresh context, so a fresh cookie jar, per person), axe-core injected into each page, screenshots kept.

Nothing here downloads a browser: Playwright launches /usr/bin/chromium (`make browser-tools` installs it
with apt-get where absent). When Chromium or axe-core is missing the tests FAIL and say how to install
it; only CADENCE_SKIP_BROWSER_TESTS=1, set by hand, skips them (and pytest reports them as skipped).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.clock import ManualClock
from bot.config import Settings
from bot.db import run_in_session
from bot.plan import Plan, load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from handlers.web.app import WebSettings
from tests.conftest import loopback_socket, serve_in_thread
from tests.fake_oidc import FakeOpenID
from tests.web.serving import PLAN as SIGN_IN_PLAN
from tests.web.serving import (
    SLACK_CLIENT,
    SLACK_SECRET,
    TEAMS_CLIENT,
    TEAMS_SECRET,
    serve_web,
    sign_in_settings,
)

HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("CADENCE_CHROMIUM", "/usr/bin/chromium"))
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE / "artifacts"  # screenshots, one per page a test looked at (gitignored)
SKIP = "CADENCE_SKIP_BROWSER_TESTS"
# No network but loopback, no background updates, no GPU: the same browser every run, quick to start.
# Playwright's launch gives each run a fresh, temporary user-data directory of its own.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What axe reports and the tests refuse: labels, headings, contrast, names of links and buttons, ...
SERIOUS = {"serious", "critical"}


def missing_tools() -> list[str]:
    """What the browser tests need and this machine lacks, each with how to get it."""
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(
            f"{CHROMIUM} (Debian's Chromium: apt-get install -y chromium, or `make browser-tools`)"
        )
    if not AXE.is_file():
        missing.append(
            f"{AXE.relative_to(HERE.parent.parent)} (npm ci --prefix tests/browser, or `make browser-tools`)"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python (.venv/bin/pip install -e '.[dev]')")
    return missing


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole browser suite, closed when the suite's last test is done (so
    Playwright's event loop is gone before any other test starts one of its own)."""
    if os.environ.get(SKIP):
        pytest.skip(f"{SKIP} is set: the browser tests were skipped on purpose")
    missing = missing_tools()
    if missing:
        pytest.fail(
            "The browser tests need what this machine lacks:\n  - "
            + "\n  - ".join(missing)
            + f"\n(run `make browser-tools` as root; {SKIP}=1 skips these tests on purpose)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_person(browser) -> Iterator[Any]:
    """Opens a page in a context of its own (its own cookies): one per person a test plays."""
    contexts = []

    def open_page(*, timezone: str = "UTC") -> Any:
        context = browser.new_context(
            locale="en-US", timezone_id=timezone, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest):
    """Saves the page as tests/browser/artifacts/<test>/<name>.png."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)

    def take(page: Any, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it stands (WCAG 2 A and AA rules and
    axe's best practices)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated, not added as a <script>: the pages' Content-Security-Policy allows no script, and
        # bypassing it would hide what it blocks.
        page.evaluate(AXE.read_text() + "\n;undefined")
    violations = page.evaluate(
        """async () => (await axe.run(document, {
               runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
               resultTypes: ['violations'],
           })).violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                     nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return [v for v in violations if v["impact"] in SERIOUS]


def assert_accessible(page: Any) -> None:
    """Fails with each serious or critical axe-core finding: the rule, what it asks, where."""
    found = axe_violations(page)
    assert not found, f"accessibility problems on {page.url}:\n" + "\n".join(
        f"  {v['impact']}: {v['id']} — {v['help']} at {', '.join(v['nodes'])}" for v in found
    )


@pytest.fixture
def cadence(settings: Settings, engine: Engine, study: Plan, clock: ManualClock) -> Iterator[str]:
    """`cadence serve` as it runs with Slack configured: the Bolt app, the web pages, the fake Slack Web
    API; the example study applied; the test's clock. Its address (CADENCE_PUBLIC_URL) is returned."""
    sock, url = loopback_socket()
    settings = replace(settings, public_url=url, secret_key="the browser tests' secret")
    web = WebSettings.from_settings(settings)
    asgi = build_asgi(build_app(settings, engine, clock=clock), engine, clock=clock, web=web)
    _, stop = serve_in_thread(asgi, sock)
    yield url
    stop()


@pytest.fixture
def provider() -> Iterator[FakeOpenID]:
    """A fake OpenID provider on loopback, shaped as Slack's and as Microsoft's (tests/fake_oidc.py)."""
    fake = FakeOpenID(client_secrets={SLACK_CLIENT: SLACK_SECRET, TEAMS_CLIENT: TEAMS_SECRET}).start()
    yield fake
    fake.stop()


@pytest.fixture
def cadence_with_sign_in(engine: Engine, provider: FakeOpenID) -> Iterator[str]:
    """`cadence serve`'s pages with "Sign in with Slack" and "Sign in with Microsoft" configured against
    the fake provider, for a plan whose sides' workspaces and tenants are known (tests/web/serving.py)."""
    run_in_session(engine, apply_plan, plan=load_plan(SIGN_IN_PLAN), actor="test")
    url, stop = serve_web(sign_in_settings(provider.url), engine)
    yield url
    stop()
