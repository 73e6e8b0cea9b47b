"""Milestones and deliverables: written updates from their owners, slips told to both sides, and
deliverables accepted by the people the plan names.

The plan keeps each milestone's name, due date, owner, acceptors (`accepted_by`) and how often its owner
is asked for an update (`update_every`); a `milestone` row keeps what chat made of it since (status,
forecast, done, accepted), and every written update is kept as it was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from bot import audit, calendars, directory, due, outbox
from bot.dates import in_words, read_leading_date
from bot.db import insert_once
from bot.directory import Contact, StudyView
from bot.errors import BadCommand, CadenceError, NotAnAdmin
from bot.models import Milestone, MilestoneUpdate, Study
from bot.replies import Notice
from bot.studies import Requester, typists_day
from bot.timing import parse_duration

STATUSES = ("on-track", "at-risk", "slipped")
NEAR = timedelta(weeks=8)  # within this of its due date a milestone is asked about weekly
WEEKLY, MONTHLY = timedelta(weeks=1), timedelta(weeks=4)
REMIND_AFTER = timedelta(days=1)
_STATUS = re.compile(r"\b(on[- ]track|at[- ]risk|slipped)\b", re.I)
_FORECAST = re.compile(r"^(?:forecast|new date|now due)\s+", re.I)


@dataclass(frozen=True)
class LastUpdate:
    text: str
    by: str
    at: datetime


@dataclass(frozen=True)
class MilestoneLine:
    id: int
    name: str
    owner: Contact | None
    due: date | None
    status: str
    forecast: date | None
    overdue: bool
    acceptors: tuple[Contact, ...]
    accepted_by: str | None
    last: LastUpdate | None

    @property
    def standing(self) -> str:
        """How it stands as shown: "late" once it is open past its due date, whatever was last said."""
        return "late" if self.overdue else self.status


@dataclass(frozen=True)
class MilestonesListed:
    study_key: str
    lines: tuple[MilestoneLine, ...]


@dataclass(frozen=True)
class MilestoneUpdated:
    line: MilestoneLine
    slipped: bool  # told in the channel and to the admins


@dataclass(frozen=True)
class MilestoneDone:
    line: MilestoneLine
    asked: tuple[str, ...]  # the acceptors asked to accept it; empty: done is done


@dataclass(frozen=True)
class MilestoneAccepted:
    line: MilestoneLine
    by: str
    already: bool


@dataclass(frozen=True)
class ChangesRequested:
    line: MilestoneLine
    by: str
    reason: str


# --- reading -------------------------------------------------------------------------------------


def _planned(session: Session, study_id: int) -> list[dict]:
    study = session.get(Study, study_id)
    return [m for m in ((study.plan if study else {}) or {}).get("milestones") or [] if m.get("name")]


def _rows(session: Session, study_id: int, now: datetime) -> dict[str, Milestone]:
    """Each plan milestone's row, made the first time it is needed (its updates are asked for from then)."""
    rows = {r.key: r for r in session.exec(select(Milestone).where(Milestone.study_id == study_id))}
    missing = {spec["name"].casefold() for spec in _planned(session, study_id)} - set(rows)
    if not missing:
        return rows
    # The tick and a command may both be first: whoever comes second keeps the row the first made.
    for key in sorted(missing):
        values = {"study_id": study_id, "key": key, "status": "on-track", "created_at": now}
        insert_once(session, Milestone, values, unique=("study_id", "key"))
    return {r.key: r for r in session.exec(select(Milestone).where(Milestone.study_id == study_id))}


def _line(session: Session, study: StudyView, spec: dict, row: Milestone, today: date) -> MilestoneLine:
    last = session.exec(
        select(MilestoneUpdate)
        .where(MilestoneUpdate.milestone_id == row.id)
        .order_by(col(MilestoneUpdate.at).desc(), col(MilestoneUpdate.id).desc())
    ).first()
    due_on = date.fromisoformat(spec["due"]) if spec.get("due") else None
    open_ = row.status not in {"done", "accepted"}
    assert row.id is not None
    return MilestoneLine(
        id=row.id,
        name=spec["name"],
        owner=study.people.get(spec.get("owner") or ""),
        due=due_on,
        status=row.status,
        forecast=row.forecast,
        overdue=bool(open_ and due_on and due_on < today),
        acceptors=tuple(study.people[h] for h in spec.get("accepted_by") or () if h in study.people),
        accepted_by=row.accepted_by,
        last=LastUpdate(last.text, last.by, last.at) if last else None,
    )


