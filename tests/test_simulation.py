"""The study over time: a month of the example plan through the live bot's tick, check-in schedules and
outbox (`cadence simulate`'s engine), across the US and EU daylight-saving changes (14 and 28 March
2027), weekends and a skip date. Each scheduled flow the README describes is checked at its local
times, nothing is sent twice, and a flow left out of the registry of due work fails its check."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import due, timeline
from bot.cli import simulate_plan
from bot.config import EXAMPLE_PLAN
from bot.plan import load_plan
from handlers.console.recorder import Received
from schedules.simulation import ScriptProblem, person_stats

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2027, 3, 8, tzinfo=NEW_YORK)  # a Monday, before both daylight-saving changes
END = datetime(2027, 4, 5, tzinfo=NEW_YORK)
SKIPPED_MONDAY = date(2027, 3, 22)

# What people type, each in their own time. Everything else Cadence does on its own.
SCRIPT = """
# week 1: Raj answers his check-in; Alice asks the safety lead and nobody answers
2027-03-08 10:00 @raj /checkin answer on track; site 3 activated; SIV at site 4; none
2027-03-10 10:00 @alice /ask Is the SAE narrative for subject 104 due this week?
# Thursday's call: Raj posts the minutes, with an action for Omar due Friday next week
2027-03-11 22:30 @raj /minutes ACTION @omar send the data cleaning plan by 2027-03-19
2027-03-11 22:31 @raj /minutes post M1
# Friday afternoon: a high issue nobody acknowledges over the weekend
2027-03-12 16:00 @ben /escalate high Temperature excursion on kit shipment
2027-03-12 17:00 @mei /away until 2027-03-16 cover @raj
# week 2: Carla answers after the digest; nobody posts minutes of Thursday's call
2027-03-16 16:00 @carla /checkin answer at risk; IRB letter pending; submit amendment; IRB delay
# week 3: no check-in (skip date); Omar confirms his topics when asked, nobody else does
2027-03-23 10:00 @omar /who-owns confirm
2027-03-25 23:00 @raj /minutes Weekly call notes, nothing new
2027-03-25 23:01 @raj /minutes post M2
2027-04-01 23:00 @raj /minutes Weekly call notes, nothing new
2027-04-01 23:01 @raj /minutes post M3
# the pulse (third Monday, 10:00 each one's time): three of each side rate the other; Dev and Sofia
# stay silent
2027-03-15 16:00 @raj /cadence pulse answer 4
2027-03-15 16:10 @omar /cadence pulse answer 3 quick answers on safety
2027-03-15 16:20 @tom /cadence pulse answer 5
2027-03-15 11:00 @alice /cadence pulse answer 4
2027-03-15 10:30 @ben /cadence pulse answer 2
2027-03-15 16:30 @carla /cadence pulse answer 5
"""


STUDY_END = date(2027, 3, 31)  # a Wednesday: the close-out review comes the next morning


def example_plan_text() -> str:
    text = EXAMPLE_PLAN.read_text()
    # The study runs since February (so the pulse has a month of working together to rate) to the end of
    # March, after Cadence was set up on 8 March.
    text = text.replace(
        "  admins: [alice, raj]", f"  start: 2027-02-01\n  end: {STUDY_END}\n  admins: [alice, raj]"
    )
    text = text.replace("skip: [2026-12-28, 2027-01-04]", f"skip: [{SKIPPED_MONDAY}]")
    text = text.replace("cadence:\n", "cadence:\n  confirm_every: 14d\n", 1)
    return text + "\npulse: {schedule: third mon 10:00}\n"


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> list[Received]:
    return simulate_month(tmp_path_factory)


def simulate_month(tmp_path_factory) -> list[Received]:
    from tests.conftest import POSTGRES_URL, postgres_schema

    plan = load_plan(example_plan_text())
    if POSTGRES_URL:
        with postgres_schema("sim") as url:
            return simulate_plan(plan, url, START, END, SCRIPT).received
    folder = tmp_path_factory.mktemp("month")
    return simulate_plan(plan, f"sqlite:///{folder / 'm.db'}", START, END, SCRIPT).received


def of(received: list[Received], kind: str, to: str | None = None) -> list[Received]:
    """What came of `kind`, alone or as an item of a digest."""
    items = (part for r in received for part in (r.parts or (r,)))
    return [r for r in items if r.kind == kind and (to is None or r.to == to)]


def local(r: Received) -> str:
    return f"{r.local:%Y-%m-%d %H:%M}"


# --- one check a registered flow: what it does on its own, at its local times ----------------------------


def check_checkins(month: list[Received]) -> None:
    prompts = of(month, "checkin_prompt")
    participants = {"@alice", "@ben", "@carla", "@raj", "@mei", "@omar", "@sofia"}
    by_monday = Counter(r.local.date() for r in prompts)
    # Not the skip date. Monday 29 March 2027 is Easter Monday, a public holiday in Poland, Czechia and
    # Italy: the Europeans' prompts wait for their Tuesday 09:00 (before working calendars, Monday's).
    assert set(by_monday) == {date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 29), date(2027, 3, 30)}
    europeans = {"@carla", "@raj", "@mei", "@omar", "@sofia"}
    assert {r.to for r in prompts if r.local.date() == date(2027, 3, 30)} == europeans
    assert all(f"{r.local:%H:%M}" == "09:00" for r in prompts)  # each in their own time
    assert {r.to for r in prompts if r.local.date() == date(2027, 3, 15)} == participants - {"@mei"}  # away
    # The same 09:00 moves in UTC as each side changes its clocks, at different dates.
    utc = {(r.to, r.local.date()): f"{r.at:%H:%M}" for r in prompts}
    assert [utc["@alice", d] for d in (date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 29))] == [
        "14:00",
        "13:00",
        "13:00",
    ]
    assert [utc["@raj", d] for d in (date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 30))] == [
        "08:00",
        "08:00",
        "07:00",
    ]
    reminders = of(month, "checkin_reminder")
    assert all(f"{r.local:%H:%M}" == "13:00" for r in reminders)  # 4 working hours later
    first_week = {r.to for r in reminders if r.local.date() == date(2027, 3, 8)}
    assert first_week == participants - {"@raj"}  # Raj answered first
    digests = of(month, "checkin_digest", "#C0STUDY")
    # close_after a day after the last prompt (Ben's 09:00 in Chicago)
    assert [local(r) for r in digests] == ["2027-03-09 10:00", "2027-03-16 10:00", "2027-03-30 10:00"]
    assert "On track @raj" in digests[0].text and "No answer from" in digests[0].text
    late = of(month, "checkin_late_answer", "#C0STUDY")  # in the digest's thread
    assert len(late) == 1 and "@carla (late)" in late[0].text


def check_escalation(month: list[Received]) -> None:
    notified = [(r.to, f"{r.local:%a %d %H:%M}") for r in of(month, "escalation_notify")]
    # Raised Friday 16:00 New York (22:00 in Warsaw). Before working calendars Raj was told at 23:00 his
    # time, and the issue climbed through the weekend (Tom at 01:00 on Saturday). Now a `high` issue waits:
    # Raj hears at his Monday 09:00, and high halves the 4h to two of his working hours ...
    assert ("@raj", "Mon 15 09:00") in notified  # Ben raised it himself: he is not asked to pick it up
    assert "@ben" not in {to for to, _ in notified}
    # ... so the study leads have it at 11:00 Warsaw time: Tom (Berlin) then, Alice at her 09:00 ...
    assert ("@tom", "Mon 15 11:00") in notified and ("@alice", "Mon 15 09:00") in notified
    # ... and half a business day (4.5 working hours) of the earlier of them, Tom, later the executives;
    # then three reminders at that interval of the earliest of theirs, in their working hours.
    executives = [when for to, when in notified if to == "@dev"]
    assert executives == ["Mon 15 10:30", "Mon 15 15:00", "Tue 16 09:00", "Tue 16 13:00"]


def check_questions(month: list[Received]) -> None:
    # Safety reporting answers within 4h of Mei's working time: asked Wednesday 10:00 New York (16:00 for
    # her), two hours that day and two the next, so she is reminded Thursday 11:00; four working hours
    # on, the backup, Raj, is brought in and Alice told at her 09:00. (Before working calendars Mei was
    # reminded at 20:00 and Raj brought in at midnight.)
    assert [local(r) for r in of(month, "question_reminder")] == ["2027-03-11 11:00"]
    assert of(month, "question_reminder")[0].to == "@mei"
    backup = of(month, "question_backup")
    assert [(r.to, local(r)) for r in backup] == [("@raj", "2027-03-11 15:00")]
    assert [local(r) for r in of(month, "question_backup_asker", "@alice")] == ["2027-03-11 09:00"]


def check_action_reminders(month: list[Received]) -> None:
    reminders = of(month, "action_reminder", "@omar")
    days = [f"{r.local:%a %d %H:%M}" for r in reminders]
    # Due Friday 19: the business day before, the day, then five business-day nudges (none on the weekend).
    assert days == [
        "Thu 18 09:00",
        "Fri 19 09:00",
        "Mon 22 09:00",
        "Tue 23 09:00",
        "Wed 24 09:00",
        "Thu 25 09:00",
        "Fri 26 09:00",
    ]


def check_minutes_chase(month: list[Received]) -> None:
    # Only the call of 18 March had no minutes: a day after it ended (16:00 New York, 21:00 for Raj), then
    # a day later; both fall outside working hours (Friday evening, Saturday), so each waits for Monday
    # 09:00 of whoever is told (before working calendars: Friday 21:00 and Saturday).
    assert [local(r) for r in of(month, "minutes_chase", "@raj")] == ["2027-03-22 09:00"]
    admins = of(month, "minutes_chase_admins")
    assert sorted((r.to, local(r)) for r in admins) == [
        ("@alice", "2027-03-22 09:00"),
        ("@raj", "2027-03-22 09:00"),
    ]


def check_reviews(month: list[Received]) -> None:
    # 14 days after the plan's application (Monday 8 March, 00:00 New York) is 01:00 New York on the
    # 22nd: each owner is asked at the start of their own working day (09:00; 08:00 before working
    # calendars). A week later the admins hear, at theirs, of each owner still unconfirmed: everyone but
    # Omar; Raj on Tuesday, as Monday 29 March is Easter Monday in Poland.
    asked = {r.to: local(r) for r in of(month, "ownership_review")}
    assert set(asked) == {"@mei", "@omar", "@sofia", "@raj", "@carla", "@alice", "@ben"}
    assert set(asked.values()) == {"2027-03-22 09:00"}
    flagged = of(month, "ownership_unconfirmed")
    assert {(r.to, local(r)) for r in flagged} == {
        ("@alice", "2027-03-29 09:00"),
        ("@raj", "2027-03-30 09:00"),
    }
    # Six owners unconfirmed; each admin, asked about their own topics, is told of the five others only.
    assert len(flagged) == 5 + 5 and not any("Omar" in r.text for r in flagged)
    assert not [
        r
        for r in flagged
        if (r.to, r.text.split(" has")[0]) in {("@raj", "Raj Patel"), ("@alice", "Alice Chen")}
    ]


def check_milestones(month: list[Received]) -> None:
    # Nobody writes an update all month. First patient in (past due) and Last patient last visit (due
    # within eight weeks) are asked about weekly, a week after the plan was applied, at the start of a
    # working day of their owners' own (Warsaw, Prague; 09:00, 08:00 before working calendars), with a
    # reminder the next morning; Database lock, months away, every four weeks: not yet. After two silent
    # periods the admins hear, once each. Easter Monday (29 March) moves the third ask to Tuesday.
    asks = of(month, "milestone_ask")
    assert {r.to for r in asks} == {"@raj", "@sofia"}
    raj = [local(r) for r in asks if r.to == "@raj"]
    assert raj == [f"2027-03-{d} 09:00" for d in ("15", "16", "22", "23", "30", "31")]  # across Europe's DST
    assert sum("a reminder" in r.text for r in asks) == len(asks) // 2
    silent = of(month, "milestone_silent")  # Raj, asked about his own, is not told of its silence too
    assert sorted((r.to, local(r)) for r in silent) == [("@alice", "2027-03-22 09:00")] * 2 + [
        ("@raj", "2027-03-22 09:00")
    ]
    assert "Last patient last visit" in next(r.text for r in silent if r.to == "@raj")


def check_reports(month: list[Received]) -> None:
    reports = of(month, "report", "#C0STUDY")
    assert [local(r) for r in reports] == [f"2027-{d} 08:00" for d in ("03-08", "03-15", "03-22", "03-29")]
    assert len(of(month, "file", "#C0STUDY")) == 4  # each with its chart
    assert "Sponsor 0%" in reports[1].text and "CRO 25%" in reports[1].text  # Raj of 4 (Carla is sponsor)


def check_pulse(month: list[Received]) -> None:
    requests = of(month, "pulse_request")
    everyone = {"@alice", "@ben", "@carla", "@dev", "@raj", "@omar", "@sofia", "@tom"}  # Mei is away
    assert {r.to for r in requests} == everyone and len(requests) == len(everyone)
    assert {local(r) for r in requests} == {"2027-03-15 10:00"}  # each at 10:00 of their own day
    assert "1 = poorly, 5 = very well" in requests[0].text
    reminders = of(month, "pulse_reminder")  # three days on, to the silent, once each
    assert sorted((r.to, local(r)) for r in reminders) == [
        ("@dev", "2027-03-18 10:00"),
        ("@sofia", "2027-03-18 10:00"),
    ]


def check_partnership_review(month: list[Received]) -> None:
    reviews = [r for r in of(month, "partnership_review", "#C0STUDY") if r.key != "close-out:ACME-201"]
    assert len(reviews) == 1
    review = reviews[0]
    assert local(review) == "2027-03-22 11:00"  # when the round closed: a week after Ben's 10:00 in Chicago
    assert (
        "CRO about the sponsor: 4.0 from 3" in review.text
        and "Sponsor about the CRO: 3.7 from 3" in review.text
    )
    assert "quick answers on safety" in review.text and "What to improve" in review.text


def check_close_out(month: list[Received]) -> None:
    # Once, the morning after the study's last day, in the channel: the review of the whole study.
    closing = [r for r in of(month, "partnership_review", "#C0STUDY") if "Close-out review" in r.text]
    assert len(closing) == 1
    closing = closing[0]
    assert local(closing) == "2027-04-01 09:00"
    assert "the whole study: Mon 01 Feb 2027 to Wed 31 Mar 2027" in closing.text
    assert "What went well" in closing.text and "What to improve" in closing.text
    # Nothing of the cadence after the end: no prompt, reminder, chase, ask or report (Raj's minutes of
    # 1 April, which he posts himself, still are).
    after = [r for r in month if r.at >= datetime(2027, 4, 1, tzinfo=NEW_YORK)]
    assert not [r for r in after if r.kind in timeline.CADENCE_KINDS or r.kind == "file"]
    assert {r.kind for r in after} - {"home"} == {"partnership_review", "minutes", "reply"}


def check_homes(month: list[Received]) -> None:
    homes = of(month, "home", "@omar")
    assert homes and homes[0].at == START.astimezone(UTC)  # published once the study starts
    with_item = [r for r in homes if "Send the data cleaning plan" in r.text]
    assert with_item and with_item[0].at.date() == date(2027, 3, 11)  # republished when the item came


def check_web_exports(month: list[Received]) -> None:
    # An export asked for on the web is built by the tick and waits on its page (tests/web): it is never
    # sent in a chat, and nobody asks for one here, so the month has no export file in it.
    assert not [r for r in month if r.kind == "export_file"]


CHECKS: dict[str, Callable[[list[Received]], None]] = {
    "checkins.do_due_work": check_checkins,
    "escalation.climb_overdue": check_escalation,
    "questions.chase": check_questions,
    "minutes.remind_actions": check_action_reminders,
    "minutes.chase_note_takers": check_minutes_chase,
    "reviews.ask_owners_to_confirm": check_reviews,
    "reports.weekly_reports": check_reports,
    "milestones.ask_for_updates": check_milestones,
    "pulse.run_pulse": check_pulse,
    "partnership.post_monthly_reviews": check_partnership_review,
    "partnership.close_out": check_close_out,
    "reports.refresh_homes": check_homes,
    "export.build_downloads": check_web_exports,
}


def test_every_registered_flow_has_its_check():
    assert set(CHECKS) == {work.name for work in due.registered()}


@pytest.mark.parametrize("flow", sorted(CHECKS))
def test_a_month_of_the_example_study(month, flow):
    CHECKS[flow](month)


def test_nothing_is_sent_twice(month):
    keys = Counter(r.key for r in month if r.key)
    assert not [key for key, n in keys.items() if n > 1]
    lines = Counter((r.to, r.kind, r.text, r.at) for r in month)
    assert not [line for line, n in lines.items() if n > 1]


def test_nobody_hears_from_cadence_in_bursts(month):
    stats = {
        s.to: s
        for s in person_stats(month, handles=load_plan(example_plan_text()).people, start=START, days=28)
    }
    assert max(s.most_at_once for s in stats.values()) <= 2
    assert max(s.messages for s in stats.values()) <= 40
    # Monday 22 March, 09:00 in Warsaw: Raj's milestone ask, the silence of Sofia's (not of his own) and
    # the review of his topics fell due together, and came as one message, each item as it reads alone.
    raj = [r for r in month if r.to == "@raj" and local(r) == "2027-03-22 09:00" and r.kind != "home"]
    assert [r.kind for r in raj] == ["digest"]
    kinds = [p.kind for p in raj[0].parts]  # with what else his working day's start brought (a chase)
    assert {"milestone_ask", "milestone_silent", "ownership_review"} <= set(kinds)
    assert raj[0].text.startswith(f"{len(kinds)} things from Cadence")
    assert (
        "/milestones update M" in raj[0].text and "/who-owns confirm" in raj[0].text
    )  # their buttons, typed


def test_the_script_answers_its_typists(month):
    replies = of(month, "reply")
    assert len(replies) == len([line for line in SCRIPT.splitlines() if line[:1].isdigit()])
    assert replies[0].to == "@raj" and local(replies[0]) == "2027-03-08 10:00"


# Work whose result shows on the web, not in any chat: the month cannot miss it, and its own proof drives the
# tick over HTTP (tests/web/test_study_pages_http.py builds an export asked for on the page).
SEEN_ONLY_ON_THE_WEB = {"export.build_downloads"}


@pytest.mark.skipif(
    bool(os.environ.get("CADENCE_TEST_DATABASE_URL")), reason="the registry is the same on any database"
)
@pytest.mark.parametrize("flow", sorted(set(CHECKS) - SEEN_ONLY_ON_THE_WEB))
def test_a_flow_left_out_of_the_registry_fails_its_check(flow, monkeypatch, tmp_path_factory):
    monkeypatch.delitem(due._WORK, flow)
    with pytest.raises((AssertionError, ScriptProblem)):  # or a typist's line finds what it needs missing
        CHECKS[flow](simulate_month(tmp_path_factory))
