"""Escalation: a problem raised with /escalate walks up the plan's agreed path until someone on it
acknowledges, and is closed with a resolution note. Every step is an audit event; the wording names
roles and facts, never blame.

The issue's row holds its level and the deadline of that level; the tick climbs what is overdue.
Every change bumps the row's version under a conditional UPDATE, so two instances never climb the
same issue twice, and every message is an outbox row keyed by issue, level and step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz.distance import OSA, Levenshtein
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot import audit, calendars, directory, due, outbox
from bot.directory import Contact, StudyView
from bot.errors import BadCommand, CadenceError
from bot.models import AuditEvent, Escalation, Study
from bot.plan import PAGING_BY_DEFAULT, SEVERITIES
from bot.replies import Notice
from bot.studies import Requester
from bot.timing import Duration, add_duration, parse_duration

TOP_REMINDERS = 3  # at the top of the path, reminders repeat at the level's interval this many times
DEFAULT_INTERVAL = parse_duration("1d")  # for a top level without ack_within of its own or below it


@dataclass(frozen=True)
class Level:
    number: int
    name: str
    people: tuple[Contact, ...]
    ack_within: Duration | None


@dataclass(frozen=True)
class EscalationForm:
    """`/escalate` alone: the adapter shows a form with these choices."""

    study_key: str
    severities: tuple[str, ...]
    topics: tuple[str, ...]


@dataclass(frozen=True)
class IssueView:
    ref: str
    summary: str
    severity: str
    state: str
    level: Level
    levels: int
    topic: str | None
    impact: str
    tried: str
    reporter: Contact
    raised_at: datetime
    deadline: datetime | None
    ack_within: str | None  # the current level's deadline in words ("4h"), when it has one
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str | None
    next_level: Level | None


@dataclass(frozen=True)
class IssueChanged:
    issue: IssueView
    what: str  # raised, acknowledged, resolved, escalated, already


@dataclass(frozen=True)
class IssueList:
    issues: tuple[IssueView, ...]
    now: datetime


@dataclass(frozen=True)
class IssueHistory:
    issue: IssueView
    events: tuple[tuple[datetime, str, str], ...]  # when, who, what


def reference(study_key: str, issue_id: int) -> str:
    return f"{study_key}-E{issue_id}"


# --- the path ------------------------------------------------------------------------------------


def _config(session: Session, study_id: int) -> dict[str, Any]:
    study = session.get(Study, study_id)
    config = (study.plan if study else {}).get("escalation") if study else None
    if not config or not config.get("levels"):
        raise BadCommand(
            "This study's plan has no escalation path.",
            hint="Add escalation.levels to the plan and apply it.",
        )
    return config


def _levels(session: Session, study: StudyView) -> list[Level]:
    config = _config(session, study.id)
    return [
        Level(
            i,
            spec["name"],
            tuple(study.people[h] for h in spec["who"] if h in study.people),
            parse_duration(spec["ack_within"]) if spec.get("ack_within") else None,
        )
        for i, spec in enumerate(config["levels"], 1)
    ]


def _severity(session: Session, study_id: int, severity: str) -> dict[str, Any]:
    return (_config(session, study_id).get("severities") or {}).get(severity) or {}


def level_deadline_duration(
    session: Session, study: StudyView, severity: str, level: Level
) -> Duration | None:
    """How long a level has to acknowledge an issue of this severity: the level's `ack_within`, scaled by
    the severity's `ack_factor`, or replaced by the severity's own `ack_within`."""
    spec = _severity(session, study.id, severity)
    if spec.get("ack_within"):
        return parse_duration(spec["ack_within"])
    if level.ack_within is None:
        return None
    return replace(level.ack_within, amount=level.ack_within.amount * (spec.get("ack_factor") or 1))


def _deadline(
    session: Session, study: StudyView, issue: Escalation, levels: list[Level], level: Level, now: datetime
) -> datetime | None:
    """When the issue next moves at `level`: its deadline to acknowledge; at the top, which may have none
    of its own (executives), the first reminder, at the last interval the path knows."""
    within = level_deadline_duration(session, study, issue.severity, level)
    if within is None and level.number == len(levels):
        within = _reminder_interval(session, study, issue, levels)
    return _due_after(session, study, issue, level, now, within) if within else None


def pages(session: Session, study_id: int, severity: str) -> bool:
    """Whether this severity reaches people at once, day or night (the plan's `after_hours: page`; by
    default critical), rather than in their working hours with deadlines counted in working time."""
    after_hours = _severity(session, study_id, severity).get("after_hours")
    return (after_hours or ("page" if severity in PAGING_BY_DEFAULT else "wait")) == "page"


def _due_after(
    session: Session, study: StudyView, issue: Escalation, level: Level, now: datetime, within: Duration
) -> datetime:
    """A level's deadline: for a page, on the clock; otherwise in the working time of the level's people,
    the earliest of them (the first to have had `within` of working time is the one who could have acted),
    but not of whoever raised it: their own evening does not move an issue they are waiting on."""
    if pages(session, study.id, issue.severity) or not level.people:
        return add_duration(now, within, ZoneInfo(study.timezone))
    people = [p for p in level.people if p.id != issue.reporter_id] or list(level.people)
    found = calendars.earliest((calendars.of(study, p) for p in people), now, within)
    assert found is not None
    return found


def _reminder_interval(
    session: Session, study: StudyView, issue: Escalation, levels: list[Level]
) -> Duration:
    for level in reversed(levels):
        within = level_deadline_duration(session, study, issue.severity, level)
        if within:
            return within
    return DEFAULT_INTERVAL


# --- raising -------------------------------------------------------------------------------------


# Severities in people's words (any case, with punctuation: `HIGH:`, `[P1]`, `Sev-2`, `priority: low`). A
# plan adds its own under escalation.severities.<name>.words, and its words win over these.
SEVERITY_WORDS = {
    "critical": ("critical", "crit", "sev1", "sev0", "p1", "p0", "blocker", "showstopper", "emergency"),
    "high": ("high", "sev2", "p2", "urgent"),
    "medium": ("medium", "med", "sev3", "p3"),
    "low": ("low", "sev4", "p4", "minor", "trivial"),
}  # fmt: skip
_LABEL = re.compile(r"^(?:sev(?:erity)?|prio(?:rity)?)$")  # "severity: high", "prio low"
_RANKED = re.compile(r"^(?:sev(?:erity)?|prio(?:rity)?|p)\s*-?\s*(\d+)$")  # sev 5, p7: ranks unknown
_RANK_LIKE = re.compile(r"^(?:sev|p)\d+[^\w\s]")  # "p1-ish" where the plan has no such word
_PUNCTUATION = "[](){}<>:;,.!?*_#=~\"'`-–—"


def severity_words(session: Session, study_id: int) -> dict[str, str]:
    """Every word that names a severity in this study: the plan's own words, then Cadence's."""
    words = {word: name for name, known in SEVERITY_WORDS.items() for word in known}
    for name, spec in (_config(session, study_id).get("severities") or {}).items():
        words |= {_folded(word): name for word in (spec or {}).get("words") or []}
    return words


def read_escalation(session: Session, *, requester: Requester, text: str) -> tuple[str, str]:
    """`/escalate <words>` in the study's own severity words: (severity, summary)."""
    return parse_escalate(text, severity_words(session, requester.study_id))