def list_milestones(session: Session, *, requester: Requester, now: datetime) -> MilestonesListed:
    """`/milestones`: every milestone, overdue and at risk first."""
    study = directory.current(session).studies[requester.study_id]
    today, _ = typists_day(session, requester, now)
    rows = _rows(session, study.id, now)
    lines = [
        _line(session, study, spec, rows[spec["name"].casefold()], today)
        for spec in _planned(session, study.id)
    ]
    urgency = {"slipped": 1, "at-risk": 1, "on-track": 2, "done": 3, "accepted": 4}
    lines.sort(key=lambda ln: (not ln.overdue, urgency.get(ln.status, 2), ln.due or date.max))
    return MilestonesListed(study.key, tuple(lines))


def _find(
    session: Session, study: StudyView, words: str, now: datetime, *, typos: bool = True
) -> tuple[dict, Milestone]:
    """The milestone the words name: its number, its name, a word of it, or (`typos`) a typo of either."""
    specs = _planned(session, study.id)
    rows = _rows(session, study.id, now)
    wanted = words.strip().casefold().lstrip("m")
    if wanted.isdigit():
        found = [s for s in specs if rows[s["name"].casefold()].id == int(wanted)]
    else:
        wanted = words.strip().casefold()
        found = [s for s in specs if s["name"].casefold() == wanted]
        found = found or [s for s in specs if set(wanted.split()) <= set(s["name"].casefold().split())]
        if not found and typos:
            scored = sorted(
                ((fuzz.WRatio(wanted, s["name"].casefold()), s) for s in specs), key=lambda x: -x[0]
            )
            found = [s for score, s in scored[:1] if score >= 85]
    if len(found) != 1:
        names = ", ".join(s["name"] for s in specs) or "none in the plan"
        raise BadCommand(
            f"No single milestone is '{words.strip()}'.", hint=f"The study's milestones: {names}."
        )
    return found[0], rows[found[0]["name"].casefold()]


def named(session: Session, requester: Requester, words: str, now: datetime, *, typos: bool = True) -> int:
    """The id of the milestone `words` name (as /milestones done and accept take it)."""
    _, row = _find(session, directory.current(session).studies[requester.study_id], words, now, typos=typos)
    assert row.id is not None
    return row.id


def named_and_rest(session: Session, requester: Requester, text: str, now: datetime) -> tuple[int, str]:
    """`M2 the listings miss site 104`: the milestone the first words name (the most words that name one
    exactly), and the rest; failing that, a typo of the first word."""
    words = text.split()
    for cut in range(len(words), 0, -1):
        try:
            return named(session, requester, " ".join(words[:cut]), now, typos=False), " ".join(words[cut:])
        except BadCommand:
            continue
    return named(session, requester, words[0] if words else text, now), " ".join(words[1:])


def as_they_stand(session: Session, *, study_id: int, now: datetime, reading: bool = False) -> list[dict]:
    """Each milestone's name, due date, owner, status ("late" when open past its due date, in the study's
    time) and forecast, for the cadence report and the App Home. `reading`: make no row (a milestone
    nobody has looked at yet is on track), so reading a home writes nothing."""
    study = directory.current(session).studies[study_id]
    if reading:
        rows = {r.key: r for r in session.exec(select(Milestone).where(Milestone.study_id == study_id))}
    else:
        rows = _rows(session, study_id, now)
    today = now.astimezone(ZoneInfo(study.timezone)).date()
    standings = []
    for spec in _planned(session, study_id):
        row = rows.get(spec["name"].casefold())
        standings.append(
            {
                "name": spec["name"],
                "due": spec.get("due"),
                "owner": study.people[spec["owner"]].name if spec.get("owner") in study.people else "",
                "status": standing(row.status if row else "on-track", spec.get("due"), today),
                "forecast": _iso(row.forecast if row else None),
            }
        )
    return standings


def standing(status: str, due: str | None, today: date) -> str:
    """A milestone's status as shown: "late" once it is open past its due date (an ISO date)."""
    late = status not in {"done", "accepted"} and due is not None and date.fromisoformat(due) < today
    return "late" if late else status


# --- updates ---------------------------------------------------------------------------------------


