"""Calendar feeds, end to end: `/cadence calendar` over signed Slack HTTP sends the address by direct message
(through the fake Slack), the served app answers `GET /calendar/<token>.ics`, and what it serves is parsed
back with icalendar: meetings repeating with their skips, milestones, action items, check-in days, each
event keeping its UID and going up a SEQUENCE when it moves; a reset address stops working."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import loopback_socket, serve_in_thread
from tests.payloads import ALICE, BEN, RAJ, post_command
from tests.slack.test_checkin_http import deliver

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # a Tuesday: 09:00 in New York, 15:00 in Warsaw
MEETING = "meeting-weekly-sponsor-cro-call@acme-201.cadence"
SKIPPED_CALLS = ("2026-12-24", "2026-12-31")  # Thursdays


def plan_text(**replaced: str) -> str:
    """The example plan ending on 30 June 2027, its weekly call skipping two Thursdays, with further
    replacements."""
    text = EXAMPLE_PLAN.read_text().replace("  id: ACME-201\n", "  id: ACME-201\n  end: 2027-06-30\n")
    text = text.replace(
        "    attendees: [alice, ben, raj, sofia, omar]\n",
        f"    attendees: [alice, ben, raj, sofia, omar]\n    skip: [{', '.join(SKIPPED_CALLS)}]\n",
    )
    for old, new in replaced.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def url(settings, engine, study, clock):
    """Cadence served on loopback, whose public address (CADENCE_PUBLIC_URL) is that one."""
    run_in_session(engine, apply_plan, plan=load_plan(plan_text()), actor="test")
    sock, url = loopback_socket()
    app = build_app(replace(settings, public_url=url + "/"), engine, clock=clock)
    url, stop = serve_in_thread(build_asgi(app, engine, clock=clock), sock)
    yield url
    stop()


def fetch(address: str, method: str = "GET") -> tuple[int, Any, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(address, method=method), timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def address_sent(url, engine, fake_slack, clock, user: str, text: str = "calendar") -> tuple[str, Any]:
    """Ask for a calendar address with the slash command; the address and the direct message it came in."""
    answer = post_command(url, "/cadence", text, user_id=user)
    assert "is on its way by direct message" in answer.text, answer.text
    deliver(engine, fake_slack, clock)
    dm = [p for p in fake_slack.posted if (p.key or "").startswith("calendar:")][-1]
    [address] = re.findall(r"http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{43}\.ics", dm.text)
    return address, dm


def feed(address: str) -> icalendar.Calendar:
    status, headers, body = fetch(address)
    assert status == 200, body
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Cache-Control"].startswith("private")
    return icalendar.Calendar.from_ical(body)


def events(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def valid(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    """The feed's events by UID, once every property RFC 5545 requires (and we promise) is there."""
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"]).startswith("-//Cadence//")
    found = events(calendar)
    assert found, "an empty feed"
    for uid, event in found.items():
        assert re.fullmatch(r"[a-z]+-[a-z0-9-]+@acme-201\.cadence", uid)
        for name in ("DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "LAST-MODIFIED"):
            assert name in event, f"{uid} lacks {name}"
        assert event.decoded("DTSTAMP").tzinfo is not None  # a UTC stamp, as RFC 5545 wants
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    timed = {str(e["DTSTART"].params["TZID"]) for e in found.values() if "TZID" in e["DTSTART"].params}
    assert timed <= zones  # every zone an event names is described in the feed
    return found


def test_the_address_comes_by_direct_message_and_the_feed_holds_the_persons_dates(
    url, engine, fake_slack, clock
):
    address, dm = address_sent(url, engine, fake_slack, clock, RAJ)
    assert dm.channel == "D02RAJ"
    assert "Outlook" in dm.text + str(dm.blocks) and "Google Calendar" in str(dm.blocks)
    assert "/cadence calendar reset" in str(dm.blocks)
    found = valid(feed(address))

    call = found[MEETING]
    assert call.decoded("DTSTART").tzinfo == ZoneInfo("America/New_York")
    assert call.decoded("DTSTART").strftime("%a %H:%M") == "Thu 15:00"
    assert call.decoded("DTEND") - call.decoded("DTSTART") == timedelta(hours=1)
    rule = call["RRULE"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["TH"]
    assert rule["UNTIL"] == [datetime(2027, 6, 30, 23, 59, 59, tzinfo=ZoneInfo("America/New_York"))]
    skipped = [d.dt for d in call["EXDATE"].dts]
    assert [d.date().isoformat() for d in skipped] == list(SKIPPED_CALLS)
    assert all(d.strftime("%H:%M") == "15:00" and d.tzinfo == ZoneInfo("America/New_York") for d in skipped)
    assert "America/New_York" in {str(tz["TZID"]) for tz in feed(address).walk("VTIMEZONE")}

    assert found["milestone-first-patient-in@acme-201.cadence"].decoded("DTSTART") == date(2027, 1, 15)
    assert str(found["milestone-database-lock@acme-201.cadence"]["SUMMARY"]) == "Due: Database lock"

    checkin = found["checkin-raj@acme-201.cadence"]
    assert checkin["RRULE"]["BYDAY"] == ["MO"] and checkin.decoded("DTSTART").weekday() == 0
    assert checkin["RRULE"]["UNTIL"] == [date(2027, 6, 30)]
    assert [d.dt for d in checkin["EXDATE"].dts] == [date(2026, 12, 28), date(2027, 1, 4)]
    assert not any(uid.startswith("action-") for uid in found)  # Raj has no dated action yet


def test_an_event_keeps_its_uid_and_goes_up_a_sequence_when_it_moves(url, engine, fake_slack, clock):
    address, _ = address_sent(url, engine, fake_slack, clock, RAJ)
    added = post_command(url, "/actions", "add @raj send the monitoring plan by 2026-12-11", user_id=RAJ)
    [number] = re.findall(r"A(\d+)", added.text)[:1]
    first_body = fetch(address)[2]
    clock.advance(hours=1)
    assert fetch(address)[2] == first_body  # nothing changed: the same feed, byte for byte, stamps and all
    action = f"action-{number}@acme-201.cadence"
    before = valid(feed(address))
    assert before[action].decoded("DTSTART") == date(2026, 12, 11) and before[action]["SEQUENCE"] == 0
    assert str(before[action]["SUMMARY"]) == f"A{number} Send the monitoring plan (Raj Patel)"

    clock.advance(hours=1)
    moved = post_command(url, "/actions", f"move A{number} 2026-12-18 waiting for the IRB", user_id=RAJ)
    assert "Dec" in moved.text or "18" in moved.text, moved.text
    after = valid(feed(address))
    assert set(after) == set(before)  # the same UIDs: the calendar moves the event, it adds none
    assert after[action].decoded("DTSTART") == date(2026, 12, 18) and after[action]["SEQUENCE"] == 1
    assert after[action].decoded("LAST-MODIFIED") == clock.now()
    assert after[MEETING]["SEQUENCE"] == 0 and after[MEETING].decoded("DTSTAMP") == NOW  # untouched

    clock.advance(hours=1)
    post_command(url, "/actions", f"done A{number}", user_id=RAJ)
    done = valid(feed(address))[action]
    assert str(done["SUMMARY"]).startswith("Done: ") and done["SEQUENCE"] == 2
    assert str(done["TRANSP"]) == "TRANSPARENT"


def test_a_milestones_new_due_date_and_forecast_move_it_in_place(url, engine, fake_slack, clock):
    address, _ = address_sent(url, engine, fake_slack, clock, RAJ)
    uid = "milestone-first-patient-in@acme-201.cadence"
    assert valid(feed(address))[uid]["SEQUENCE"] == 0

    clock.advance(days=1)
    changed = plan_text(**{"due: 2027-01-15, owner: raj": "due: 2027-01-22, owner: raj"})
    run_in_session(engine, apply_plan, plan=load_plan(changed), actor="test")
    after = valid(feed(address))
    assert after[uid].decoded("DTSTART") == date(2027, 1, 22) and after[uid]["SEQUENCE"] == 1

    post_command(
        url, "/milestones", "update first patient at-risk forecast 2027-02-05 sites late", user_id=RAJ
    )
    forecast = valid(feed(address))["forecast-first-patient-in@acme-201.cadence"]
    assert forecast.decoded("DTSTART") == date(2027, 2, 5) and "Forecast" in str(forecast["SUMMARY"])


def test_away_weeks_leave_the_persons_checkins_out(url, engine, fake_slack, clock):
    address, _ = address_sent(url, engine, fake_slack, clock, RAJ)
    assert valid(feed(address))["checkin-raj@acme-201.cadence"]["SEQUENCE"] == 0
    post_command(url, "/away", "until 2026-12-15", user_id=RAJ)
    checkin = valid(feed(address))["checkin-raj@acme-201.cadence"]
    assert [d.dt for d in checkin["EXDATE"].dts] == [
        date(2026, 12, 7),
        date(2026, 12, 14),
        date(2026, 12, 28),
        date(2027, 1, 4),
    ]
    assert checkin["SEQUENCE"] == 1  # the feed was read before the away weeks: the event moved


def test_a_reset_address_stops_working_and_only_a_live_token_opens_a_feed(url, engine, fake_slack, clock):
    old, _ = address_sent(url, engine, fake_slack, clock, RAJ)
    again = post_command(url, "/cadence", "calendar", user_id=RAJ).text
    assert "came to you by direct message on Tue 01 Dec 2026" in again and "calendar reset" in again

    answer = post_command(url, "/cadence", "calendar reset", user_id=RAJ)
    assert "the address you had stops working now" in answer.text
    deliver(engine, fake_slack, clock)
    dm = [p for p in fake_slack.posted if (p.key or "").startswith("calendar:")][-1]
    [new] = re.findall(r"http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{43}\.ics", dm.text)
    assert new != old
    nothing_here = fetch(url + "/nothing-here")
    assert nothing_here[0] == 404
    assert (fetch(old)[0], fetch(old)[2]) == (404, nothing_here[2])  # the server's one 404
    assert fetch(new)[0] == 200 and fetch(new, "HEAD")[0] == 200

    token = new.rsplit("/", 1)[1].removesuffix(".ics")
    altered = ("B" if token[0] != "B" else "C") + token[1:]
    for path in (f"/calendar/{altered}.ics", f"/calendar/{token}.ICS", f"/calendar/{token}", "/calendar/",
                 "/calendar/1.ics", f"/calendar/{token}.ics/x"):  # fmt: skip
        code, _, body = fetch(url + path)
        assert (code, body) == (404, nothing_here[2]), path  # the same answer whatever was wrong
    assert fetch(new, "POST")[0] == 405
    assert fetch(url + "/healthz")[0] == 200


def test_the_study_feed_shows_everyones_actions_and_the_study_checkin(url, engine, fake_slack, clock):
    post_command(url, "/actions", "add @ben approve the budget by 2026-12-10", user_id=RAJ)
    mine, _ = address_sent(url, engine, fake_slack, clock, RAJ)
    study, dm = address_sent(url, engine, fake_slack, clock, RAJ, "calendar study")
    assert "ACME-201's calendar" in dm.text and study != mine
    everyone = valid(feed(study))
    [budget] = [e for e in everyone.values() if "pprove the budget" in str(e["SUMMARY"])]
    assert "Ben Okafor" in str(budget["SUMMARY"])
    assert "checkin-study@acme-201.cadence" in everyone and MEETING in everyone
    assert not any("pprove the budget" in str(e["SUMMARY"]) for e in valid(feed(mine)).values())
    # The same event in both feeds is the same, SEQUENCE and all: a calendar holding both agrees with itself.
    assert everyone[MEETING].to_ical() == events(feed(mine))[MEETING].to_ical()


def test_without_a_public_address_the_command_says_what_must_be_set(settings, engine, study, clock):
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine, clock=clock))
    answer = post_command(url, "/cadence", "calendar", user_id=BEN).text
    assert "Calendar feeds are not switched on here" in answer and "CADENCE_PUBLIC_URL" in answer
    assert "does not know" in post_command(url, "/cadence", "calendar please", user_id=BEN).text
    stop()


