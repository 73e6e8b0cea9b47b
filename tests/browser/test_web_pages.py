"""Cadence's web pages in a real browser (Debian's Chromium, through Playwright): `cadence serve` with
Slack configured on loopback, the fake Slack Web API taking its messages, the example study (ACME-201).
Each page a test opens is checked with axe-core and kept as a screenshot in tests/browser/artifacts/."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from tests.browser.conftest import assert_accessible
from tests.fake_oidc import EntraUser, SlackUser
from tests.web.serving import ACME, CRO

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


def test_sign_in_with_microsoft_and_with_slack_from_the_403_page(
    cadence_with_sign_in, provider, new_person, screenshot
):
    # Alice (the sponsor's study lead) on Microsoft, from her company's tenant.
    alice = new_person(timezone="America/New_York")
    alice.goto(f"{cadence_with_sign_in}/app/")
    assert_accessible(alice)
    screenshot(alice, "sign-in-page")
    provider.at_browser = EntraUser("aad-alice", ACME, "alice@acme.example", name="Alice Chen")
    alice.get_by_role("link", name="Sign in with Microsoft").click()
    alice.wait_for_url(f"{cadence_with_sign_in}/app/")
    assert alice.get_by_role("heading", level=1).inner_text() == "Your studies"
    assert "Signed in as Alice Chen" in alice.locator("header").inner_text()
    assert alice.get_by_role("link", name=re.compile("ACME-201")).count() >= 1
    assert_accessible(alice)
    screenshot(alice, "studies-alice")

    # Mei (the CRO's drug safety lead), in the plan by e-mail only, from the CRO's Slack workspace.
    mei = new_person(timezone="Europe/Warsaw")
    mei.goto(f"{cadence_with_sign_in}/app/")
    provider.at_browser = SlackUser("U02MEI", "T0CRO", "mei@cro.example", name="Mei Lin")
    mei.get_by_role("link", name="Sign in with Slack").click()
    mei.wait_for_url(f"{cadence_with_sign_in}/app/")
    assert "Signed in as Mei Lin" in mei.locator("header").inner_text()


def test_a_stranger_signing_in_gets_the_403_page_and_no_session(
    cadence_with_sign_in, provider, new_person, screenshot
):
    page = new_person()
    page.goto(f"{cadence_with_sign_in}/app/")
    provider.at_browser = EntraUser("aad-mallory", CRO, "mallory@cro.example", name="Mallory")
    page.get_by_role("link", name="Sign in with Microsoft").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "This page is not available to you"
    assert "not part of any study" in page.get_by_role("main").inner_text()
    assert_accessible(page)
    screenshot(page, "stranger-refused")
    assert page.goto(f"{cadence_with_sign_in}/app/").status == 403
