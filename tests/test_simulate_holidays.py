"""Late December of a study with people in New York, Warsaw and Kolkata, through the live bot's tick,
schedules and outbox (`cadence simulate`'s engine): whatever Cadence sends a person on its own reaches them
in their working hours, never on a public holiday of their country; a critical escalation raised in
someone's night reaches them at once and says why; a meeting on its note taker's holiday, or on a
`skip:` date, is not chased for minutes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import calendars
from bot.cli import simulate_plan
from bot.plan import load_plan
from handlers.console.recorder import Received

PLAN = """
study:
  id: GLOW-28
  name: GLOW-28 skincare claim study
  timezone: America/New_York
  channel: C0GLOW
  admins: [nina, marta]

people:
  nina:  {name: Nina Brooks, side: sponsor, role: Study Lead,      slack: U01NINA,  timezone: America/New_York}
  sam:   {name: Sam Ortiz,   side: sponsor, role: Clinical Ops,    slack: U01SAM,   timezone: America/New_York}
  val:   {name: Val Price,   side: sponsor, role: VP Clinical,     slack: U01VAL,   timezone: America/New_York}
  marta: {name: Marta Nowak, side: cro,     role: Project Manager, slack: U02MARTA, timezone: Europe/Warsaw}
  piotr: {name: Piotr Lis,   side: cro,     role: Data Manager,    slack: U02PIOTR, timezone: Europe/Warsaw}
  priya: {name: Priya Rao,   side: cro,     role: Biostatistician, slack: U02PRIYA, timezone: Asia/Kolkata}
  arjun: {name: Arjun Mehta, side: cro,     role: Director,        slack: U02ARJUN, timezone: Asia/Kolkata}

responsibilities:
  - {topic: Data management, keywords: [EDC, query, lock], owner: piotr, backup: priya, answer_within: 4h}
  - {topic: Statistics, keywords: [SAP, analysis, TLF], owner: priya, backup: marta}
  - {topic: Protocol, keywords: [protocol, endpoint], owner: nina, backup: sam}

cadence:
  answer_within: 1bd
  checkin:
    schedule: "mon 09:00"
    participants: [nina, sam, marta, piotr, priya]
    questions: ["What moved since last week?", "Any blockers?"]
    remind_after: 4h
    close_after: 1d
    skip: [2026-12-28]

escalation:
  levels:
    - {name: Project managers, who: [marta, sam], ack_within: 4h}
    - {name: Study leads,      who: [nina, arjun], ack_within: 1bd}
    - {name: Executives,       who: [val, arjun]}
  severities:
    high:     {start_level: 1, ack_factor: 0.5}
    critical: {start_level: 2, ack_within: 1h}

meetings:
  - name: Weekly call
    schedule: "thu 10:00"
    duration: 1h
    note_taker: marta
    minutes_due: 1d
    attendees: [nina, sam, marta, piotr, priya]
    skip: [2026-12-31]

milestones:
  - {name: First patient in,  due: 2027-01-08, owner: marta}
  - {name: Stats plan final,  due: 2027-01-15, owner: priya}