def update_typed(session: Session, *, requester: Requester, text: str, now: datetime) -> MilestoneUpdated:
    """`/milestones update <milestone> on-track|at-risk|slipped [forecast <date>] <what moved>`."""
    match = _STATUS.search(text)
    if match is None or not text[: match.start()].strip():
        raise BadCommand(
            "Name the milestone and its status: on-track, at-risk or slipped.",
            hint="For example: /milestones update first patient at-risk forecast 2027-01-29 two sites late",
        )
    study = directory.current(session).studies[requester.study_id]
    _, row = _find(session, study, text[: match.start()], now)
    rest = text[match.end() :].strip()
    forecast = None
    if _FORECAST.match(rest):
        today, month_first = typists_day(session, requester, now)
        read = read_leading_date(_FORECAST.sub("", rest).split(), today, month_first=month_first)
        if read is None:
            raise BadCommand("After 'forecast', give the new date.", hint="For example: forecast 2027-01-29")
        forecast, words = read
        rest = " ".join(words)
    assert row.id is not None
    return record_update(
        session,
        requester=requester,
        milestone_id=row.id,
        status=match.group(1).casefold().replace(" ", "-"),
        forecast=forecast,
        text=rest,
        now=now,
    )


def record_update(
    session: Session,
    *,
    requester: Requester,
    milestone_id: int,
    status: str,
    forecast: date | None,
    text: str,
    now: datetime,
) -> MilestoneUpdated:
    """A written update (typed, or from the Update form): only the owner or an admin. Kept, audited,
    posted in the milestone's thread; a slip is told in the channel and to the admins of both sides."""
    study = directory.current(session).studies[requester.study_id]
    spec, row = _by_id(session, study, milestone_id)
    _owner_or_admin(requester, spec, "update")
    if status not in STATUSES:
        raise BadCommand(f"'{status}' is not a status.", hint="on-track, at-risk or slipped")
    if not text.strip():
        raise BadCommand("Say what moved, in a few words.", hint="It is what both sides read.")
    if row.status in {"done", "accepted"}:
        raise CadenceError(f"{spec['name']} is {row.status} already.")
    due_on = date.fromisoformat(spec["due"]) if spec.get("due") else None
    before = row.forecast or due_on
    slipped = status != "on-track" or bool(forecast and due_on and forecast > due_on)
    session.add(
        MilestoneUpdate(
            milestone_id=milestone_id,
            by=requester.name,
            status=status,
            forecast=forecast,
            previous_forecast=before,
            text=text.strip(),
            at=now,
        )
    )
    row.status, row.updated_at = status, now
    row.forecast = forecast or row.forecast
    audit.record(
        session,
        action="milestone.updated",
        actor=requester.actor,
        study_id=study.id,
        subject=spec["name"],
        detail={
            "status": status,
            "forecast": _iso(forecast),
            "text": text.strip(),
            "slip": {"from": _iso(before), "to": _iso(forecast or before)} if slipped else None,
        },
    )
    today, _ = typists_day(session, requester, now)
    line = _line(session, study, spec, row, today)
    data = _data(study, line) | {"by": requester.name, "text": text.strip(), "previous": _iso(before)}
    _tell_channel(
        session,
        study,
        f"ms-update:{study.key}:{milestone_id}:{now.isoformat()}",
        Notice("milestone_slip" if slipped else "milestone_update", data),
        now,
    )
    if slipped:
        outbox.tell_admins(
            session,
            study,
            key=f"ms-slip:{study.key}:{milestone_id}:{now.isoformat()}",
            notice=Notice("milestone_slip", data),
            now=now,
            besides=requester.person_id,
        )
    return MilestoneUpdated(line, slipped)


# --- deliverables ----------------------------------------------------------------------------------


def mark_done(session: Session, *, requester: Requester, milestone_id: int, now: datetime) -> MilestoneDone:
    """The owner (or an admin) says it is done; a deliverable goes to its acceptors with Accept and
    Request changes, anything else is done."""
    study = directory.current(session).studies[requester.study_id]
    spec, row = _by_id(session, study, milestone_id)
    _owner_or_admin(requester, spec, "mark done")
    today, _ = typists_day(session, requester, now)
    if row.status in {"done", "accepted"}:
        return MilestoneDone(_line(session, study, spec, row, today), ())
    row.status, row.done_at, row.updated_at = "done", now, now
    line = _line(session, study, spec, row, today)
    audit.record(
        session, action="milestone.done", actor=requester.actor, study_id=study.id, subject=spec["name"]
    )
    for person in line.acceptors:
        outbox.enqueue(
            session,
            key=f"ms-accept:{study.key}:{milestone_id}:{now.isoformat()}:{person.handle}",
            to=outbox.Destination.person(person.id),
            notice=Notice("milestone_accept", _data(study, line) | {"by": requester.name}),
            now=now,
            study_id=study.id,
        )
    _tell_channel(
        session,
        study,
        f"ms-done:{study.key}:{milestone_id}:{now.isoformat()}",
        Notice("milestone_done", _data(study, line) | {"by": requester.name}),
        now,
    )
    return MilestoneDone(line, tuple(p.name for p in line.acceptors))


