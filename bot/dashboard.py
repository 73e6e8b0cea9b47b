"""The study's dashboard and its plan as it stands, for the web: each figure read from the service that the
App Home, the reports and the commands read it from (KPIs, escalations, questions, action items,
milestones, check-ins, pulse, decisions), gathered here once for a page. Nothing is computed twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot import checkins, directory, escalation, milestones, minutes, pulse, questions, reports, timeline
from bot.minutes import ActionLine, DecisionLine
from bot.models import Study
from bot.pulse import SideRating
from bot.questions import DEFAULT_ANSWER_WITHIN, WaitingQuestion
from bot.studies import Requester

KPI_WEEKS = 4  # the dashboard's KPIs cover the last four weeks, beside the four before
RECENT_DECISIONS = 10


@dataclass(frozen=True)
class SideFigure:
    side: str
    met: int
    of: int
    percent: int | None  # None: nothing of this side fell due
    previous: int | None  # the period before's percent
    ok: bool | None  # at or above the target; None when nothing fell due


@dataclass(frozen=True)
class KpiRow:
    kpi: str
    label: str
    target: int
    sides: tuple[SideFigure, ...]


@dataclass(frozen=True)
class OpenEscalation:
    ref: str
    summary: str
    severity: str
    acknowledged: bool
    level: int
    levels: int
    level_name: str
    owners: tuple[str, ...]  # the names of the people at its level
    raised_at: datetime
    deadline: datetime | None  # when it climbs (or, at the top, is reminded) unless acknowledged
    late: bool  # its deadline has passed


@dataclass(frozen=True)
class MilestoneRow:
    name: str
    owner: str
    due: date | None
    standing: str  # on-track, at-risk, slipped, late, done, accepted
    forecast: date | None
    acceptors: tuple[str, ...]
    accepted_by: str | None
    late: bool


@dataclass(frozen=True)
class CheckinStanding:
    next_round_at: datetime | None  # None: no weekly check-in, or the study has ended
    last_week: str | None  # the latest round's ISO week
    last_open: bool
    sides: tuple[tuple[str, int, int], ...]  # (side, answered, asked) in the latest round


@dataclass(frozen=True)
class PulseStanding:
    period: str
    open: bool
    asked: dict[str, int]
    questions: tuple[tuple[str, tuple[SideRating, ...]], ...]  # averages by side only, never names


@dataclass(frozen=True)
class Dashboard:
    study_key: str
    name: str
    timezone: str
    now: datetime
    kpi_from: str
    kpi_to: str
    kpis: tuple[KpiRow, ...]
    escalations: tuple[OpenEscalation, ...]  # late first, then by deadline
    questions: tuple[WaitingQuestion, ...]  # late first, then oldest
    actions: tuple[ActionLine, ...]  # late first, then by owner and due date
    milestones: tuple[MilestoneRow, ...]  # late and at risk first
    checkin: CheckinStanding
    pulse: PulseStanding | None
    decisions: tuple[DecisionLine, ...]  # newest first
    ended: bool


def read(session: Session, *, requester: Requester, now: datetime) -> Dashboard:
    """The study's dashboard as `requester` (any person of the study) may see it at `now`."""
    study = directory.current(session).studies[requester.study_id]
    row = session.get(Study, study.id)
    table = reports.kpi_trend(session, study_id=study.id, weeks=KPI_WEEKS, now=now)["kpis"]
    actions = minutes.list_actions(session, requester=requester, everyone=True, now=now).items
    waiting = questions.waiting_in_study(session, study=study, now=now)
    return Dashboard(
        study_key=study.key,
        name=study.name,
        timezone=study.timezone,
        now=now,
        kpi_from=table["from"],
        kpi_to=table["to"],
        kpis=tuple(_kpi_row(r) for r in table["rows"]),
        escalations=_escalations(session, study, now),
        questions=tuple(sorted(waiting, key=lambda q: not q.overdue)),
        actions=tuple(
            sorted(actions, key=lambda a: (not a.overdue, a.owner or "~", a.due_on or date.max, a.id))
        ),
        milestones=tuple(
            _milestone_row(line)
            for line in milestones.list_milestones(session, requester=requester, now=now).lines
        ),
        checkin=_checkin(session, requester, study, now),
        pulse=_pulse(session, study),
        decisions=minutes.decision_log(session, requester=requester).decisions[:RECENT_DECISIONS],
        ended=row is not None and timeline.is_over(row, now),
    )