def parse_escalate(text: str, words: dict[str, str] | None = None) -> tuple[str, str]:
    """`HIGH: Temperature excursion` -> ("high", "Temperature excursion"); no severity given means medium.
    A word that looks like a severity but is none Cadence knows (`critcal`, `sev7`, `severity: huge`) is
    asked about, never filed as medium."""
    known = words if words is not None else {w: n for n, ws in SEVERITY_WORDS.items() for w in ws}
    tokens = text.strip().split()
    if not tokens:
        return "medium", ""
    first = _folded(tokens[0])
    if _LABEL.match(first) and len(tokens) > 1:  # "severity: high …", "prio 2 …"
        value = _folded(tokens[1])
        value = f"{'p' if first.startswith('p') else 'sev'}{value}" if value.isdigit() else value
        return _known_or_asked(value, _rest(tokens, 2), known)
    if len(tokens) > 1 and _LABEL.match(_folded(tokens[1])) and _folded(tokens[0]) in known:
        return known[_folded(tokens[0])], _rest(tokens, 2)  # "high priority: …"
    if len(tokens) > 1 and re.fullmatch(r"(?:sev|p)-?", first) and _folded(tokens[1]).isdigit():
        return _known_or_asked(first.rstrip("-") + _folded(tokens[1]), _rest(tokens, 2), known)  # "sev 2"
    if (
        first in known
        or _RANKED.match(first)
        or _misspelled_severity(first, known)
        or _RANK_LIKE.match(first)
    ):
        return _known_or_asked(first, _rest(tokens, 1), known)
    return "medium", text.strip()


