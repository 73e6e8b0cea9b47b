"""Cadence's web pages in a real browser (Debian's Chromium, through Playwright): `cadence serve` with
Slack configured on loopback, the fake Slack Web API taking its messages, the example study (ACME-201).
People sign in the real way: a signed `/cadence dashboard` from Slack, the link read off the direct
message Cadence sends, opened in the browser; or "Sign in with …" through a fake OpenID provider.
Each page a test opens is checked with axe-core and kept as a screenshot in tests/browser/artifacts/."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from schedules import jobs
from tests.browser.conftest import assert_accessible
from tests.fake_oidc import EntraUser, SlackUser
from tests.payloads import BEN, CRO_TEAM, MEI, RAJ, SPONSOR_TEAM, STRANGER, post_command, trigger_id
from tests.slack.test_checkin_http import deliver, interaction
from tests.test_checkins import worker
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
    raised = post_command(
        cadence, "/escalate", "high Temperature excursion on kit shipment", user_id=SOFIA, team_id=CRO_TEAM
    )
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


def tab_to(page, name: str, presses: int = 8) -> None:
    """Press Tab until the element named `name` has the focus; fails when it is not reachable so."""
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("(document.activeElement.textContent || '').trim()"))
        if seen[-1] == name:
            return
    raise AssertionError(f"{name!r} not reached with Tab; the focus went through {seen}")


def h1(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def row(page, heading: str, text: str):
    """The row of the table under `heading` whose header cell holds `text`."""
    table = page.locator(
        f"table[aria-labelledby={page.get_by_role('heading', name=heading).get_attribute('id')}]"
    )
    return table.get_by_role("row").filter(has_text=text)


def test_a_stranger_gets_the_403_page_that_says_how_to_sign_in(cadence, new_person, screenshot):
    page = new_person()
    for path in ("/app/", f"/app/{STUDY}/", f"/app/{STUDY}/me", f"/app/{STUDY}/plan", f"/app/{STUDY}/export"):
        assert page.goto(cadence + path).status == 403, path
        assert h1(page) == "This page is not available to you", path
        assert "/cadence dashboard" in page.get_by_role("main").inner_text(), path
        assert STUDY not in page.get_by_role("main").inner_text(), path  # nothing of the study is shown
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
    assert h1(ben) == f"{STUDY} — ACME-201 Phase II: topical retinoid, 28-day wrinkle reduction"
    assert "Signed in as Ben Okafor" in ben.locator("header").inner_text()
    assert "As of Wed 25 Nov 2026, 09:00 CST" in ben.get_by_role("main").inner_text()
    # Escalated Monday 15:00 UTC, level 1 within 2h: 11:00 in Chicago, past; his own action item is late.
    issue = row(ben, "Open escalations", f"{STUDY}-E1: Temperature excursion on kit shipment")
    assert "Mon 23 Nov 2026, 11:00 CST (late)" in issue.inner_text()
    assert "Raj Patel, Ben Okafor" in issue.inner_text()
    assert "Tue 24 Nov 2026 (late)" in row(ben, "Action items", "Confirm the kit shipment").inner_text()
    assert (
        "Mei Lin" in row(ben, "Questions waiting", "Is the SAE narrative for patient 12 filed?").inner_text()
    )
    chart = ben.get_by_role("img", name=re.compile("Each KPI week by week"))
    chart.scroll_into_view_if_needed()
    ben.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
    assert_accessible(ben)
    screenshot(ben, "dashboard")

    ben.get_by_role("link", name="What waits on me").click()
    assert h1(ben) == f"What waits on you in {STUDY}" and ben.url.endswith(f"/app/{STUDY}/me")
    assert "Confirm the kit shipment" in ben.get_by_role("main").inner_text()
    assert_accessible(ben)
    screenshot(ben, "me")

    ben.get_by_role("link", name="The study").click()
    ben.get_by_role("link", name="The plan").click()
    assert h1(ben) == f"{STUDY}: the plan as it stands"
    assert "Budget and invoices" in row(ben, "Topics and owners", "Budget and invoices").inner_text()
    assert ben.get_by_role("link", name="Preview the next two weeks").count() == 0  # for admins only
    assert_accessible(ben)
    screenshot(ben, "plan")
    assert ben.goto(f"{cadence}/app/{STUDY}/plan/preview").status == 403
    assert f"Only {STUDY}'s admins can open this page." in ben.get_by_role("main").inner_text()
    assert_accessible(ben)
    screenshot(ben, "preview-refused")
    ben.get_by_role("link", name="Your studies").click()
    assert h1(ben) == "Your studies"
    assert_accessible(ben)
    screenshot(ben, "studies")

    # Click through to the escalation, then sign out from the keyboard.
    ben.get_by_role("link", name=re.compile(rf"^{STUDY} — ")).click()
    assert row(ben, "Open escalations", f"{STUDY}-E1").is_visible()
    ben.get_by_role("button", name="Sign out").focus()
    ben.keyboard.press("Enter")
    ben.wait_for_url(f"{cadence}/app/signed-out")
    assert h1(ben) == "You are signed out"
    assert_accessible(ben)
    screenshot(ben, "signed-out")
    assert ben.goto(f"{cadence}/app/{STUDY}/").status == 403


def test_a_cro_person_signs_in_from_the_keyboard_and_sees_warsaw_time_and_what_waits_on_her(
    cadence, two_days_of_work, engine, fake_slack, clock, new_person, screenshot
):
    mei = new_person(timezone="Europe/Warsaw")
    assert mei.goto(ask_for_a_link(cadence, engine, fake_slack, clock, MEI, CRO_TEAM)).status == 200
    tab_to(mei, "Continue")  # past the brand link: the form's button, reached with Tab alone
    mei.keyboard.press("Enter")
    mei.wait_for_url(re.compile(rf"/app/{STUDY}/$"))
    assert "Signed in as Mei Lin" in mei.locator("header").inner_text()
    assert "As of Wed 25 Nov 2026, 16:00 CET" in mei.get_by_role("main").inner_text()
    issue = row(mei, "Open escalations", f"{STUDY}-E1")
    assert "Mon 23 Nov 2026, 18:00 CET (late)" in issue.inner_text()
    assert "Tue 24 Nov 2026, 11:00 CET (late)" in row(mei, "Questions waiting", "SAE narrative").inner_text()
    assert_accessible(mei)
    screenshot(mei, "dashboard")

    mei.get_by_role("link", name="What waits on me").click()
    waiting = mei.get_by_role("main").inner_text()
    assert "Is the SAE narrative for patient 12 filed?" in waiting and "Send the diary cards" in waiting
    assert "Confirm the kit shipment" not in waiting  # Ben's, not hers
    assert_accessible(mei)
    screenshot(mei, "me")

    mei.get_by_role("link", name="The study").click()
    mei.get_by_role("link", name="The plan").click()
    assert "Mei Lin" in row(mei, "Topics and owners", "Safety reporting").inner_text()
    assert mei.get_by_role("link", name=re.compile("Trial Master File export")).count() == 0
    assert_accessible(mei)
    screenshot(mei, "plan")
    mei.get_by_role("link", name="Cadence", exact=True).click()
    assert h1(mei) == "Your studies" and "(Drug Safety Lead)" in mei.get_by_role("main").inner_text()
    assert_accessible(mei)
    screenshot(mei, "studies")


def test_an_admin_previews_the_next_two_weeks_and_downloads_the_export(
    cadence, two_days_of_work, engine, fake_slack, clock, new_person, screenshot
):
    raj = new_person(timezone="Europe/Warsaw")
    follow_the_link(raj, ask_for_a_link(cadence, engine, fake_slack, clock, RAJ, CRO_TEAM))
    assert row(raj, "Open escalations", f"{STUDY}-E1").is_visible()
    raj.get_by_role("link", name="What waits on me").click()
    assert h1(raj) == f"What waits on you in {STUDY}"
    assert_accessible(raj)
    screenshot(raj, "me")
    raj.get_by_role("link", name="The study").click()
    raj.get_by_role("link", name="The plan").click()
    assert "Raj Patel (admin)" in row(raj, "People", "Raj Patel").inner_text()
    assert_accessible(raj)
    screenshot(raj, "plan")

    # The preview runs `cadence simulate` for 14 days in a child process, which takes seconds: the first
    # look starts it (the page says it is being prepared); the export is asked for meanwhile.
    raj.get_by_role("link", name="Preview the next two weeks").click()
    assert h1(raj) == f"{STUDY}: the next 14 days in simulated time"
    assert_accessible(raj)
    screenshot(raj, "preview-first-look")

    # The export: asked for with the form (from the keyboard), built by the tick, offered once built.
    raj.get_by_role("link", name="Back to the plan").click()
    raj.get_by_role("link", name=re.compile("Trial Master File export")).click()
    assert h1(raj) == f"{STUDY}: Trial Master File export"
    assert_accessible(raj)
    raj.get_by_label(re.compile("^From")).fill("2026-11-01")
    raj.get_by_label(re.compile("^To")).focus()
    tab_to(raj, "Build the export")  # through the date field's day, month and year
    raj.keyboard.press("Enter")
    raj.get_by_text("being built").wait_for()
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    jobs.tick()
    download_link = raj.get_by_role("link", name=f"Download {STUDY}-tmf-2026-11-01-2026-11-25.zip")
    download_link.wait_for(timeout=30_000)  # the page looks again by itself (Refresh, every 5 s)
    assert_accessible(raj)
    screenshot(raj, "export")
    with raj.expect_download() as downloading:
        download_link.click()
    download = downloading.value
    assert download.suggested_filename == f"{STUDY}-tmf-2026-11-01-2026-11-25.zip"
    names = zipfile.ZipFile(download.path()).namelist()
    assert {f"{STUDY}-E1.pdf", f"{STUDY}-M1.pdf", f"{STUDY}-Q1.pdf", "index.csv"} <= set(names)

    # Back to the preview: there by now, or the page looks again by itself until it is.
    raj.get_by_role("link", name="Back to the plan").click()
    raj.get_by_role("link", name="Preview the next two weeks").click()
    preview = raj.get_by_role("table")
    preview.wait_for(timeout=120_000)
    assert preview.get_by_role("row").count() > 1
    assert_accessible(raj)
    screenshot(raj, "preview")


def test_someone_in_no_plan_gets_no_link_and_a_link_works_once_and_for_ten_minutes(
    cadence, engine, fake_slack, clock, new_person, screenshot
):
    stranger = post_command(cadence, "/cadence", "dashboard", user_id=STRANGER, team_id=SPONSOR_TEAM)
    assert stranger.status == 200 and "You are not in ACME-201's communication plan" in stranger.text
    deliver(engine, fake_slack, clock)
    assert not [p for p in fake_slack.posted if LINK.search(p.text + json.dumps(p.blocks))]

    # Ben's link, opened at once, used once: whoever opens it next gets the 403 page.
    link = ask_for_a_link(cadence, engine, fake_slack, clock, BEN, SPONSOR_TEAM)
    follow_the_link(new_person(), link)
    again = new_person()
    assert again.goto(link).status == 403
    assert "expired or was used already" in again.get_by_role("main").inner_text()
    assert_accessible(again)
    screenshot(again, "used-link")

    # A new link, opened, and Continue pressed past its ten minutes.
    late = new_person()
    late.goto(ask_for_a_link(cadence, engine, fake_slack, clock, BEN, SPONSOR_TEAM))
    clock.advance(minutes=10, seconds=1)
    late.get_by_role("button", name="Continue").click()
    late.wait_for_load_state()
    assert h1(late) == "This page is not available to you"
    assert "expired or was used already" in late.get_by_role("main").inner_text()
    assert_accessible(late)
    screenshot(late, "expired-link")
    assert late.goto(f"{cadence}/app/{STUDY}/").status == 403  # nobody was signed in
