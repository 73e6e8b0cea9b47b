"""The study's timeline through `cadence simulate`'s engine (the live bot's tick, schedules and outbox): a
study set up on Thursday 25 February 2027 (its start, by default) that ends on Wednesday 7 April. Its
reports and reviews read no date before the start, its first pulse waits for a month of working
together, a milestone past its due date reads late, and after the end nothing of the cadence is sent
but the close-out review, once, while lookups are still answered."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import timeline
from bot.cli import simulate_plan
from bot.config import EXAMPLE_PLAN
from bot.plan import load_plan
from handlers.console.recorder import Received

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2027, 2, 25, tzinfo=NEW_YORK)  # a Thursday: the plan is applied then, its start
ENDED = datetime(2027, 4, 8, tzinfo=NEW_YORK)  # the midnight after its last day, 7 April
UNTIL = datetime(2027, 4, 13, tzinfo=NEW_YORK)
SCRIPT = """
2027-03-02 10:00 @alice /cadence review 2027-02-01 2027-03-01
2027-03-02 10:01 @alice /cadence kpis 4
2027-03-02 10:02 @alice /milestones
2027-04-08 10:00 @alice /who-owns safety
2027-04-08 10:01 @alice /ask list
"""
_PERIOD = re.compile(r"(\w{3} \d{2} \w{3} \d{4}) to (\w{3} \d{2} \w{3} \d{4})")


@pytest.fixture(scope="module")
def weeks(tmp_path_factory) -> list[Received]:
    from tests.conftest import POSTGRES_URL, postgres_schema

    text = EXAMPLE_PLAN.read_text().replace(
        "  admins: [alice, raj]", "  end: 2027-04-07\n  admins: [alice, raj]"
    )
    plan = load_plan(text)
    if POSTGRES_URL:
        with postgres_schema("timeline") as url:
            return simulate_plan(plan, url, START, UNTIL, SCRIPT).received
    return simulate_plan(
        plan, f"sqlite:///{tmp_path_factory.mktemp('tl') / 't.db'}", START, UNTIL, SCRIPT
    ).received


def of(received: list[Received], kind: str, to: str | None = None) -> list[Received]:
    return [r for r in received if r.kind == kind and (to is None or r.to == to)]


def reply_to(received: list[Received], command_at: str) -> str:
    return next(r.text for r in of(received, "reply", "@alice") if f"{r.local:%Y-%m-%d %H:%M}" == command_at)


def test_no_pulse_before_a_month_of_working_together(weeks):
    requests = of(weeks, "pulse_request")
    # The first Monday of March is the study's fifth day: no round. April's (the 5th) is past four weeks.
    assert requests and {f"{r.local:%Y-%m-%d %H:%M}" for r in requests} == {"2027-04-05 10:00"}
    assert all(r.at >= START + timedelta(weeks=4) for r in requests)


def test_no_report_or_review_reads_a_date_before_the_start(weeks):
    reports = of(weeks, "report", "#C0STUDY")
    assert reports[0].local.date() == date(2027, 3, 1)  # the first Monday: from the Thursday, not a week
    assert "Thu 25 Feb 2027 to Mon 01 Mar 2027" in reports[0].text
    asked = [reply_to(weeks, "2027-03-02 10:00"), reply_to(weeks, "2027-03-02 10:01")]
    assert "Partnership review — ACME-201, Thu 25 Feb 2027 to Mon 01 Mar 2027" in asked[0]
    assert "KPIs of ACME-201, Thu 25 Feb 2027 to Tue 02 Mar 2027" in asked[1]
    assert "from " not in asked[1].split("KPIs of")[1].split("The trend")[0]  # no trend from before it
    titled = [*reports, *of(weeks, "partnership_review"), *(of(weeks, "reply", "@alice")[:2])]
    starts = [
        datetime.strptime(m.group(1), "%a %d %b %Y").date() for r in titled for m in _PERIOD.finditer(r.text)
    ]
    assert starts and min(starts) == date(2027, 2, 25)


def test_a_milestone_past_its_due_date_reads_late(weeks):
    listed = reply_to(weeks, "2027-03-02 10:02")
    first = next(line for line in listed.split(" / ") if "First patient in" in line)  # due 15 January
    assert ": late, due" in first and "on track," not in first
    report = of(weeks, "report", "#C0STUDY")[0].text
    assert "First patient in, Fri 15 Jan 2027 (Raj Patel): late" in report


def test_after_the_end_only_the_close_out_review_and_answers_to_lookups(weeks):
    after = [r for r in weeks if r.at >= ENDED]
    assert not [r for r in after if r.kind in timeline.CADENCE_KINDS or r.kind == "file"]
    assert not [r for r in of(weeks, "pulse_reminder")]  # due 8 April: dropped with the end
    closing = of(weeks, "partnership_review", "#C0STUDY")
    assert len(closing) == 1 and closing[0].at == datetime(2027, 4, 8, 9, 0, tzinfo=NEW_YORK).astimezone(UTC)
    assert (
        "Close-out review — ACME-201, the whole study: Thu 25 Feb 2027 to Wed 07 Apr 2027" in closing[0].text
    )
    assert "What went well" in closing[0].text and "What to improve" in closing[0].text
    assert "Check-ins answered" in closing[0].text  # the KPIs over the whole study
    assert "Safety reporting is owned by @mei" in reply_to(weeks, "2027-04-08 10:00")
    assert reply_to(weeks, "2027-04-08 10:01")  # /ask list still answers
    assert {r.kind for r in after} <= {"partnership_review", "reply", "home"}