def accept(session: Session, *, requester: Requester, milestone_id: int, now: datetime) -> MilestoneAccepted:
    """An acceptor (or an admin) accepts a done deliverable; a second click changes nothing."""
    study = directory.current(session).studies[requester.study_id]
    spec, row = _by_id(session, study, milestone_id)
    _acceptor_or_admin(requester, spec, "accept")
    today, _ = typists_day(session, requester, now)
    if row.status == "accepted":
        return MilestoneAccepted(_line(session, study, spec, row, today), row.accepted_by or "", True)
    if row.status != "done":
        raise CadenceError(f"{spec['name']} is not done yet, so it cannot be accepted.")
    row.status, row.accepted_at, row.accepted_by, row.updated_at = "accepted", now, requester.name, now
    audit.record(
        session, action="milestone.accepted", actor=requester.actor, study_id=study.id, subject=spec["name"]
    )
    line = _line(session, study, spec, row, today)
    _tell_channel(
        session,
        study,
        f"ms-accepted:{study.key}:{milestone_id}",
        Notice("milestone_accepted", _data(study, line) | {"by": requester.name}),
        now,
    )
    return MilestoneAccepted(line, requester.name, False)


def request_changes(
    session: Session, *, requester: Requester, milestone_id: int, reason: str, now: datetime
) -> ChangesRequested:
    """An acceptor sends a done deliverable back with a reason: the owner is told, and it is open again."""
    study = directory.current(session).studies[requester.study_id]
    spec, row = _by_id(session, study, milestone_id)
    _acceptor_or_admin(requester, spec, "request changes to")
    if not reason.strip():
        raise BadCommand("Say what needs to change.", hint="The owner gets your words.")
    if row.status != "done":
        raise CadenceError(f"{spec['name']} is not waiting for acceptance.")
    row.status, row.done_at, row.updated_at = "at-risk", None, now
    audit.record(
        session,
        action="milestone.changes_requested",
        actor=requester.actor,
        study_id=study.id,
        subject=spec["name"],
        detail={"reason": reason.strip()},
    )
    today, _ = typists_day(session, requester, now)
    line = _line(session, study, spec, row, today)
    if line.owner is not None:
        outbox.enqueue(
            session,
            key=f"ms-changes:{study.key}:{milestone_id}:{now.isoformat()}",
            to=outbox.Destination.person(line.owner.id),
            notice=Notice(
                "milestone_changes", _data(study, line) | {"by": requester.name, "reason": reason.strip()}
            ),
            now=now,
            study_id=study.id,
        )
    return ChangesRequested(line, requester.name, reason.strip())


# --- asked and chased --------------------------------------------------------------------------------


def update_every(spec: dict, today: date) -> timedelta:
    """How often the owner is asked: the plan's `update_every`, else weekly within eight weeks of the due
    date and every four weeks before that."""
    if spec.get("update_every"):
        return parse_duration(spec["update_every"]).as_timedelta()
    due_on = date.fromisoformat(spec["due"]) if spec.get("due") else None
    return WEEKLY if due_on is None or due_on - today <= NEAR else MONTHLY


@due.each_study(order=45, cadence=True)
def ask_for_updates(session: Session, study: StudyView, *, now: datetime) -> int:
    """Each open milestone's owner, once a period without an update: a DM at a working hour of their own
    day, one reminder a day later, and the admins told when two periods passed with none."""
    queued = 0
    specs = _planned(session, study.id)
    if not specs:
        return 0
    rows = _rows(session, study.id, now)
    for spec in specs:
        row = rows[spec["name"].casefold()]
        owner = study.people.get(spec.get("owner") or "")
        if owner is None or row.status in {"done", "accepted"}:
            continue
        queued += _chase(session, study, spec, row, owner, now)
    return queued


