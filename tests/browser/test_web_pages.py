"""Cadence's web pages in a real browser (Debian's Chromium, through Playwright): `cadence serve` with
Slack configured on loopback, the fake Slack Web API taking its messages, the example study (ACME-201).
People sign in the real way: a signed `/cadence dashboard` from Slack, the link read off the direct
message Cadence sends, opened in the browser; or "Sign in with …" through a fake OpenID provider.
Each page a test opens is checked with axe-core and kept as a screenshot in tests/browser/artifacts/."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from tests.browser.conftest import assert_accessible
from tests.fake_oidc import EntraUser, SlackUser
from tests.payloads import BEN, CRO_TEAM, MEI, RAJ, SPONSOR_TEAM, STRANGER, post_command, trigger_id
from tests.slack.test_checkin_http import deliver, interaction
from tests.web.serving import ACME, CRO

# Monday 23 November 2026, 15:00 UTC: 10:00 in New York, 09:00 in Chicago, 16:00 in Warsaw.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


SOFIA = "U02SOFIA"  # CRO, Lead CRA
LINK = re.compile(r"http://127\.0\.0\.1:\d+/app/signin/[A-Za-z0-9_-]{43}")
STUDY = "ACME-201"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def two_days_of_work(cadence, engine, fake_slack, clock) -> None:
    """Monday, all through Slack: Sofia escalates a kit shipment's temperature excursion (high: level 1,
    Raj and Ben, within 2h), Ben asks about an SAE narrative (it goes to Mei), Raj posts minutes with an
    action for Ben due Tuesday and one for Mei due next week. Then two days pass, acknowledged by nobody."""
    raised = post_command(cadence, "/escalate", "high Temperature excursion on kit shipment", user_id=SOFIA, team_id=CRO_TEAM)
    assert f"Raised *{STUDY}-E1*" in raised.text
    asked = post_command(cadence, "/ask", "Is the SAE narrative for patient 12 filed?", user_id=BEN)
    assert "went to <@U02MEI>" in asked.text
    notes = "ACTION @ben confirm the kit shipment by 2026-11-24\nACTION @mei send the diary cards by 2026-12-04\nDECISION: keep 8 sites"
    drafted = post_command(cadence, "/minutes", notes, user_id=RAJ, team_id=CRO_TEAM).json()
    buttons = next(b for b in drafted["blocks"] if b["type"] == "actions")["elements"]
    post = next(b for b in buttons if b["action_id"] == "minutes_post")
    assert press(cadence, fake_slack, RAJ, "minutes_post", post["value"]) == 200
    deliver(engine, fake_slack, clock)
    clock.advance(days=2)  # Wednesday 25 November, 15:00 UTC


def press(cadence: str, fake_slack, user: str, action_id: str, value: str) -> int:
    return interaction(cadence, {
        "type": "block_actions", "user": {"id": user, "team_id": CRO_TEAM}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": CRO_TEAM}, "channel": {"id": "D" + user[1:]},
        "response_url": f"{fake_slack.url}response/{action_id}",
        "actions": [{"action_id": action_id, "block_id": "minutes", "value": value, "type": "button", "action_ts": "1.1"}],
    })  # fmt: skip


def ask_for_a_link(cadence: str, engine, fake_slack, clock, user: str, team: str) -> str:
    """`/cadence dashboard` as a signed Slack command; the link read off the DM Cadence then sends."""
    answer = post_command(cadence, "/cadence", "dashboard", user_id=user, team_id=team)
    assert answer.status == 200 and "sent you a sign-in link" in answer.text, answer.text
    before = len(fake_slack.posted)
    deliver(engine, fake_slack, clock)
    to_them = [p for p in fake_slack.posted[before:] if p.channel == "D" + user[1:]]
    (link,) = {link for p in to_them for link in LINK.findall(p.text + json.dumps(p.blocks))}
    return link


def follow_the_link(page, link: str, screenshot=None) -> None:
    """Open the link and press Continue: the study's dashboard."""
    assert page.goto(link).status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in to Cadence"
    if screenshot:
        assert_accessible(page)
        screenshot(page, "sign-in-link")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(rf"/app/{STUDY}/$"))


def h1(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def row(page, heading: str, text: str):
    """The row of the table under `heading` whose header cell holds `text`."""
    table = page.locator(f"table[aria-labelledby={page.get_by_role('heading', name=heading).get_attribute('id')}]")
    return table.get_by_role("row").filter(has_text=text)


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


def test_a_sponsor_person_signs_in_with_the_link_from_slack_and_sees_the_study_in_chicago_time(
    cadence, two_days_of_work, engine, fake_slack, clock, new_person, screenshot
):
    ben = new_person(timezone="America/Chicago")
    follow_the_link(ben, ask_for_a_link(cadence, engine, fake_slack, clock, BEN, SPONSOR_TEAM), screenshot)
    assert h1(ben).startswith(f"{STUDY} — ")
    assert "Signed in as Ben Okafor" in ben.locator("header").inner_text()
    main = ben.get_by_role("main").inner_text()
    print(main)
    assert_accessible(ben)
    screenshot(ben, "dashboard")