def trend(session: Session, *, study_id: int, now: datetime) -> dict:
    """What the dashboard's trend chart draws (`reports.chart_png` renders it)."""
    return reports.kpi_trend(session, study_id=study_id, weeks=KPI_WEEKS, now=now)


def _kpi_row(row: dict) -> KpiRow:
    return KpiRow(
        row["kpi"],
        row["label"],
        row["target"],
        tuple(
            SideFigure(side, f["met"], f["of"], f["percent"], f["previous"], f["ok"])
            for side, f in row["sides"].items()
        ),
    )


def _escalations(session: Session, study, now: datetime) -> tuple[OpenEscalation, ...]:
    rows = [
        OpenEscalation(
            ref=issue.ref,
            summary=issue.summary,
            severity=issue.severity,
            acknowledged=issue.state != "open",
            level=issue.level.number,
            levels=issue.levels,
            level_name=issue.level.name,
            owners=tuple(p.name for p in issue.level.people),
            raised_at=issue.raised_at,
            deadline=issue.deadline if issue.state == "open" else None,
            late=issue.state == "open" and issue.deadline is not None and issue.deadline < now,
        )
        for issue in escalation.open_issues(session, study=study)
    ]
    return tuple(
        sorted(
            rows,
            key=lambda e: (
                not e.late,
                e.acknowledged,
                e.deadline or datetime.max.replace(tzinfo=now.tzinfo),
                e.raised_at,
            ),
        )
    )


def _milestone_row(line: milestones.MilestoneLine) -> MilestoneRow:
    return MilestoneRow(
        line.name,
        line.owner.name if line.owner else "",
        line.due,
        line.standing,
        line.forecast,
        tuple(p.name for p in line.acceptors),
        line.accepted_by,
        line.overdue,
    )


def _checkin(session: Session, requester: Requester, study, now: datetime) -> CheckinStanding:
    latest = checkins.participation(session, requester=requester, weeks=1)
    status = checkins.round_status(session, requester=requester) if latest.weeks else None
    return CheckinStanding(
        checkins.next_round_at(session, study, now=now),
        latest.weeks[0] if latest.weeks else None,
        bool(status and status.state == "open"),
        latest.sides,
    )


def _pulse(session: Session, study) -> PulseStanding | None:
    last = pulse.last_rounds(session, study.id, 1)
    if not last:
        return None
    summary = pulse.summarize(session, study, last[0])
    return PulseStanding(summary.period, summary.open, summary.asked, summary.questions)


# --- the plan as it stands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    handle: str
    name: str
    side: str
    role: str
    timezone: str
    prefers: str
    admin: bool


@dataclass(frozen=True)
class TopicRow:
    topic: str
    keywords: tuple[str, ...]
    owner: str
    owner_side: str
    backup: str
    answer_within: str


@dataclass(frozen=True)
class LevelRow:
    number: int
    name: str
    who: tuple[str, ...]
    ack_within: str


@dataclass(frozen=True)
class SeverityRow:
    name: str
    start_level: int
    timing: str  # "ack within 1h", "ack_factor 0.5"
    after_hours: str  # page or wait


@dataclass(frozen=True)
class MeetingRow:
    name: str
    schedule: str
    duration: str
    note_taker: str
    minutes_due: str
    attendees: tuple[str, ...]


@dataclass(frozen=True)
class CheckinCadence:
    schedule: str
    participants: tuple[str, ...]
    remind_after: str
    close_after: str
    skip: tuple[date, ...]
    next_round_at: datetime | None


