"""The study's dashboard and plan as the web shows them, read from the services the App Home, the reports
and the commands use, on the example plan with its state made by those services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot import checkins, dashboard, escalation, milestones, minutes, pulse, questions, reports
from bot.clock import ManualClock
from bot.db import run_in_session
from bot.studies import find_requester

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday
LATER = NOW + timedelta(days=3)  # Thursday: the question and the escalation are past their deadlines


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def seed_study(engine, at: datetime) -> None:
    """A week of the example study, made by the services people's commands call."""
    run_in_session(
        engine, questions.ask, requester=as_person(engine, "ben"), text="SAE narrative filed?", now=at
    )
    run_in_session(
        engine,
        escalation.raise_issue,
        requester=as_person(engine, "sofia"),
        severity="high",
        summary="Temperature excursion – kit 14",
        now=at,
    )
    drafted = run_in_session(
        engine,
        minutes.draft_minutes,
        requester=as_person(engine, "raj"),
        now=at,
        text=(
            "DECISION: screening window 21 days\n"
            "ACTION @omar: close queries by 2026-11-24\n"
            "ACTION @ben: send the invoice by 2026-12-04\n"
            "ACTION @alice: sign the amendment by 2026-12-01"
        ),
    )
    run_in_session(
        engine,
        minutes.post_minutes,
        requester=as_person(engine, "raj"),
        minutes_id=drafted.minutes_id,
        now=at,
    )
    raj = as_person(engine, "raj")
    first = run_in_session(engine, lambda s: milestones.named(s, raj, "First patient in", at))
    run_in_session(
        engine,
        milestones.record_update,
        requester=raj,
        milestone_id=first,
        status="at-risk",
        forecast=date(2027, 1, 29),
        text="two sites late to activate",
        now=at,
    )
    run_in_session(engine, checkins.open_round_now, requester=raj, now=at)
    for handle in ("alice", "raj", "mei"):
        run_in_session(
            engine,
            checkins.save_answer,
            requester=as_person(engine, handle),
            status="on-track",
            answers=["moved", "planned", ""],
            now=at,
        )
    run_in_session(engine, pulse.start_now, requester=as_person(engine, "alice"), now=at)
    round_id = run_in_session(engine, lambda s: pulse.last_rounds(s, raj.study_id, 1)[0].id)
    for handle, score in (("alice", 4), ("ben", 5), ("carla", 3), ("raj", 2)):
        run_in_session(
            engine,
            pulse.rate,
            requester=as_person(engine, handle),
            round_id=round_id,
            question=0,
            score=score,
            now=at,
        )


@pytest.fixture
def seeded(engine, study, clock):
    seed_study(engine, NOW)
    clock.set(LATER)
    return engine


def read(engine, handle="ben", now=LATER):
    return run_in_session(engine, dashboard.read, requester=as_person(engine, handle), now=now)


def test_open_escalations_show_their_level_owners_and_deadline_late_first(seeded):
    shown = read(seeded)
    (issue,) = shown.escalations
    assert issue.ref == "ACME-201-E1"
    assert (issue.level, issue.levels, issue.level_name) == (1, 3, "Project managers")
    assert issue.owners == ("Raj Patel", "Ben Okafor")
    assert issue.deadline is not None and issue.deadline.tzinfo is not None
    assert issue.late and not issue.acknowledged


def test_an_acknowledged_issue_stays_open_without_a_deadline(seeded):
    run_in_session(seeded, escalation.acknowledge, requester=as_person(seeded, "raj"), issue_id=1, now=LATER)
    (issue,) = read(seeded).escalations
    assert issue.acknowledged and issue.deadline is None and not issue.late


def test_questions_waiting_name_on_whom_and_the_late_ones(seeded):
    (question,) = read(seeded).questions
    assert (question.ref, question.on, question.asker) == ("ACME-201-Q1", "Mei Lin", "Ben Okafor")
    assert question.overdue
    assert not read(seeded, now=NOW).questions[0].overdue