def _chase(
    session: Session, study: StudyView, spec: dict, row: Milestone, owner: Contact, now: datetime
) -> int:
    period = update_every(spec, now.date())
    since = row.updated_at or row.created_at
    if now < since + period:
        return 0
    round_ = int((now - since) / period)  # the periods without an update, so far: one ask each
    key = f"ms-ask:{study.key}:{row.id}:{since.isoformat()}:{round_}"
    if outbox.message(session, key) is not None:
        return 0  # this period's ask, reminder and flag are queued already: every later tick stops here
    line = _line(session, study, spec, row, now.date())
    calendar = calendars.of(study, owner)
    asked_at = calendar.next_working_moment(since + period * round_)
    data = _data(study, line)
    me = outbox.Destination.person(owner.id)
    reminded = calendar.next_working_moment(asked_at + REMIND_AFTER)
    queued = sum(
        outbox.enqueue(session, key=k, to=me, notice=n, now=now, study_id=study.id, due_at=at)
        for k, n, at in (
            (key, Notice("milestone_ask", data), asked_at),
            (f"{key}:reminder", Notice("milestone_ask", data | {"reminder": True}), reminded),
        )
    )
    if round_ >= 2:
        queued += outbox.tell_admins(
            session,
            study,
            key=f"ms-silent:{study.key}:{row.id}:{since.isoformat()}",
            notice=Notice("milestone_silent", data),
            now=now,
            besides=owner.id,  # an admin who owns it was just asked: not told of their own silence too
        )
    return queued


@outbox.cancel_unless_still_wanted("milestone_ask")
def _ask_still_open(session: Session, message) -> str | None:
    """An ask waiting for the owner's morning is dropped when they updated the milestone meanwhile."""
    row = session.get(Milestone, message.payload.get("id"))
    if row is None or row.status in {"done", "accepted"}:
        return "the milestone is closed"
    if row.updated_at and row.updated_at >= message.created_at:
        return "the owner updated it meanwhile"
    return None


@due.next_for_study(ask_for_updates)
def next_update_ask(session: Session, study: StudyView, *, now: datetime) -> datetime | None:
    moments = []
    specs = _planned(session, study.id)
    if not specs:
        return None
    rows = {r.key: r for r in session.exec(select(Milestone).where(Milestone.study_id == study.id))}
    for spec in specs:
        row = rows.get(spec["name"].casefold())
        if row is None:
            return now + timedelta(minutes=1)  # not read yet: the next tick makes its row
        if row.status not in {"done", "accepted"}:
            since = row.updated_at or row.created_at
            period = update_every(spec, now.date())
            moments.append(
                since + period * (int((now - since) / period) + 1)
                if now >= since + period
                else since + period
            )
    return min(moments, default=None)


# --- helpers ----------------------------------------------------------------------------------------


def _by_id(session: Session, study: StudyView, milestone_id: int) -> tuple[dict, Milestone]:
    row = session.get(Milestone, milestone_id)
    specs = {s["name"].casefold(): s for s in _planned(session, study.id)}
    if row is None or row.study_id != study.id or row.key not in specs:
        raise CadenceError(
            "That milestone is not in the study's plan (any more).", hint="/milestones lists them."
        )
    return specs[row.key], row


def _owner_or_admin(requester: Requester, spec: dict, what: str) -> None:
    if requester.handle != spec.get("owner") and not requester.is_admin:
        raise NotAnAdmin(
            f"Only {spec['name']}'s owner or an admin can {what} it.", hint="/milestones shows who owns it."
        )


def _acceptor_or_admin(requester: Requester, spec: dict, what: str) -> None:
    if requester.handle not in (spec.get("accepted_by") or ()) and not requester.is_admin:
        raise NotAnAdmin(
            f"Only {spec['name']}'s acceptors or an admin can {what} it.",
            hint="/milestones shows who accepts it.",
        )


def _tell_channel(session: Session, study: StudyView, key: str, notice: Notice, now: datetime) -> None:
    """Post in the study channel, where both sides read (a study without one has nowhere to post)."""
    if study.channel:
        outbox.enqueue(
            session,
            key=key,
            to=outbox.Destination.channel(study.channel),
            notice=notice,
            now=now,
            study_id=study.id,
        )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _data(study: StudyView, line: MilestoneLine) -> dict:
    return {
        "study": study.key,
        "id": line.id,
        "name": line.name,
        "status": line.standing,
        "due": _iso(line.due),
        "forecast": _iso(line.forecast),
        "owner": line.owner.carried() if line.owner else None,
        "due_words": in_words(line.due) if line.due else None,
    }