def _rest(tokens: list[str], taken: int) -> str:
    return " ".join(tokens[taken:]).lstrip(_PUNCTUATION + " ")


def _known_or_asked(said: str, rest: str, known: dict[str, str]) -> tuple[str, str]:
    """The severity `said` names, or a refusal that says which it may have meant."""
    ranked = _RANKED.match(said)
    said = (
        f"{'p' if said.startswith('p') and not said.startswith('prio') else 'sev'}{ranked[1]}"
        if ranked
        else said
    )
    if said in known:
        return known[said], rest
    summary = rest or "<summary>"
    if ranked:
        kind = said.rstrip("0123456789")
        raise BadCommand(
            f"{said} is not a severity this study knows, so nothing was filed.",
            hint=f"{kind}1 is critical, {kind}2 high, {kind}3 medium, {kind}4 low: "
            f"/escalate {kind}2 {summary}",
        )
    meant = _misspelled_severity(said, known)
    if meant:
        raise BadCommand(
            f"Did you mean {meant}? Nothing was filed.",
            hint=f"/escalate {meant} {summary}   (severities: {', '.join(SEVERITIES)})",
        )
    raise BadCommand(
        f"'{said}' is not a severity this study knows, so nothing was filed.",
        hint=f"/escalate high {summary}   "
        f"(severities: {', '.join(SEVERITIES)}; also urgent, sev1–sev4, P1–P4)",
    )


def _folded(words: str) -> str:
    return " ".join(words.casefold().strip(_PUNCTUATION + " ").split())


def _misspelled_severity(word: str, known: dict[str, str] | None = None) -> str | None:
    """A severity word one slip away: for long names any slip, for short ones (low, high) a dropped letter or
    two swapped, so that words such as "how" or "law" starting a summary are not taken for one."""
    typed = word.casefold()
    if len(typed) < 3 or " " in typed:
        return None
    for said in known or SEVERITIES:
        if not said.isalpha() or OSA.distance(typed, said) != 1:
            continue
        if len(said) >= 5 or len(typed) < len(said) or Levenshtein.distance(typed, said) == 2:
            return said
    return None


def escalation_form(session: Session, *, requester: Requester) -> EscalationForm:
    study = _study(session, requester)
    _config(session, study.id)
    return EscalationForm(study.key, SEVERITIES, tuple(t.topic for t in study.topics))


