"""Escalation in the core: raise, notify, acknowledge, climb on time (once), resolve, refusals, deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import escalation
from bot.config import EXAMPLE_PLAN
from bot.db import make_engine, run_in_session
from bot.errors import BadCommand, CadenceError
from bot.models import AuditEvent, Escalation, OutboxMessage
from bot.plan import load_plan
from bot.studies import apply_plan, find_requester

MONDAY = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 in New York, the study's timezone


@pytest.fixture
def fast(engine, study):
    """The first level must acknowledge within 3 seconds."""
    text = EXAMPLE_PLAN.read_text().replace(
        "who: [raj, ben],  ack_within: 4h", "who: [raj, ben],  ack_within: 3s"
    )
    text = text.replace("high:     {start_level: 1, ack_factor: 0.5}", "high:     {start_level: 1}")
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def raise_(
    engine, severity="high", summary="Temperature excursion on kit shipment 14", handle="sofia", now=MONDAY
):
    return run_in_session(
        engine,
        escalation.raise_issue,
        requester=as_person(engine, handle),
        severity=severity,
        summary=summary,
        now=now,
    )


def act(engine, function, handle, issue_id, now=MONDAY, **kwargs):
    return run_in_session(
        engine, function, requester=as_person(engine, handle), issue_id=issue_id, now=now, **kwargs
    )


def climb(engine, now) -> int:
    return run_in_session(engine, escalation.climb_overdue, now=now)


def issue(engine) -> Escalation:
    with Session(engine) as session:
        return session.exec(select(Escalation)).one()


def keys(engine, prefix) -> list[str]:
    with Session(engine) as session:
        return sorted(r.key for r in session.exec(select(OutboxMessage)) if r.key.startswith(prefix))


def test_raising_posts_the_card_and_notifies_the_starting_level(engine, fast):
    raised = raise_(engine)
    assert raised.what == "raised" and raised.issue.ref == "ACME-201-E1" and raised.issue.level.number == 1
    assert keys(engine, "esc-card:") == ["esc-card:ACME-201:1"]
    assert keys(engine, "esc-notify:") == ["esc-notify:ACME-201:1:L1:ben", "esc-notify:ACME-201:1:L1:raj"]
    assert issue(engine).deadline == MONDAY + timedelta(seconds=3)
    assert raised.issue.next_level.name == "Study leads"


def test_a_critical_issue_starts_where_the_plan_says_with_its_own_deadline(engine, study):
    raised = raise_(engine, "critical", "Unblinding risk at site 2")
    assert raised.issue.level.name == "Study leads" and raised.issue.ack_within == "1h"
    assert issue(engine).deadline == MONDAY + timedelta(hours=1)


def test_severity_scales_the_levels_deadline(engine, study):
    assert raise_(engine, "high").issue.ack_within == "2h"  # 4h × 0.5
    assert raise_(engine, "low", "Slow EDC").issue.ack_within == "8h"  # 4h × 2


def test_business_days_count_the_working_time_of_the_levels_earliest_person(engine, study):
    text = EXAMPLE_PLAN.read_text().replace(
        "who: [raj, ben],  ack_within: 4h", "who: [raj, ben],  ack_within: 1bd"
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    friday_evening = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)  # Friday 17:00 in New York
    raise_(engine, "medium", "Site 3 monitoring report late", now=friday_evening)
    # Business days are no longer the study's timezone's but the level's people's working time: Raj's
    # Friday (Warsaw) is over, so his business day is his Monday, 09:00-18:00; Ben (Chicago) has two hours
    # left on Friday and would be due Monday 16:00 his time. The level is due at the earlier: Raj's.
    # (Business days across a daylight-saving change: tests/test_calendars.py.)
    assert issue(engine).deadline == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Monday, not Saturday


def test_with_nobody_acknowledging_it_climbs_once_on_time(engine, fast):
    raise_(engine)
    assert climb(engine, MONDAY + timedelta(seconds=2)) == 0
    assert climb(engine, MONDAY + timedelta(seconds=3)) == 1
    assert climb(engine, MONDAY + timedelta(seconds=4)) == 0  # level 2 has a business day
    assert issue(engine).level == 2
    assert keys(engine, "esc-notify:ACME-201:1:L2") == [
        "esc-notify:ACME-201:1:L2:alice",
        "esc-notify:ACME-201:1:L2:tom",
    ]
    assert keys(engine, "esc-moved:") == ["esc-moved:ACME-201:1:L2:ben", "esc-moved:ACME-201:1:L2:raj"]


def test_acknowledging_at_the_second_level_stops_the_climb(engine, fast):
    raised = raise_(engine)
    climb(engine, MONDAY + timedelta(seconds=3))
    assert raised.issue.ref.endswith("-E1")
    acked = act(engine, escalation.acknowledge, "tom", 1, now=MONDAY + timedelta(seconds=5))
    assert acked.what == "acknowledged" and acked.issue.acknowledged_by == "Tom Becker"
    assert climb(engine, MONDAY + timedelta(days=10)) == 0
    assert keys(engine, "esc-notify:ACME-201:1:L3") == []
    again = act(engine, escalation.acknowledge, "alice", 1, now=MONDAY + timedelta(seconds=6))
    assert (
        again.what == "already" and again.issue.acknowledged_by == "Tom Becker"
    )  # a double click changes nothing


def test_someone_outside_the_path_is_refused_and_nothing_changes(engine, fast):
    raise_(engine)
    with pytest.raises(CadenceError, match="Only Project managers"):
        act(engine, escalation.acknowledge, "omar", 1)
    climb(engine, MONDAY + timedelta(seconds=3))
    with pytest.raises(CadenceError, match="Only Study leads"):
        act(engine, escalation.acknowledge, "ben", 1)  # level 1 is below where the issue is now
    assert issue(engine).state == "open"
    assert act(engine, escalation.acknowledge, "raj", 1).what == "acknowledged"  # an admin may


def test_resolving_records_the_note_and_the_times(engine, fast):
    raise_(engine)
    with pytest.raises(BadCommand):
        act(engine, escalation.resolve, "ben", 1, note="  ")
    resolved = act(
        engine,
        escalation.resolve,
        "ben",
        1,
        note="Kits quarantined; replacement shipped",
        now=MONDAY + timedelta(minutes=30),
    )
    assert resolved.issue.state == "resolved" and resolved.issue.resolution.startswith("Kits quarantined")
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "escalation.resolved")).one()
        assert event.detail["minutes_to_resolve"] == 30 and event.detail["minutes_to_acknowledge"] == 30
    assert keys(engine, "esc-card-update:")  # the card shows it
    assert climb(engine, MONDAY + timedelta(days=1)) == 0


def test_escalate_now_climbs_at_once_with_a_reason(engine, fast):
    raise_(engine)
    with pytest.raises(BadCommand):
        act(engine, escalation.escalate_now, "sofia", 1, reason="")
    moved = act(engine, escalation.escalate_now, "sofia", 1, reason="Sponsor needs a decision today")
    assert moved.issue.level.name == "Study leads"
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "escalation.escalated")).one()
        assert event.detail["why"] == "Sponsor needs a decision today"


def test_at_the_top_reminders_repeat_a_bounded_number_of_times(engine, study):
    raise_(engine, "critical", "Unblinding risk")
    moment = MONDAY
    for _ in range(12):
        moment += timedelta(days=1)
        climb(engine, moment)
    assert issue(engine).level == 3
    assert len(keys(engine, "esc-notify:ACME-201:1:L3R")) == 2 * escalation.TOP_REMINDERS  # dev and tom


def test_every_step_is_recorded(engine, fast):
    raise_(engine)
    climb(engine, MONDAY + timedelta(seconds=3))
    act(engine, escalation.acknowledge, "alice", 1)
    act(engine, escalation.resolve, "alice", 1, note="done")
    history = run_in_session(engine, escalation.show, requester=as_person(engine, "ben"), issue_id=1)
    steps = [what.split(" ")[0] for _, _, what in history.events]
    assert steps == ["raised", "notified", "moved", "notified", "acknowledged", "resolved:"]
    assert history.events[0][1] == "Sofia Novak" and history.events[2][1] == "Cadence"


def test_a_restart_while_waiting_still_climbs_on_time_once(database_url, fast):
    engine = make_engine(database_url)
    raise_(engine)
    engine.dispose()  # the bot goes down …
    for _ in range(2):  # … and comes back twice, each instance climbing what is due
        again = make_engine(database_url)
        climb(again, MONDAY + timedelta(seconds=4))
        again.dispose()
    assert issue(make_engine(database_url)).level == 2
    assert len(keys(make_engine(database_url), "esc-notify:ACME-201:1:L2")) == 2


def test_raising_needs_a_summary_and_a_known_severity(engine, study):
    with pytest.raises(BadCommand):
        raise_(engine, "high", "   ")
    with pytest.raises(BadCommand):
        raise_(engine, "urgent", "x")
    assert escalation.parse_escalate("high Temperature excursion") == ("high", "Temperature excursion")
    assert escalation.parse_escalate("Temperature excursion") == ("medium", "Temperature excursion")
