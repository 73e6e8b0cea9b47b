"""Cadence's web pages in a real browser (Debian's Chromium, through Playwright): `cadence serve` with
Slack configured on loopback, the fake Slack Web API taking its messages, the example study (ACME-201).
Each page a test opens is checked with axe-core and kept as a screenshot in tests/browser/artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from tests.browser.conftest import assert_accessible

# Monday 23 November 2026, 15:00 UTC: 10:00 in New York, 09:00 in Chicago, 16:00 in Warsaw.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def test_a_stranger_gets_the_403_page_that_says_how_to_sign_in(cadence, new_person, screenshot):
    page = new_person()
    answer = page.goto(f"{cadence}/app/")
    assert answer.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "This page is not available to you"
    assert "/cadence dashboard" in page.get_by_role("main").inner_text()
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert_accessible(page)
    screenshot(page, "refused")
