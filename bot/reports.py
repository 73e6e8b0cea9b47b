"""Visibility: each person's home (what waits on them) and the weekly cadence report with its chart."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import checkins, directory, due, kpis, outbox, report_to, timeline
from bot.directory import Contact, StudyView
from bot.escalation import open_issues
from bot.milestones import as_they_stand
from bot.minutes import action_lines_by_owner
from bot.models import ActionItem, CheckinAnswer, CheckinRound, Escalation, OutboxMessage, Question, Study
from bot.questions import waiting_in_study
from bot.replies import Attachment, Notice
from bot.studies import Requester
from bot.timing import DAYS, next_local

REPORT_DAY, REPORT_TIME = "mon", (8, 0)  # the weekly report goes to the study channel then, study time
CHART_WEEKS = 6  # the chart shows at least this many weeks: a trend needs more than the report's one
FIRST_REPORT_AFTER = timedelta(days=1)  # a weekly report on the study's first day would report nothing


@dataclass(frozen=True)
class HomeView:
    study_key: str
    name: str
    actions: tuple  # ActionLine
    questions: tuple[tuple[str, str, str], ...]  # ref, text, asker
    escalations: tuple[tuple[str, str, str, str], ...]  # ref, severity, summary, level
    next_checkin: datetime | None
    answered_last: bool | None  # None when there was no round for them
    milestones: tuple[tuple[str, str, str, str], ...]  # name, due, owner, status ("late" past due)
    away_until: date | None
    cover: str | None

    def as_data(self) -> dict:
        """Plain data for a notice (the App Home is published through the outbox)."""
        return {
            "study": self.study_key,
            "name": self.name,
            "actions": [
                {
                    "id": a.id,
                    "text": a.text,
                    "due": a.due_on.isoformat() if a.due_on else None,
                    "overdue": a.overdue,
                }
                for a in self.actions
            ],
            "questions": [list(q) for q in self.questions],
            "escalations": [list(e) for e in self.escalations],
            "next_checkin": self.next_checkin.isoformat() if self.next_checkin else None,
            "answered_last": self.answered_last,
            "milestones": [list(m) for m in self.milestones],
            "away_until": self.away_until.isoformat() if self.away_until else None,
            "cover": self.cover,
        }


@dataclass(frozen=True)
class ReportRequested:
    weeks: int
    channel: str | None


def home_for(session: Session, *, requester: Requester, now: datetime) -> HomeView:
    """What the person's App Home shows: what waits on them, their check-in, the study's milestones."""
    study = directory.current(session).studies[requester.study_id]
    return _StudyHomes.read(session, study, now).home_of(study.people[requester.handle])


@dataclass(frozen=True)
class _StudyHomes:
    """What the homes of one study's people are drawn from, read once for all of them."""

    study: StudyView
    now: datetime
    actions: dict[int, tuple]  # owner id -> their open ActionLines
    questions: dict[int, list[tuple[str, str, str]]]  # assignee id -> ref, text, asker
    escalations: list[
        tuple[tuple[str, str, str, str], tuple[str, ...]]
    ]  # (ref, severity, summary, level), who
    plan: checkins.CheckinPlan | None
    last_round: CheckinRound | None
    answered_last: frozenset[int]
    milestones: tuple[tuple[str, str, str, str], ...]
    skipped: frozenset[date] = frozenset()  # days without a check-in round

    @classmethod
    def read(cls, session: Session, study: StudyView, now: datetime) -> _StudyHomes:
        row = session.get(Study, study.id)
        questions: dict[int, list[tuple[str, str, str]]] = {}
        for q in waiting_in_study(session, study=study, now=now):
            questions.setdefault(q.assignee_id, []).append((q.ref, q.text, q.asker))
        escalations = [
            (
                (issue.ref, issue.severity, issue.summary, issue.level.name),
                tuple(p.handle for p in issue.level.people),
            )
            for issue in open_issues(session, study=study)
            if issue.state == "open"  # acknowledged: no longer waiting on anyone's home
        ]
        last = session.exec(
            select(CheckinRound)
            .where(CheckinRound.study_id == study.id)
            .order_by(col(CheckinRound.opened_at).desc())
        ).first()
        answered = (
            frozenset(session.exec(select(CheckinAnswer.person_id).where(CheckinAnswer.round_id == last.id)))
            if last
            else frozenset()
        )
        # What is still to come, and what is late: a milestone past its due date never drops off unseen.
        milestones = tuple(
            (ms["name"], ms["due"], ms["owner"], ms["status"])
            for ms in sorted(
                as_they_stand(session, study_id=study.id, now=now, reading=True), key=lambda m: m["due"] or ""
            )
            if ms["due"] and (ms["due"] >= now.date().isoformat() or ms["status"] == "late")
        )
        plan = checkins.checkin_plan(row)
        return cls(
            study,
            now,
            action_lines_by_owner(session, study=study, now=now),
            questions,
            escalations,
            plan,
            last,
            answered,
            milestones,
            checkins.skipped_days(session, study.id, plan) if plan else frozenset(),
        )

    def home_of(self, me: Contact) -> HomeView:
        plan, last = self.plan, self.last_round
        next_checkin = (
            checkins.next_prompt(self.study, plan, me, self.now, self.skipped)
            if plan and me.handle in plan.participants
            else None
        )
        away = self.study.away_on(me.handle, self.now)
        cover = self.study.people[away.cover].name if away and away.cover in self.study.people else None
        return HomeView(
            self.study.key,
            me.name,
            self.actions.get(me.id, ()),
            tuple(self.questions.get(me.id, ())),
            tuple(shown for shown, who in self.escalations if me.handle in who),
            next_checkin,
            (me.id in self.answered_last) if last is not None and me.handle in last.prompts else None,
            self.milestones,
            away.until if away else None,
            cover,
        )