def raise_issue(
    session: Session,
    *,
    requester: Requester,
    severity: str,
    summary: str,
    now: datetime,
    topic: str | None = None,
    impact: str = "",
    tried: str = "",
) -> IssueChanged:
    """Log an issue at the level its severity names, post its card, and notify that level."""
    summary = " ".join(summary.split())
    if not summary:
        raise BadCommand(
            "Say in a few words what the problem is.",
            hint="For example: /escalate high Temperature excursion on kit shipment 14",
        )
    if severity not in SEVERITIES:
        raise BadCommand(f"'{severity}' is not a severity.", hint="Use low, medium, high or critical.")
    study = _study(session, requester)
    levels = _levels(session, study)
    start = (_severity(session, study.id, severity).get("start_level")) or 1
    issue = Escalation(
        study_id=study.id,
        summary=summary,
        severity=severity,
        topic=topic or None,
        impact=impact.strip(),
        tried=tried.strip(),
        reporter_id=requester.person_id,
        level=start,
        raised_at=now,
        level_since=now,
    )
    session.add(issue)
    session.flush()
    issue.deadline = _deadline(session, study, issue, levels, levels[start - 1], now)
    _record(
        session,
        study,
        issue,
        requester.actor,
        "raised",
        {"severity": severity, "level": start, "summary": summary},
    )
    view = _view(session, study, issue, levels)
    outbox.enqueue(
        session,
        key=_key("esc-card", study, issue),
        to=outbox.Destination.channel(study.channel)
        if study.channel
        else outbox.Destination.person(requester.person_id),
        notice=Notice("escalation_card", snapshot(view)),
        now=now,
        study_id=study.id,
        at_once=True,  # in a DM, the card answers their own /escalate
    )
    _notify_level(session, study, issue, levels, now, why="just raised", actor_id=requester.person_id)
    return IssueChanged(view, "raised")


# --- acting on an issue ----------------------------------------------------------------------------


def acknowledge(session: Session, *, requester: Requester, issue_id: int, now: datetime) -> IssueChanged:
    """Someone on the current level (or above, or an admin) picks the issue up: the climb stops."""
    study, issue, levels = _load(session, requester, issue_id)
    if issue.state != "open":
        return IssueChanged(_view(session, study, issue, levels), "already")
    _require_on_path(study, issue, levels, requester, "acknowledge")
    _change(
        session,
        issue,
        state="acknowledged",
        acknowledged_at=now,
        acknowledged_by=requester.name,
        deadline=None,
    )
    _record(
        session,
        study,
        issue,
        requester.actor,
        "acknowledged",
        {"by": requester.handle, "minutes": _minutes(issue.raised_at, now)},
    )
    _after_change(
        session, study, issue, levels, now, tell_reporter="acknowledged", actor_id=requester.person_id
    )
    return IssueChanged(_view(session, study, issue, levels), "acknowledged")


def resolve(
    session: Session, *, requester: Requester, issue_id: int, note: str, now: datetime
) -> IssueChanged:
    """Close the issue with a short resolution note; times to acknowledge and to resolve are recorded."""
    study, issue, levels = _load(session, requester, issue_id)
    if issue.state == "resolved":
        return IssueChanged(_view(session, study, issue, levels), "already")
    if requester.person_id != issue.reporter_id:
        _require_on_path(study, issue, levels, requester, "resolve")
    if not note.strip():
        raise BadCommand("Add a short resolution note.", hint="What was done, in a sentence.")
    acknowledged = issue.acknowledged_at or now
    _change(
        session,
        issue,
        state="resolved",
        resolved_at=now,
        resolved_by=requester.name,
        resolution=note.strip(),
        deadline=None,
        acknowledged_at=acknowledged,
        acknowledged_by=issue.acknowledged_by or requester.name,
    )
    _record(
        session,
        study,
        issue,
        requester.actor,
        "resolved",
        {
            "by": requester.handle,
            "note": note.strip(),
            "minutes_to_acknowledge": _minutes(issue.raised_at, acknowledged),
            "minutes_to_resolve": _minutes(issue.raised_at, now),
        },
    )
    _after_change(session, study, issue, levels, now, tell_reporter="resolved", actor_id=requester.person_id)
    return IssueChanged(_view(session, study, issue, levels), "resolved")