def test_action_items_late_first_then_by_owner_and_due_date(seeded):
    items = read(seeded).actions
    assert [(a.owner, a.due_on, a.overdue) for a in items] == [
        ("Omar Haddad", date(2026, 11, 24), True),
        ("Alice Chen", date(2026, 12, 1), False),
        ("Ben Okafor", date(2026, 12, 4), False),
    ]


def test_milestones_with_forecast_and_acceptance(seeded):
    rows = {m.name: m for m in read(seeded).milestones}
    assert rows["First patient in"].standing == "at-risk"
    assert rows["First patient in"].forecast == date(2027, 1, 29)
    assert rows["First patient in"].owner == "Raj Patel"
    assert rows["Database lock"].standing == "on-track"
    assert list(rows)[0] == "First patient in"  # at risk before those on track


def test_the_next_checkin_and_the_latest_rounds_participation_by_side(seeded):
    shown = read(seeded).checkin
    assert shown.last_week == "2026-W48"
    assert dict((side, (answered, asked)) for side, answered, asked in shown.sides) == {
        "sponsor": (1, 3),
        "cro": (2, 4),
    }
    # The next round: Monday 30 November, 09:00 of the earliest participant (Warsaw and Prague: 08:00 UTC).
    assert shown.next_round_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_the_pulse_shows_averages_by_side_and_never_who(seeded):
    shown = read(seeded).pulse
    assert shown is not None and shown.open
    text, ratings = shown.questions[0]
    by_side = {r.side: r for r in ratings}
    assert by_side["sponsor"].average == 4.0 and by_side["sponsor"].answers == 3
    assert by_side["cro"].average is None  # one CRO rating: too few to show
    assert "Raj" not in repr(shown) and "Alice" not in repr(shown)


def test_recent_decisions_and_kpis_against_targets(seeded):
    shown = read(seeded)
    assert [d.text for d in shown.decisions] == ["screening window 21 days"]
    labels = {row.kpi: row for row in shown.kpis}
    assert set(labels) >= {"checkin_response", "actions_on_time", "milestones_on_track"}
    sides = {f.side: f for f in labels["milestones_on_track"].sides}
    assert (sides["cro"].met, sides["cro"].of) == (2, 3)  # raj's first patient in is at risk
    assert sides["cro"].ok is False


def test_the_dashboards_kpis_are_the_reports(seeded):
    """One computation: the dashboard's figures and trend are what the cadence report's chart draws."""
    requester = as_person(seeded, "ben")
    report = run_in_session(seeded, reports.build_report, study_id=requester.study_id, weeks=4, now=LATER)
    trend = run_in_session(seeded, dashboard.trend, study_id=requester.study_id, now=LATER)
    assert trend["kpis"] == report["kpis"] and trend["kpi_weeks"] == report["kpi_weeks"]
    assert reports.chart_png(trend).startswith(b"\x89PNG")


def test_the_plan_as_it_stands(seeded):
    plan = run_in_session(seeded, dashboard.plan_of, requester=as_person(seeded, "alice"), now=LATER)
    assert [p.handle for p in plan.people][:2] == ["alice", "ben"]
    assert plan.people[0].admin and not plan.people[1].admin
    safety = next(t for t in plan.topics if t.topic == "Safety reporting")
    assert (safety.owner, safety.backup, safety.answer_within) == ("Mei Lin", "Raj Patel", "4h")
    recruitment = next(t for t in plan.topics if t.topic == "Recruitment")
    assert recruitment.answer_within == "1bd"  # the plan's default
    assert [(lv.name, lv.who, lv.ack_within) for lv in plan.levels][0] == (
        "Project managers",
        ("Raj Patel", "Ben Okafor"),
        "4h",
    )
    critical = next(s for s in plan.severities if s.name == "critical")
    assert (critical.start_level, critical.after_hours) == (2, "page")
    assert plan.checkin is not None and plan.checkin.schedule == "mon 09:00"
    assert date(2026, 12, 28) in plan.checkin.skip
    assert plan.meetings[0].note_taker == "Raj Patel"


def test_a_study_with_nothing_yet(engine, study, clock):
    shown = read(engine, now=NOW)
    assert shown.escalations == () and shown.questions == () and shown.actions == ()
    assert shown.pulse is None and shown.checkin.last_week is None