def _next_checkin(plan: checkins.CheckinPlan, zone: str, now: datetime) -> datetime | None:
    return next_local(now, plan.schedule.at, ZoneInfo(zone), days=plan.schedule.days[:1])


# --- the cadence report ------------------------------------------------------------------------------


def build_report(session: Session, *, study_id: int, weeks: int, now: datetime) -> dict:
    """The report's figures for the last `weeks` weeks, beside the `weeks` before them: neither from
    before the study's start."""
    study = directory.current(session).studies[study_id]
    end = now
    began = min(timeline.began(session.get(Study, study_id)), now)
    start = max(end - timedelta(weeks=weeks), began)
    before = max(start - timedelta(weeks=weeks), began)
    current, previous = _figures(session, study, start, end), _figures(session, study, before, start)
    horizon = (now + timedelta(weeks=weeks)).date().isoformat()
    milestones = [  # what is due in as many weeks ahead, and what is not on track, whenever due
        ms
        for ms in as_they_stand(session, study_id=study.id, now=now)
        if ms["status"] in {"at-risk", "slipped", "late"}
        or (ms["status"] == "on-track" and ms["due"] and ms["due"] <= horizon)
    ]
    weekly = _weekly_rates(session, study, now, weeks)
    return kpi_trend(session, study_id=study.id, weeks=weeks, now=now) | {
        "study": study.key,
        "weeks": weeks,
        "from": start.date().isoformat(),
        "to": end.date().isoformat(),
        "current": current,
        "previous": previous,
        "milestones": milestones,
        "weekly": weekly,
    }


def kpi_trend(session: Session, *, study_id: int, weeks: int, now: datetime) -> dict:
    """Each side's KPIs over the last `weeks` weeks against the targets, and the weekly series the chart
    draws (at least CHART_WEEKS): what `chart_png` needs, for the report and the web's dashboard."""
    return {
        "study": directory.current(session).studies[study_id].key,
        "kpis": kpis.table(session, study_id=study_id, weeks=weeks, now=now),
        "kpi_weeks": kpis.weekly(session, study_id=study_id, weeks=max(weeks, CHART_WEEKS), now=now),
    }


def _figures(session: Session, study: StudyView, start: datetime, end: datetime) -> dict:
    # A round counts once it has closed: while it is open, some of its people are not even asked yet
    # (prompts go out at each one's own 09:00), and the rest still have a day to answer.
    rounds = [
        r
        for r in session.exec(select(CheckinRound).where(CheckinRound.study_id == study.id))
        if r.closed_at is not None and start <= r.closed_at < end
    ]
    by_side: dict[str, list[int]] = {"sponsor": [0, 0], "cro": [0, 0]}
    by_person: dict[str, list[int]] = {}
    for round_ in rounds:
        answered = {
            a.person_id
            for a in session.exec(select(CheckinAnswer).where(CheckinAnswer.round_id == round_.id))
        }
        for handle in round_.prompts:
            person = study.people.get(handle)
            if person is None:
                continue
            hit = int(person.id in answered)
            by_side.setdefault(person.side, [0, 0])
            by_side[person.side][0] += hit
            by_side[person.side][1] += 1
            by_person.setdefault(person.name, [0, 0])
            by_person[person.name][0] += hit
            by_person[person.name][1] += 1
    answered_questions = [
        q
        for q in session.exec(select(Question).where(Question.study_id == study.id))
        if q.answered_at and start <= q.answered_at < end
    ]
    acked = [
        e
        for e in session.exec(select(Escalation).where(Escalation.study_id == study.id))
        if e.acknowledged_at and start <= e.acknowledged_at < end
    ]
    items = list(session.exec(select(ActionItem).where(ActionItem.study_id == study.id)))
    due_in = [i for i in items if i.due_on and start.date() <= i.due_on < end.date()]
    on_time = sum(1 for i in due_in if i.state == "done" and i.done_at and i.done_at.date() <= i.due_on)
    late = sum(
        1
        for i in due_in
        if (i.state == "done" and i.done_at and i.done_at.date() > i.due_on) or i.state == "open"
    )
    return {
        "response_by_side": {side: _rate(*counts) for side, counts in by_side.items() if counts[1]},
        "response_by_person": {name: _rate(*counts) for name, counts in sorted(by_person.items())},
        "rounds": len(rounds),
        "median_hours_to_answer": _median(
            [(q.answered_at - q.asked_at).total_seconds() / 3600 for q in answered_questions]
        ),
        "median_minutes_to_acknowledge": _median(
            [(e.acknowledged_at - e.raised_at).total_seconds() / 60 for e in acked]
        ),
        "actions_on_time": on_time,
        "actions_late": late,
        "actions_open": sum(
            1 for i in items if i.state == "open" and (not i.due_on or i.due_on >= end.date())
        ),
    }