"""

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 12, 14, tzinfo=NEW_YORK)  # a Monday
END = datetime(2027, 1, 9, tzinfo=NEW_YORK)

# In each typist's own time. Everything else Cadence does on its own.
SCRIPT = """
2026-12-17 16:00 @nina /ask When is the next EDC query run?
2026-12-18 12:30 @sam /escalate high Courier lost a kit shipment
2026-12-23 13:00 @sam /escalate critical Freezer failure at site 2
2027-01-07 12:00 @marta /minutes Weekly call: recruitment on plan
2027-01-07 12:01 @marta /minutes post M1
"""


@pytest.fixture(scope="module")
def december(tmp_path_factory) -> list[Received]:
    from tests.conftest import POSTGRES_URL, postgres_schema

    plan = load_plan(PLAN)
    if POSTGRES_URL:
        with postgres_schema("holidays") as url:
            return simulate_plan(plan, url, START, END, SCRIPT).received
    folder = tmp_path_factory.mktemp("december")
    return simulate_plan(plan, f"sqlite:///{folder / 'd.db'}", START, END, SCRIPT).received


def calendar_of(handle: str) -> calendars.WorkingCalendar:
    return calendars.from_spec(load_plan(PLAN).people[handle].timezone, None)


def started_by_cadence(received: list[Received]) -> list[Received]:
    """What reached a person that was not the answer to their own command (nor their App Home)."""
    return [r for r in received if r.to.startswith("@") and r.kind not in {"reply", "home"}]


def paged(r: Received) -> bool:
    return "Sent outside working hours because it is critical" in r.text


def test_nothing_cadence_starts_reaches_anyone_out_of_hours_or_on_a_holiday(december):
    mine = started_by_cadence(december)
    assert {r.to for r in mine} >= {"@nina", "@sam", "@marta", "@piotr", "@priya", "@arjun", "@val"}
    for r in mine:
        if paged(r):
            continue
        calendar = calendar_of(r.to[1:])
        local = r.at.astimezone(calendar.zone)
        assert 7 <= local.hour < 21, (r.to, r.kind, local)
        assert calendar.working_at(r.at), (r.to, r.kind, local)  # 09:00-18:00 on a working day
        assert calendar.day_off(local.date()) is None, (r.to, r.kind, local)
    # Christmas in Poland (24-26 December), New Year's Day and Epiphany: nothing reaches Marta or Piotr.
    polish = {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1), date(2027, 1, 6)}
    assert not [r for r in mine if r.to in {"@marta", "@piotr"} and r.local.date() in polish]


def test_a_critical_escalation_at_night_pages_at_once_and_says_why(december):
    notified = [r for r in december if r.kind == "escalation_notify" and "Freezer failure" in r.text]
    arjun = [r for r in notified if r.to == "@arjun"]
    # Raised Wednesday 13:00 New York: 23:30 in Kolkata. Arjun is on the study leads' level and hears
    # at once, told why; the critical hour runs on the clock, so at 14:00 New York the executives have
    # it (Arjun again, 00:30 his time, and Val at once), then the top level's three reminders, hourly.
    assert [f"{r.local:%a %d %H:%M}" for r in arjun] == [
        "Wed 23 23:30",
        "Thu 24 00:30",
        "Thu 24 01:30",
        "Thu 24 02:30",
        "Thu 24 03:30",
    ]
    assert all(paged(r) for r in arjun)
    nina = [r for r in notified if r.to == "@nina"]
    assert [f"{r.local:%a %d %H:%M}" for r in nina] == ["Wed 23 13:00"] and not paged(nina[0])  # at work
    val = [f"{r.local:%a %d %H:%M}" for r in notified if r.to == "@val"]
    assert val == ["Wed 23 14:00", "Wed 23 15:00", "Wed 23 16:00", "Wed 23 17:00"]


def test_a_high_escalation_and_a_question_wait_for_working_hours(december):
    courier = [r for r in december if r.kind == "escalation_notify" and "Courier" in r.text]
    # Raised Friday 12:30 New York, 18:30 in Warsaw: Marta hears on Monday at 09:00, not at night.
    assert [f"{r.local:%a %d %H:%M}" for r in courier if r.to == "@marta"] == ["Mon 21 09:00"]
    # Asked Thursday 16:00 New York (22:00 in Warsaw): Piotr's 4 working hours run Friday morning.
    reminders = [r for r in december if r.kind == "question_reminder"]
    assert [(r.to, f"{r.local:%a %d %H:%M}") for r in reminders] == [("@piotr", "Fri 18 13:00")]


def test_no_minutes_chase_for_calls_on_the_note_takers_holiday_or_a_skip_date(december):
    chased = [(r.to, f"{r.local:%a %d %H:%M}") for r in december if r.kind == "minutes_chase"]
    # Only the call of 17 December (10:00-11:00 New York, 17:00 in Warsaw at its end) goes without
    # minutes and is chased a day later. 24 December is Christmas Eve in Poland, where Marta, its note
    # taker, lives; 31 December is the meeting's skip date; 7 January's minutes were posted.
    assert chased == [("@marta", "Fri 18 17:00")]
