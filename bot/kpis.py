"""Partnership KPIs: what each side did against the targets both agreed (the plan's `kpis:`).

Each KPI is a count of what was due of a side in a period and how much of it was done in time:
check-ins answered (the side asked), routed questions answered by their deadline (the side asked),
escalations acknowledged before Cadence moved them up for want of it (the sides of the level they
started at, but for a side whose only person there raised it),
action items closed by their due date (the owner's side), and milestones on track at the period's end
(the owner's side). What is not yet due is not counted either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from bot import checkins, directory, escalation, timeline
from bot.directory import StudyView
from bot.escalation import reference as issue_ref
from bot.models import (
    ActionItem,
    CheckinAnswer,
    CheckinRound,
    Escalation,
    Milestone,
    MilestoneUpdate,
    Question,
    Study,
)
from bot.plan import KPI_TARGETS, SIDES
from bot.studies import Requester

LABELS = {
    "checkin_response": "Check-ins answered",
    "questions_on_time": "Questions answered in time",
    "escalations_on_time": "Escalations acknowledged in time",
    "actions_on_time": "Action items closed by their due date",
    "milestones_on_track": "Milestones on track",
}
Counts = dict[str, dict[str, list[int]]]  # KPI -> side -> [done in time, due]


@dataclass(frozen=True)
class KpisShown:
    table: dict  # as `table` builds it


def targets(plan: dict | None) -> dict[str, int]:
    """The plan's targets, each KPI it leaves out at its default."""
    return KPI_TARGETS | ((plan or {}).get("kpis") or {})


def counts(session: Session, study: StudyView, start: datetime, end: datetime, now: datetime) -> Counts:
    """Each KPI's counts per side for what fell due from `start` to `end`, as things stood at `now`."""
    found: Counts = {kpi: {side: [0, 0] for side in SIDES} for kpi in KPI_TARGETS}
    sides = {p.id: p.side for p in study.people.values()}
    row = session.get(Study, study.id)
    plan = (row.plan if row else None) or {}
    for kpi, side, met in (
        *_checkins(session, study, start, end),
        *_questions(session, study.id, sides, start, min(end, now)),
        *_escalations(session, study, plan, start, end),
        *_actions(session, study.id, sides, start, min(end, now)),
        *(_milestones(session, study, plan, end) if row is not None and timeline.began(row) < end else ()),
    ):
        if side in found[kpi]:
            found[kpi][side][0] += int(met)
            found[kpi][side][1] += 1
    return found


def _checkins(session: Session, study: StudyView, start: datetime, end: datetime):
    # A round counts once it has closed: until then some are not even asked yet, and the rest may answer.
    rounds = session.exec(
        select(CheckinRound).where(
            CheckinRound.study_id == study.id,
            col(CheckinRound.closed_at) >= start,
            col(CheckinRound.closed_at) < end,
        )
    ).all()
    if not rounds:
        return
    answered = set(
        session.exec(
            select(CheckinAnswer.round_id, CheckinAnswer.person_id).where(
                col(CheckinAnswer.round_id).in_([r.id for r in rounds])
            )
        ).all()
    )
    for round_ in rounds:
        for handle in round_.prompts:
            person = study.people.get(handle)
            if person is not None:
                yield "checkin_response", person.side, (round_.id, person.id) in answered


def _questions(session: Session, study_id: int, sides: dict[int, str], start: datetime, end: datetime):
    """Questions whose deadline fell in the period (and has passed): answered by it, or not."""
    for question in session.exec(
        select(Question).where(
            Question.study_id == study_id, col(Question.due_at) >= start, col(Question.due_at) < end
        )
    ):
        met = question.answered_at is not None and question.answered_at <= question.due_at
        yield "questions_on_time", sides.get(question.assignee_id), met


def _escalations(session: Session, study: StudyView, plan: dict, start: datetime, end: datetime):
    """Escalations raised in the period once decided: acknowledged before any climb for want of an
    acknowledgement (met), or climbed so (missed); still waiting within its deadline, not yet counted."""
    config = plan.get("escalation") or {}
    levels, severities = config.get("levels") or [], config.get("severities") or {}
    issues = session.exec(
        select(Escalation).where(
            Escalation.study_id == study.id, Escalation.raised_at >= start, Escalation.raised_at < end
        )
    ).all()
    climbed = escalation.climbed_unacknowledged(
        session, study_id=study.id, subjects=[issue_ref(study.key, i.id) for i in issues]
    )
    for issue in issues:
        missed = issue_ref(study.key, issue.id) in climbed
        if not missed and issue.acknowledged_at is None:
            continue
        start_level = (severities.get(issue.severity) or {}).get("start_level") or 1
        who = levels[start_level - 1]["who"] if start_level <= len(levels) else []
        # Whoever raised it is not counted against their side for acknowledging their own problem.
        asked = [study.people[h] for h in who if h in study.people]
        for side in sorted({p.side for p in asked if p.id != issue.reporter_id}):
            yield "escalations_on_time", side, not missed