def _weekly_rates(session: Session, study: StudyView, now: datetime, weeks: int) -> list[dict]:
    series = []
    began = timeline.began(session.get(Study, study.id))
    for back in range(weeks - 1, -1, -1):
        end = now - timedelta(weeks=back)
        if end <= began and back:
            continue  # a week before the study: no trend of it
        figures = _figures(session, study, max(end - timedelta(weeks=1), min(began, end)), end)
        series.append(
            {
                "week": checkins.week_of(end),
                **{side: figures["response_by_side"].get(side) for side in ("sponsor", "cro")},
            }
        )
    return series


def _rate(hits: int, total: int) -> dict:
    return {"answered": hits, "asked": total, "percent": round(100 * hits / total) if total else None}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def chart_png(report: dict) -> bytes:
    """Each KPI week by week, a line a side, against its target (dashed), one panel a KPI (PNG). A week
    with nothing due leaves a gap rather than a zero."""
    figure = chart_figure(report)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def chart_figure(report: dict):
    """The chart as a matplotlib figure: each panel's dashed line is labelled with its own KPI's target
    (one shared legend would name only one panel's)."""
    # A figure of its own, drawn by Agg, without pyplot: no global state to close, and pyplot's import
    # (backends, the figure manager) was a third of the time a report took to build.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series = report["kpi_weeks"]
    weeks = [w["week"].split("-")[1] for w in series]
    rows = report["kpis"]["rows"]
    figure = Figure(figsize=(3 * len(rows), 3.2), dpi=100)
    FigureCanvasAgg(figure)
    panels = figure.subplots(1, len(rows), sharey=True)
    for axes, row in zip(panels, rows, strict=True):
        for side, label, marker in (("sponsor", "Sponsor", "o"), ("cro", "CRO", "s")):
            values = [w["kpis"][row["kpi"]][side] for w in series]
            axes.plot(
                range(len(weeks)),
                [float("nan") if v is None else v for v in values],
                marker=marker,
                label=label,
            )
        axes.axhline(row["target"], linestyle="--", color="grey", linewidth=1)
        axes.text(
            0.02,
            row["target"] - 2,
            f"target {row['target']}%",
            transform=axes.get_yaxis_transform(),
            fontsize=7,
            color="grey",
            verticalalignment="top",
        )
        axes.set_title(row["label"], fontsize=8, wrap=True)
        axes.set_xticks(range(len(weeks)), weeks, fontsize=7)
        axes.set_ylim(0, 105)
    panels[0].set_ylabel("% in time, by side")
    panels[-1].legend(loc="lower right", fontsize=7)
    figure.suptitle(f"{report['study']}: KPIs by side against the targets, week by week", fontsize=10)
    figure.tight_layout()
    return figure


def send_report(
    session: Session,
    *,
    study_id: int,
    weeks: int,
    now: datetime,
    key: str,
    to: outbox.Destination,
    at_once: bool = False,
    mail_to: StudyView | None = None,
) -> bool:
    """Queue the report's figures, and its chart as an upload in their thread (`at_once`: one asked for);
    `mail_to`: the study whose `report_to:` gets it by e-mail too, the chart inline."""
    report = build_report(session, study_id=study_id, weeks=weeks, now=now)
    queued = outbox.enqueue(
        session, key=key, to=to, notice=Notice("report", report), now=now, study_id=study_id, at_once=at_once
    )
    if mail_to is not None:
        report_to.mail(session, mail_to, key=key, notice=Notice("report", report), now=now)
    if queued:
        chart = {
            "filename": f"cadence-{report['study']}-{report['to']}.png",
            "title": "KPIs by side against the targets",
            "content_b64": base64.b64encode(chart_png(report)).decode(),
            "study": report["study"],
        }
        outbox.enqueue(
            session,
            key=f"{key}:chart",
            to=outbox.Destination.thread(key),
            notice=Notice("report_chart", chart),
            now=now,
            study_id=study_id,
        )
    return queued