def test_the_console_sends_the_address_as_a_direct_message(engine, study, clock):
    from bot.outbox import DeliveryWorker
    from handlers.console.console import ConsoleSession
    from handlers.console.notifier import ConsoleNotifier

    chat = ConsoleSession(
        engine, study_key="ACME-201", handle="omar", clock=clock, web_url="https://cadence.example.org"
    )
    assert "is on its way by direct message" in chat.say("/cadence calendar")
    shown: list[str] = []
    DeliveryWorker(engine, ConsoleNotifier(shown.append), clock).drain()
    [dm] = shown
    assert dm.startswith("[DM to @omar]")
    assert re.search(r"https://cadence\.example\.org/calendar/[A-Za-z0-9_-]{43}\.ics", dm)
    assert "calendar" in chat.say("/cadence help")


def test_a_done_milestone_and_a_dropped_action_show_as_they_stand(url, engine, fake_slack, clock):
    address, _ = address_sent(url, engine, fake_slack, clock, RAJ)
    post_command(
        url, "/milestones", "update first patient at-risk forecast 2027-02-05 sites late", user_id=RAJ
    )
    post_command(url, "/minutes", "Call. ACTION @raj draft the site letter by 2026-12-09", user_id=RAJ)
    post_command(url, "/minutes", "post M1", user_id=RAJ)
    before = valid(feed(address))
    assert "forecast-first-patient-in@acme-201.cadence" in before
    [letter] = [uid for uid, e in before.items() if "site letter" in str(e["SUMMARY"])]

    post_command(url, "/milestones", "done first patient", user_id=RAJ)
    post_command(url, "/minutes", "correct M1 Call. Nothing to do after all.", user_id=RAJ)
    post_command(url, "/minutes", "post M2", user_id=RAJ)
    after = valid(feed(address))
    milestone = after["milestone-first-patient-in@acme-201.cadence"]
    assert str(milestone["SUMMARY"]) == "Done, awaiting acceptance: First patient in"
    assert milestone["SEQUENCE"] == 1 and str(milestone["TRANSP"]) == "TRANSPARENT"
    assert "forecast-first-patient-in@acme-201.cadence" not in after  # done: no forecast to keep
    assert letter not in after  # dropped by the corrected minutes

    post_command(url, "/milestones", "accept first patient", user_id=ALICE)
    accepted = valid(feed(address))["milestone-first-patient-in@acme-201.cadence"]
    assert str(accepted["SUMMARY"]) == "Accepted: First patient in" and accepted["SEQUENCE"] == 2


