"""Each person's working calendar on fixed dates: hours, weekends, their country's public holidays, the
plan's own days off and `/away`; business durations in working time; the plan fields that set them, their
errors with paths, and `cadence plan export` giving them back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.calendars import WorkingCalendar, country_of_zone, from_spec
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.plan import PlanInvalid, load_plan, plan_yaml
from bot.studies import apply_plan, plan_as_it_stands
from bot.timing import parse_duration

WARSAW = from_spec("Europe/Warsaw", None)
NEW_YORK = from_spec("America/New_York", None)
KOLKATA = from_spec("Asia/Kolkata", None)


def at(calendar: WorkingCalendar, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=calendar.zone)


def local(calendar: WorkingCalendar, moment: datetime) -> str:
    return f"{moment.astimezone(calendar.zone):%a %d %b %H:%M}"


def test_a_persons_country_is_their_timezones():
    assert [country_of_zone(z) for z in ("Europe/Warsaw", "America/New_York", "Asia/Kolkata")] == [
        "PL",
        "US",
        "IN",
    ]
    assert country_of_zone("Asia/Calcutta") == "IN"  # an old name, through tzdata's links
    assert country_of_zone("UTC") is None  # no country: weekends only


def test_a_business_day_skips_polish_christmas():
    # 24, 25 and 26 December are public holidays in Poland (24 Dec since 2025), 27 is a Sunday.
    wednesday = at(WARSAW, 2026, 12, 23, 10, 0)
    assert local(WARSAW, WARSAW.add(wednesday, parse_duration("1bd"))) == "Mon 28 Dec 10:00"
    # From Christmas Eve itself nothing counts until Monday: the whole of Monday's working day.
    christmas_eve = at(WARSAW, 2026, 12, 24, 10, 0)
    assert local(WARSAW, WARSAW.add(christmas_eve, parse_duration("1bd"))) == "Mon 28 Dec 18:00"
    assert WARSAW.day_off(date(2026, 12, 25)) is not None
    assert WARSAW.day_off(date(2027, 1, 6)) == "Epiphany"


def test_hours_count_working_hours_only():
    friday = at(WARSAW, 2026, 12, 4, 16, 0)
    assert local(WARSAW, WARSAW.add(friday, parse_duration("4h"))) == "Mon 07 Dec 11:00"
    night = at(WARSAW, 2026, 12, 8, 0, 30)
    assert local(WARSAW, WARSAW.add(night, parse_duration("30m"))) == "Tue 08 Dec 09:30"
    # Calendar days stay calendar days.
    assert local(WARSAW, WARSAW.add(friday, parse_duration("2d"))) == "Sun 06 Dec 16:00"


def test_each_country_has_its_own_holidays():
    wednesday = at(NEW_YORK, 2026, 11, 25, 10, 0)  # Thanksgiving is Thursday 26 November
    assert local(NEW_YORK, NEW_YORK.add(wednesday, parse_duration("1bd"))) == "Fri 27 Nov 10:00"
    assert WARSAW.day_off(date(2026, 11, 26)) is None
    republic_day_eve = at(KOLKATA, 2027, 1, 25, 20, 0)  # 26 January: Republic Day in India
    assert local(KOLKATA, KOLKATA.next_working_moment(republic_day_eve)) == "Wed 27 Jan 09:00"
    assert (
        local(NEW_YORK, NEW_YORK.next_working_moment(at(NEW_YORK, 2027, 1, 16, 12, 0))) == "Tue 19 Jan 09:00"
    )


def test_a_business_day_across_a_daylight_saving_change_keeps_the_local_time():
    friday = at(NEW_YORK, 2026, 10, 30, 10, 0)  # EDT; New York falls back on Sunday
    due = NEW_YORK.add(friday, parse_duration("1bd"))
    assert due == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 EST


def test_working_hours_country_subdivision_days_off_and_away_change_the_calendar():
    own = from_spec(
        "America/Los_Angeles",
        {"working_hours": "08:30-17:00", "country": "US-CA", "holidays": ["2027-03-30"]},
    )
    assert own.day_off(date(2027, 3, 31)) == "Cesar Chavez Day"  # California's, not the whole country's
    assert from_spec("America/New_York", None).day_off(date(2027, 3, 31)) is None
    assert own.day_off(date(2027, 3, 30)) == "a day off in the plan"
    monday = at(own, 2027, 3, 29, 16, 0)
    assert local(own, own.add(monday, parse_duration("2h"))) == "Thu 01 Apr 09:30"  # 1h Mon, 1h Thu
    away = WorkingCalendar(WARSAW.zone, country="PL", away=((date(2026, 12, 7), date(2026, 12, 9)),))
    assert local(away, away.next_working_moment(at(away, 2026, 12, 7, 10, 0))) == "Thu 10 Dec 09:00"


PERSON = "  raj:   {name: Raj Patel,     side: cro,     role: Project Manager,            slack: U02RAJ,"


def plan_with(*replacements: tuple[str, str], extra: str = "") -> str:
    text = EXAMPLE_PLAN.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text + extra


def errors_of(text: str) -> list[str]:
    with pytest.raises(PlanInvalid) as caught:
        load_plan(text)
    return [f"{e.path}: {e.message}" for e in caught.value.errors]


def test_the_plans_calendar_fields_are_validated_with_their_paths():
    text = plan_with(
        (
            "  channel: C0STUDY",
            "  channel: C0STUDY\n  working_hours: 18:00-09:00\n  holidays: {cros: [2026-12-24]}",
        ),
        (PERSON, PERSON.replace("role: Project Manager,", "role: PM, country: Polnad, working_hours: 9-5,")),
        ("email: tom@cro.example,", "email: tom@cro.example, country: US, subdivision: XX,"),
        ("    skip: [2026-12-28, 2027-01-04]", "    skip: [2026-12-25, 2027-01-04]"),
        (
            "    critical: {start_level: 2, ack_within: 1h}",
            "    critical: {start_level: 2, after_hours: ring}",
        ),
        (
            "    attendees: [alice, ben, raj, sofia, omar]",
            "    attendees: [alice, ben, raj]\n    skip: [2026-12-25]",
        ),
    )
    assert errors_of(text) == [
        "study.working_hours: '18:00-09:00': the end comes before the start (working hours stay within one day)",
        "study.holidays.cros: 'cros' is not a side (sponsor or cro) (did you mean 'cro'?)",
        "people.raj.country: unknown country 'Polnad' (did you mean 'PL' for Poland?)",
        "people.raj.working_hours: '9-5' is not working hours (use a start and an end, e.g. '09:00-18:00')",
        "people.tom.country: 'XX' is not a subdivision of US (US has AK, AL, AR, AS, AZ, CA, CO, CT, DC, DE, FL, "
        "GA, …)",
        "cadence.checkin.skip[0]: 2026-12-25 is a Friday; check-ins are on Mondays",
        "escalation.severities.critical.after_hours: 'ring' is not page (at once, day or night) or wait "
        "(in working hours)",
        "meetings[0].skip[0]: 2026-12-25 is a Friday; the Weekly sponsor–CRO call is on Thursdays",
    ]


CALENDAR_PLAN = plan_with(
    (
        "  channel: C0STUDY",
        "  channel: C0STUDY\n  working_hours: 08:30-17:00\n  holidays: {cro: [2026-12-31]}",
    ),
    (
        PERSON,
        PERSON.replace(
            "role: Project Manager,", "role: Project Manager, country: PL, working_hours: 10:00-19:00,"
        ),
    ),
    ("email: alice@acme.example,", "email: alice@acme.example, country: US, subdivision: NY,"),
    (
        "    critical: {start_level: 2, ack_within: 1h}",
        "    critical: {start_level: 2, ack_within: 1h, after_hours: wait}",
    ),
    (
        "    attendees: [alice, ben, raj, sofia, omar]",
        "    attendees: [alice, ben, raj, sofia, omar]\n    skip: [2026-12-24, 2026-12-31]",
    ),
)


def test_the_calendar_fields_apply_to_each_person_and_export_gives_them_back(engine):
    plan = load_plan(CALENDAR_PLAN)
    run_in_session(engine, apply_plan, plan=plan, actor="test")
    data = run_in_session(engine, plan_as_it_stands, study_key="ACME-201")
    again = load_plan(plan_yaml(data, "exported"))
    for part in ("people", "escalation", "meetings"):
        assert again.data[part] == plan.data[part], part
    # The export also names the day the study started (the day it was applied, when the plan said none).
    assert again.data["study"] | {"start": None} == plan.data["study"]
    assert again.people["raj"].working_hours == "10:00-19:00" and again.people["alice"].country == "US-NY"
    assert again.data["study"]["holidays"] == {"cro": ["2026-12-31"]}
    from bot.calendars import of
    from bot.directory import current

    def calendars(session):
        study = current(session).study_by_key("ACME-201")
        return {h: of(study, p) for h, p in study.people.items()}

    people = run_in_session(engine, calendars)
    assert (people["raj"].hours, people["mei"].hours, people["alice"].hours) == (
        "10:00-19:00",  # his own
        "08:30-17:00",  # the study's
        "08:30-17:00",
    )
    assert people["mei"].day_off(date(2026, 12, 31)) == "a day off in the plan"  # the CRO's day off
    assert people["alice"].day_off(date(2026, 12, 31)) is None
    assert (people["alice"].country, people["alice"].subdivision) == ("US", "NY")