def escalate_now(
    session: Session, *, requester: Requester, issue_id: int, reason: str, now: datetime
) -> IssueChanged:
    """Climb one level at once, with a reason (anyone on the path, the reporter, or an admin)."""
    study, issue, levels = _load(session, requester, issue_id)
    if issue.state == "resolved":
        raise CadenceError(f"{reference(study.key, issue.id)} is resolved already.")
    if requester.person_id != issue.reporter_id:
        _require_on_path(study, issue, levels, requester, "escalate")
    if not reason.strip():
        raise BadCommand("Add the reason to escalate now.", hint="It goes to the next level with the issue.")
    if issue.level >= len(levels):
        raise CadenceError(
            f"{reference(study.key, issue.id)} is at the top of the path already.",
            hint=f"{levels[-1].name} have it.",
        )
    if issue.state == "acknowledged":
        _change(session, issue, state="open")
    _climb(
        session,
        study,
        issue,
        levels,
        now,
        actor=requester.actor,
        reason=reason.strip(),
        actor_id=requester.person_id,
    )
    return IssueChanged(_view(session, study, issue, levels), "escalated")


def climbed_unacknowledged(
    session: Session,
    *,
    study_id: int,
    subjects: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> set[str]:
    """The references of issues Cadence moved up because nobody acknowledged them in time (of
    `subjects`, or climbed from `start` to `end`). A climb by hand (`/escalate up`) was someone's
    choice, not a missed acknowledgement."""
    query = select(AuditEvent.subject).where(
        AuditEvent.study_id == study_id,
        AuditEvent.action == "escalation.escalated",
        AuditEvent.actor == "cadence",
    )
    if subjects is not None:
        query = query.where(col(AuditEvent.subject).in_(subjects))
    if start is not None:
        query = query.where(AuditEvent.at >= start)
    if end is not None:
        query = query.where(AuditEvent.at < end)
    return {subject for subject in session.exec(query) if subject}


@due.work(order=10)
def climb_overdue(session: Session, *, now: datetime) -> int:
    """Move issues nobody acknowledged in time up a level; at the top, remind a bounded number of times."""
    moved = 0
    view = directory.current(session)
    due = session.exec(select(Escalation).where(Escalation.state == "open", col(Escalation.deadline) <= now))
    for issue in list(due):
        study = view.studies.get(issue.study_id)
        if study is None:
            continue
        levels = _levels(session, study)
        if issue.level < len(levels):
            moved += _climb(session, study, issue, levels, now, actor="cadence", reason=None)
        else:
            moved += _remind_top(session, study, issue, levels, now)
    return moved


def _climb(
    session: Session,
    study: StudyView,
    issue: Escalation,
    levels: list[Level],
    now: datetime,
    *,
    actor: str,
    reason: str | None,
    actor_id: int | None = None,
) -> int:
    """Up one level; whoever climbed it (`actor_id`) is not told of their own step."""
    before = levels[issue.level - 1]
    after = levels[issue.level]
    waited = level_deadline_duration(session, study, issue.severity, before)
    if not _change(
        session,
        issue,
        level=issue.level + 1,
        level_since=now,
        deadline=_deadline(session, study, issue, levels, after, now),
    ):
        return 0  # another instance moved it first
    why = reason or (f"no acknowledgement within {waited}" if waited else "no acknowledgement")
    _record(session, study, issue, actor, "escalated", {"from": before.name, "to": after.name, "why": why})
    _notify_level(session, study, issue, levels, now, why=why, actor_id=actor_id)
    for person in before.people:
        if person.id == actor_id:
            continue
        outbox.enqueue(
            session,
            key=f"{_key('esc-moved', study, issue)}:L{issue.level}:{person.handle}",
            to=outbox.Destination.person(person.id),
            now=now,
            study_id=study.id,
            notice=Notice(
                "escalation_moved",
                {**snapshot(_view(session, study, issue, levels)), "from_level": before.name, "why": why},
            ),
        )
    _after_change(session, study, issue, levels, now, tell_reporter="escalated", actor_id=actor_id)
    return 1


def _remind_top(
    session: Session, study: StudyView, issue: Escalation, levels: list[Level], now: datetime
) -> int:
    if issue.reminders >= TOP_REMINDERS:
        _change(session, issue, deadline=None)
        _record(session, study, issue, "cadence", "reminders_done", {"reminders": issue.reminders})
        return 0
    interval = _reminder_interval(session, study, issue, levels)
    number = issue.reminders + 1
    if not _change(
        session,
        issue,
        reminders=number,
        deadline=_due_after(session, study, issue, levels[-1], now, interval),
    ):
        return 0
    _record(session, study, issue, "cadence", "reminded", {"reminder": number, "level": levels[-1].name})
    _notify_level(
        session, study, issue, levels, now, why=f"reminder {number} of {TOP_REMINDERS}", step=f"R{number}"
    )
    return 1


@due.next_due_of(climb_overdue)
def next_deadline(session: Session, *, now: datetime) -> datetime | None:
    """The next open issue's deadline: its level's, or the next reminder at the top."""
    soonest = select(func.min(Escalation.deadline)).where(
        Escalation.state == "open", col(Escalation.deadline) > now
    )
    return session.exec(soonest).one()


# --- looking up ------------------------------------------------------------------------------------


def list_open(session: Session, *, requester: Requester, now: datetime) -> IssueList:
    """The study's issues not yet resolved, oldest first."""
    study = _study(session, requester)
    _config(session, study.id)  # a study without a path is told so
    return IssueList(open_issues(session, study=study), now)


def open_issues(session: Session, *, study: StudyView) -> tuple[IssueView, ...]:
    """The study's issues not yet resolved, oldest first, each at its level with its deadline (none for a
    study without an escalation path): what /escalate list, the App Homes and the dashboard show."""
    row = session.get(Study, study.id)
    if not (((row.plan if row else None) or {}).get("escalation") or {}).get("levels"):
        return ()
    levels = _levels(session, study)
    issues = session.exec(
        select(Escalation)
        .where(Escalation.study_id == study.id, Escalation.state != "resolved")
        .order_by(col(Escalation.raised_at), col(Escalation.id))
    )
    return tuple(_view(session, study, i, levels) for i in issues)


def show(session: Session, *, requester: Requester, issue_id: int) -> IssueHistory:
    """One issue with its whole history."""
    study, issue, levels = _load(session, requester, issue_id)
    return IssueHistory(
        _view(session, study, issue, levels), tuple(_history(session, study, issue, everything=True))
    )


def _describe(event: AuditEvent) -> str:
    d = event.detail
    match event.action.removeprefix("escalation."):
        case "raised":
            return f"raised ({d.get('severity')}) at level {d.get('level')}"
        case "notified":
            return f"notified {d.get('level')}: {', '.join(d.get('people', []))}"
        case "acknowledged":
            return f"acknowledged after {d.get('minutes')} min"
        case "escalated":
            return f"moved from {d.get('from')} to {d.get('to')}: {d.get('why')}"
        case "reminded":
            return f"reminded {d.get('level')} ({d.get('reminder')} of {TOP_REMINDERS})"
        case "reminders_done":
            return "reminders at the top level done"
        case "resolved":
            return f"resolved: {d.get('note')}"
    return event.action


def _actor_names(study: StudyView) -> dict[str, str]:
    """Every way an audit actor (`<chat>:<id>`) names a person of the study -> the person's name: their
    handle (the console), their Slack id, their Teams id, their e-mail (Teams, for people the plan knows
    by e-mail alone)."""
    names: dict[str, str] = {}
    for p in study.people.values():
        for ident in (p.handle, p.slack_id, p.teams_id, (p.email or "").casefold() or None):
            if ident:
                names.setdefault(ident, p.name)
    return names


def _actor_name(actor: str, names: dict[str, str]) -> str:
    if actor == "cadence":
        return "Cadence"
    _platform, _, ident = actor.partition(":")
    return names.get(ident) or names.get(ident.casefold()) or ident


# --- helpers -------------------------------------------------------------------------------------------


def _key(kind: str, study: StudyView, issue: Escalation) -> str:
    return f"{kind}:{study.key}:{issue.id}"


def _study(session: Session, requester: Requester) -> StudyView:
    return directory.current(session).studies[requester.study_id]


def _load(session: Session, requester: Requester, issue_id: int) -> tuple[StudyView, Escalation, list[Level]]:
    study = _study(session, requester)
    issue = session.get(Escalation, issue_id)
    if issue is None or issue.study_id != study.id:
        raise BadCommand(
            f"There is no issue {reference(study.key, issue_id)}.", hint="/escalate list shows them."
        )
    return study, issue, _levels(session, study)


def _require_on_path(
    study: StudyView, issue: Escalation, levels: list[Level], requester: Requester, what: str
) -> None:
    allowed = {p.id for level in levels[issue.level - 1 :] for p in level.people}
    if requester.person_id not in allowed and not requester.is_admin:
        current = levels[issue.level - 1]
        raise CadenceError(
            f"Only {current.name} (or a level above, or an admin) can {what} "
            f"{reference(study.key, issue.id)}, and nothing was changed.",
            hint="You can follow it with /escalate show " + reference(study.key, issue.id) + ".",
        )


def _change(session: Session, issue: Escalation, **values: Any) -> bool:
    """Apply `values` only if nobody changed the issue since it was read (another instance, a double click)"""
    result = session.exec(  # type: ignore[call-overload]
        update(Escalation)
        .where(col(Escalation.id) == issue.id, col(Escalation.version) == issue.version)
        .values(version=issue.version + 1, **values)
    )
    if result.rowcount != 1:
        session.refresh(issue)
        return False
    session.refresh(issue)
    return True


def _record(
    session: Session, study: StudyView, issue: Escalation, actor: str, what: str, detail: dict
) -> None:
    audit.record(
        session,
        action=f"escalation.{what}",
        actor=actor,
        study_id=study.id,
        subject=reference(study.key, issue.id),
        detail=detail,
    )


@outbox.urgent_when("escalation_notify")
def _critical(notice: dict[str, Any]) -> bool:
    """A critical issue reaches its level at once and on its own, whatever else the person heard today."""
    return notice.get("severity") == "critical"


def _notify_level(
    session: Session,
    study: StudyView,
    issue: Escalation,
    levels: list[Level],
    now: datetime,
    *,
    why: str,
    step: str = "",
    actor_id: int | None = None,
) -> None:
    """The level's people asked to pick the issue up, but not whoever just acted, unless they are all
    the level has."""
    level = levels[issue.level - 1]
    view = _view(session, study, issue, levels)
    history = [
        f"{when:%Y-%m-%d %H:%M} UTC · {who}: {what}" for when, who, what in _history(session, study, issue)
    ]
    others = [p for p in level.people if p.id != actor_id] or list(level.people)
    paging = pages(session, study.id, issue.severity)
    for person in others:
        data = {**snapshot(view), "why": why, "history": history}
        if paging and not calendars.of(study, person).working_at(now):
            data["after_hours"] = f"Sent outside working hours because it is {issue.severity}"
        outbox.enqueue(
            session,
            key=f"{_key('esc-notify', study, issue)}:L{issue.level}{step}:{person.handle}",
            to=outbox.Destination.person(person.id),
            now=now,
            study_id=study.id,
            notice=Notice("escalation_notify", data),
            at_once=paging,
        )
    _record(
        session,
        study,
        issue,
        "cadence",
        "notified",
        {"level": level.name, "people": [p.handle for p in others]},
    )


def _history(session: Session, study: StudyView, issue: Escalation, *, everything: bool = False):
    """The issue's steps from the audit log: when, who, what (notifications only when `everything`)."""
    ref = reference(study.key, issue.id)
    names = _actor_names(study)
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.study_id == study.id, AuditEvent.subject == ref)
        .order_by(col(AuditEvent.id))
    )
    return [
        (e.at, _actor_name(e.actor, names), _describe(e))
        for e in events
        if everything or e.action != "escalation.notified"
    ]