def test_someone_who_leaves_the_plan_loses_their_feed(url, engine, fake_slack, clock):
    address, _ = address_sent(url, engine, fake_slack, clock, "U02TOM")
    toms = valid(feed(address))  # Tom attends no meeting and is asked no check-in: the milestones only
    assert sorted(uid.split("-")[0] for uid in toms) == ["milestone"] * 3
    without_tom = plan_text(
        **{
            "who: [tom, alice]": "who: [alice]",
            "who: [dev, tom]": "who: [dev]",
            "  tom:   {name: Tom Becker,    side: cro,     role: Director, Clinical Ops,     slack: U02TOM,   email: tom@cro.example,    timezone: Europe/Berlin}\n": "",
        }
    )
    run_in_session(engine, apply_plan, plan=load_plan(without_tom), actor="test")
    assert fetch(address)[:1] == (404,)


def test_fetches_at_once_raise_a_moved_events_sequence_once(url, engine, fake_slack, clock):
    """Each fetch compares the event with what was last served; only one of them may count the move."""
    address, _ = address_sent(url, engine, fake_slack, clock, RAJ)
    post_command(url, "/actions", "add @raj send the monitoring plan by 2026-12-11", user_id=RAJ)
    fetch(address)
    post_command(url, "/actions", "move A1 2026-12-18 waiting for the IRB", user_id=RAJ)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: fetch(address), range(16)))
    # SQLite may answer a fetch that lost the race for the write "busy" (503, Retry-After): never a 500.
    assert {status for status, _, _ in answers} <= {200, 503}
    served = [icalendar.Calendar.from_ical(body) for status, _, body in answers if status == 200]
    assert served and {events(c)["action-1@acme-201.cadence"]["SEQUENCE"] for c in served} == {1}
    assert events(feed(address))["action-1@acme-201.cadence"]["SEQUENCE"] == 1