def _actions(session: Session, study_id: int, sides: dict[int, str], start: datetime, end: datetime):
    """Action items due in the period whose due date has passed: closed by it, or not."""
    for item in session.exec(
        select(ActionItem).where(
            ActionItem.study_id == study_id,
            ActionItem.state != "dropped",  # dropped by a correction of the minutes: nobody's to meet
            col(ActionItem.due_on) >= start.date(),
            col(ActionItem.due_on) < end.date(),
        )
    ):
        met = item.done_at is not None and item.done_at.date() <= item.due_on
        yield "actions_on_time", sides.get(item.owner_id), met


def _milestones(session: Session, study: StudyView, plan: dict, end: datetime):
    """Each milestone as it stood at the period's end (one that ended before the study began has none):
    on track, or done by its due date."""
    specs = [m for m in plan.get("milestones") or [] if m.get("name")]
    if not specs:
        return
    rows = {r.key: r for r in session.exec(select(Milestone).where(Milestone.study_id == study.id))}
    latest: dict[int, str] = {}  # a milestone's status at the period's end: its last update's
    for update in session.exec(
        select(MilestoneUpdate)
        .where(col(MilestoneUpdate.milestone_id).in_([r.id for r in rows.values()]), MilestoneUpdate.at < end)
        .order_by(col(MilestoneUpdate.at), col(MilestoneUpdate.id))
    ):
        latest[update.milestone_id] = update.status
    for spec in specs:
        owner = study.people.get(spec.get("owner") or "")
        row = rows.get(spec["name"].casefold())  # none yet: nobody has looked at it, so nothing moved
        if owner is None:
            continue
        due_on = date.fromisoformat(spec["due"]) if spec.get("due") else None
        done_at = row.done_at if row is not None and row.done_at is not None and row.done_at < end else None
        if done_at is not None:
            met = due_on is None or done_at.date() <= due_on
        else:
            late = due_on is not None and due_on < end.date()
            met = not late and latest.get(row.id if row else -1, "on-track") == "on-track"
        yield "milestones_on_track", owner.side, met


def table(session: Session, *, study_id: int, weeks: int, now: datetime) -> dict:
    """Each KPI for each side over the last `weeks` weeks against its target, with the `weeks` before;
    neither from before the study's start (a trend needs weeks of the study before these)."""
    study = directory.current(session).studies[study_id]
    row = session.get(Study, study_id)
    start, before = now - timedelta(weeks=weeks), now - timedelta(weeks=2 * weeks)
    if row is not None:
        began = min(timeline.began(row), now)
        start, before = max(start, began), max(before, began)
    return as_table(
        session,
        study,
        counts(session, study, start, now, now),
        counts(session, study, before, start, now) if before < start else None,
        start=start,
        end=now,
    ) | {"weeks": weeks}


def as_table(
    session: Session,
    study: StudyView,
    current: Counts,
    previous: Counts | None,
    *,
    start: datetime,
    end: datetime,
) -> dict:
    """Counts as a table's data: each KPI's target, and each side's figure, verdict and trend."""
    goal = targets(session.get(Study, study.id).plan or {})
    rows = []
    for kpi, by_side in current.items():
        sides = {}
        for side, (met, due) in by_side.items():
            percent = percent_of(met, due)
            before = percent_of(*previous[kpi][side]) if previous else None
            sides[side] = {
                "met": met,
                "of": due,
                "percent": percent,
                "previous": before,
                "ok": None if percent is None else percent >= goal[kpi],
            }
        rows.append({"kpi": kpi, "label": LABELS[kpi], "target": goal[kpi], "sides": sides})
    return {"study": study.key, "from": start.date().isoformat(), "to": end.date().isoformat(), "rows": rows}


def weekly(session: Session, *, study_id: int, weeks: int, now: datetime) -> list[dict]:
    """Each of the last `weeks` weeks: its ISO week and each KPI's percent per side (None: nothing due).
    Weeks before the study's start are left out; the first week counts from the start."""
    study = directory.current(session).studies[study_id]
    row = session.get(Study, study_id)
    began = timeline.began(row) if row is not None else None
    series = []
    for back in range(weeks - 1, -1, -1):
        end = now - timedelta(weeks=back)
        if began is not None and end <= began and back:
            continue
        start = end - timedelta(weeks=1) if began is None else max(end - timedelta(weeks=1), min(began, end))
        found = counts(session, study, start, end, now)
        series.append(
            {
                "week": checkins.week_of(end),
                "kpis": {kpi: {side: percent_of(*found[kpi][side]) for side in SIDES} for kpi in KPI_TARGETS},
            }
        )
    return series


def percent_of(met: int, due: int) -> int | None:
    return round(100 * met / due) if due else None


def show(session: Session, *, requester: Requester, weeks: int, now: datetime) -> KpisShown:
    """`/cadence kpis [weeks]`: the table, to whoever asked (anyone of the study)."""
    return KpisShown(table(session, study_id=requester.study_id, weeks=weeks, now=now))