def _after_change(
    session: Session,
    study: StudyView,
    issue: Escalation,
    levels: list[Level],
    now: datetime,
    *,
    tell_reporter: str,
    actor_id: int | None = None,
) -> None:
    """The card shows the new state, and the reporter hears what happened (unless they did it)."""
    view = _view(session, study, issue, levels)
    data = snapshot(view)
    outbox.enqueue(
        session,
        key=f"{_key('esc-card-update', study, issue)}:v{issue.version}",
        to=outbox.Destination.update(_key("esc-card", study, issue)),
        now=now,
        study_id=study.id,
        notice=Notice("escalation_card", data),
    )
    if issue.reporter_id == actor_id:
        return
    outbox.enqueue(
        session,
        key=f"{_key('esc-reporter', study, issue)}:v{issue.version}",
        to=outbox.Destination.person(issue.reporter_id),
        now=now,
        study_id=study.id,
        notice=Notice("escalation_reporter", {**data, "event": tell_reporter}),
    )


def _view(session: Session, study: StudyView, issue: Escalation, levels: list[Level]) -> IssueView:
    level = levels[min(issue.level, len(levels)) - 1]
    within = level_deadline_duration(session, study, issue.severity, level)
    reporter = study.person(issue.reporter_id) or Contact(
        issue.reporter_id, "former", "someone no longer in the plan", "", "", None, None, None, None, "UTC"
    )
    return IssueView(
        ref=reference(study.key, issue.id), summary=issue.summary, severity=issue.severity, state=issue.state,
        level=level, levels=len(levels), topic=issue.topic, impact=issue.impact, tried=issue.tried,
        reporter=reporter, raised_at=issue.raised_at, deadline=issue.deadline,
        ack_within=str(within) if within and issue.state == "open" else None,
        acknowledged_by=issue.acknowledged_by, acknowledged_at=issue.acknowledged_at,
        resolved_by=issue.resolved_by, resolved_at=issue.resolved_at, resolution=issue.resolution,
        next_level=levels[issue.level] if issue.level < len(levels) else None,
    )  # fmt: skip


def snapshot(view: IssueView) -> dict[str, Any]:
    """The issue as plain data for a notice, rendered by each adapter."""

    def person(p: Contact) -> dict[str, Any]:
        return {"name": p.name, "handle": p.handle, "slack_id": p.slack_id, "role": p.role}

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "ref": view.ref, "issue_id": int(view.ref.rsplit("-E", 1)[1]), "summary": view.summary,
        "severity": view.severity, "state": view.state, "level": view.level.number, "levels": view.levels,
        "level_name": view.level.name, "people": [person(p) for p in view.level.people],
        "topic": view.topic, "impact": view.impact, "tried": view.tried, "reporter": person(view.reporter),
        "raised_at": iso(view.raised_at), "deadline": iso(view.deadline), "ack_within": view.ack_within,
        "acknowledged_by": view.acknowledged_by, "acknowledged_at": iso(view.acknowledged_at),
        "resolved_by": view.resolved_by, "resolved_at": iso(view.resolved_at), "resolution": view.resolution,
        "next_level": view.next_level.name if view.next_level else None,
    }  # fmt: skip


def _minutes(start: datetime, end: datetime) -> int:
    return round((end - start) / timedelta(minutes=1))