@dataclass(frozen=True)
class StudyPlan:
    study_key: str
    name: str
    timezone: str
    start: date
    end: date | None
    admins: tuple[str, ...]
    people: tuple[PersonRow, ...]
    topics: tuple[TopicRow, ...]
    levels: tuple[LevelRow, ...]
    severities: tuple[SeverityRow, ...]
    answer_within: str
    checkin: CheckinCadence | None
    meetings: tuple[MeetingRow, ...]
    pulse_schedule: str


def plan_of(session: Session, *, requester: Requester, now: datetime) -> StudyPlan:
    """The study's plan as it stands (the file plus chat changes): people, topics with their owners and
    backups, the escalation path and the cadence."""
    study = directory.current(session).studies[requester.study_id]
    row = session.get(Study, study.id)
    plan = (row.plan if row else None) or {}
    names = {h: p.name for h, p in study.people.items()}
    cadence = plan.get("cadence") or {}
    default_within = cadence.get("answer_within") or DEFAULT_ANSWER_WITHIN
    path = plan.get("escalation") or {}
    return StudyPlan(
        study_key=study.key,
        name=study.name,
        timezone=study.timezone,
        start=timeline.start_day(row),
        end=timeline.end_day(row),
        admins=tuple(names.get(h, h) for h in study.admins),
        people=tuple(
            PersonRow(p.handle, p.name, p.side, p.role, p.timezone, p.prefers or "", p.handle in study.admins)
            for p in study.people.values()
        ),
        topics=tuple(
            TopicRow(
                t.topic,
                t.keywords,
                t.owner.name,
                t.owner.side,
                t.backup.name if t.backup else "",
                t.answer_within or default_within,
            )
            for t in study.topics
        ),
        levels=tuple(
            LevelRow(
                n, spec["name"], tuple(names.get(h, h) for h in spec["who"]), spec.get("ack_within") or ""
            )
            for n, spec in enumerate(path.get("levels") or (), 1)
        ),
        severities=tuple(
            _severity_row(session, study.id, name, spec or {})
            for name, spec in (path.get("severities") or {}).items()
        ),
        answer_within=default_within,
        checkin=_checkin_cadence(session, study, row, names, now),
        meetings=tuple(
            MeetingRow(
                m["name"],
                m.get("schedule") or "",
                m.get("duration") or "",
                names.get(m.get("note_taker") or "", m.get("note_taker") or ""),
                m.get("minutes_due") or "",
                tuple(names.get(h, h) for h in m.get("attendees") or ()),
            )
            for m in plan.get("meetings") or ()
            if m.get("name")
        ),
        pulse_schedule=str(
            (plan.get("pulse") or {}).get("schedule") or "the first Monday of each month, 10:00"
        ),
    )


def _severity_row(session: Session, study_id: int, name: str, spec: dict) -> SeverityRow:
    if spec.get("ack_within"):
        timing = f"acknowledge within {spec['ack_within']}"
    elif spec.get("ack_factor"):
        timing = f"each level's time × {spec['ack_factor']}"
    else:
        timing = "each level's time"
    after_hours = "page" if escalation.pages(session, study_id, name) else "wait"
    return SeverityRow(name, spec.get("start_level") or 1, timing, after_hours)


def _checkin_cadence(
    session: Session, study, row, names: dict[str, str], now: datetime
) -> CheckinCadence | None:
    config = ((((row.plan if row else None) or {}).get("cadence")) or {}).get("checkin") or {}
    if not config.get("schedule"):
        return None
    return CheckinCadence(
        config["schedule"],
        tuple(names.get(h, h) for h in config.get("participants") or ()),
        config.get("remind_after") or "",
        config.get("close_after") or "",
        tuple(sorted(date.fromisoformat(d) for d in config.get("skip") or ())),
        checkins.next_round_at(session, study, now=now),
    )