def request_report(session: Session, *, requester: Requester, weeks: int, now: datetime) -> ReportRequested:
    """`/cadence report [weeks]`: an admin's report goes to the study channel; anyone else's (and any
    report of a study without a channel) to the person alone, not to both companies' channel."""
    study = directory.current(session).studies[requester.study_id]
    shared = study.channel if requester.is_admin else None
    to = outbox.Destination.channel(shared) if shared else outbox.Destination.person(requester.person_id)
    send_report(
        session,
        study_id=study.id,
        weeks=weeks,
        now=now,
        key=f"report:{study.key}:{requester.handle}:{now.isoformat()}",
        to=to,
        at_once=True,
    )
    return ReportRequested(weeks, shared)


@due.each_study(order=70, cadence=True)
def weekly_reports(session: Session, study: StudyView, *, now: datetime) -> int:
    """Monday 08:00 in the study's timezone: last week's report to the study channel, once; none in the
    study's first day (its week would lie before the study), and none from its end on."""
    local = now.astimezone(ZoneInfo(study.timezone))
    if not study.channel or DAYS[local.weekday()] != REPORT_DAY or (local.hour, local.minute) < REPORT_TIME:
        return 0
    if now < timeline.began(session.get(Study, study.id)) + FIRST_REPORT_AFTER:
        return 0
    return send_report(
        session,
        study_id=study.id,
        weeks=1,
        now=now,
        key=f"report:{study.key}:{checkins.week_of(local)}",
        to=outbox.Destination.channel(study.channel),
        mail_to=study,
    )


@outbox.attaches_to_email("report")
def chart_inline(session: Session, row: OutboxMessage) -> tuple[Attachment, ...]:
    """A report e-mailed to `report_to:` shows its chart inline (in chat it follows in the thread)."""
    if row.recipient_kind != "email":
        return ()
    report = row.payload
    chart = Attachment(
        filename=f"cadence-{report['study']}-{report['to']}.png",
        content_type="image/png",
        content=chart_png(report),
        title="KPIs by side against the targets",
        inline=True,
    )
    return (chart,)


@due.next_for_study(weekly_reports)
def next_weekly_report(session: Session, study: StudyView, *, now: datetime) -> datetime | None:
    """The next Monday 08:00 of a study with a channel, in the study's timezone."""
    if not study.channel:
        return None
    return next_local(now, time(*REPORT_TIME), ZoneInfo(study.timezone), days=(REPORT_DAY,))


@due.each_study(order=90, sees_every_change=True)
def refresh_homes(session: Session, study: StudyView, *, now: datetime) -> int:
    """Republish the App Home of whoever's home changed: keyed by its content, so once per change. The
    tick runs this for a study only when something in it changed, or at a moment of its calendar."""
    homes = _StudyHomes.read(session, study, now)
    drawn = {}
    for person in study.people.values():
        if not person.slack_id:
            continue
        data = homes.home_of(person).as_data()
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
        drawn[f"home:{study.key}:{person.handle}:{digest}"] = (person, data)
    # Most homes are as they were: one read finds those, rather than an insert each that changes nothing.
    published = set(session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(list(drawn)))))
    return sum(
        outbox.enqueue(
            session,
            key=key,
            to=outbox.Destination.person(person.id),
            notice=Notice("home", data),
            now=now,
            study_id=study.id,
            at_once=True,  # an App Home is no message: it notifies nobody
        )
        for key, (person, data) in drawn.items()
        if key not in published
    )


@due.next_for_study(refresh_homes)
def next_home_change(session: Session, study: StudyView, *, now: datetime) -> datetime | None:
    """A home changes with what the other work and people do (any change in the study makes this due at
    once) and with the calendar: each person's next midnight (due dates, milestones, away days), and
    their next check-in."""
    moments = []
    plan = checkins.checkin_plan(session.get(Study, study.id))
    for person in study.people.values():
        if not person.slack_id:
            continue
        moments.append(next_local(now, time(0, 0), ZoneInfo(person.timezone)))
        if plan and person.handle in plan.participants:
            moments.append(_next_checkin(plan, person.timezone, now))
    return min((m for m in moments if m), default=None)
