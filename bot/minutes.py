"""Minutes, decisions and action items: written from a form or pasted notes, confirmed, posted to the
study channel; each action owned, dated, reminded and closed with a click; late minutes chased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import audit, calendars, directory, due, outbox, timeline
from bot.dates import ambiguous, in_words, order_words, read_date, read_leading_date
from bot.directory import Contact, StudyView
from bot.errors import BadCommand, CadenceError
from bot.models import ActionItem, Decision, Minutes, OutboxMessage, Study
from bot.notes import find_person, parse_action, parse_notes
from bot.replies import Notice
from bot.studies import Requester, typists_day
from bot.timing import add_duration, local_moments, parse_duration, parse_schedule

AD_HOC = "Ad hoc meeting"
_AT = re.compile(r"(?<![\w.])@([\w.-]+)")
OVERDUE_NUDGES = 5  # nudges on the business days after an overdue item's due date, then Cadence stops
REMIND_AT = time(9, 0)  # reminders go out at this hour of the owner's own day


@dataclass(frozen=True)
class MinutesForm:
    study_key: str
    meetings: tuple[str, ...]
    today: date
    people: tuple[Contact, ...] = ()  # who may be picked as attending


@dataclass(frozen=True)
class MinutesDraft:
    minutes_id: int
    ref: str
    data: dict[str, Any]  # what the minutes will say: see _minutes_data


@dataclass(frozen=True)
class MinutesPosted:
    ref: str
    actions: int
    decisions: int
    channel: str | None
    unowned: int = 0  # action items that need an owner


@dataclass(frozen=True)
class ActionLine:
    id: int
    text: str
    owner: str  # the owner's name, or "" while the item needs an owner
    due_on: date | None
    overdue: bool
    meeting: str


@dataclass(frozen=True)
class ActionList:
    items: tuple[ActionLine, ...]
    everyone: bool


@dataclass(frozen=True)
class ActionChanged:
    item: ActionLine
    what: str  # done, moved, already, added, assigned, already-owned
    before: str = ""  # the previous owner's name, for a reassignment
    note: str = ""  # how an ambiguous date was read


@dataclass(frozen=True)
class DecisionLine:
    id: int
    text: str
    meeting: str | None
    decided_on: date
    superseded_by: int | None
    supersedes: int | None


@dataclass(frozen=True)
class DecisionLog:
    decisions: tuple[DecisionLine, ...]


def ref(study_key: str, minutes_id: int) -> str:
    return f"{study_key}-M{minutes_id}"


# --- writing -------------------------------------------------------------------------------------


def minutes_form(session: Session, *, requester: Requester, now: datetime) -> MinutesForm:
    study = _study(session, requester)
    return MinutesForm(
        study.key,
        (*(m["name"] for m in _meetings(session, study)), AD_HOC),
        _today(study, now),
        tuple(study.people.values()),
    )


def draft_minutes(
    session: Session,
    *,
    requester: Requester,
    text: str,
    now: datetime,
    meeting: str | None = None,
    held_on: date | None = None,
    attendees: list[str] | None = None,
    attendee_ids: list[str] | None = None,
    corrects: int | None = None,
) -> MinutesDraft:
    """Read pasted notes (or a form) into a draft the note taker confirms before it is posted; with
    `corrects`, the whole corrected text of posted minutes, which it supersedes once posted."""
    if not text.strip():
        raise BadCommand(
            "Paste the notes after /minutes, or use /minutes alone for the form.",
            hint="Lines like ACTION @raj: send the plan by Friday and DECISION: … are recognised.",
        )
    study = _study(session, requester)
    people = list(study.people.values())
    if attendee_ids:  # picked in a form: by handle, or by the chat's id where the chat has a picker
        picked = set(attendee_ids)
        attendees = [p.handle for p in people if picked & {p.handle, p.slack_id, p.teams_id}]
    today, month_first = typists_day(session, requester, now)  # the note taker's day and convention
    parsed = parse_notes(text, people, today, month_first=month_first)
    meetings = [m["name"] for m in _meetings(session, study)]
    meeting = meeting or (meetings[0] if len(meetings) == 1 else AD_HOC)
    if corrects is not None:  # the same meeting, day and people as the minutes it corrects
        original = _correctable(session, study, corrects, requester)
        meeting, held_on, attendees = original.meeting, original.held_on, list(original.attendees)
    minutes = Minutes(
        study_id=study.id,
        meeting=meeting,
        held_on=held_on or _today(study, now),
        attendees=sorted(set(attendees or _default_attendees(session, study, meeting))),
        notes=list(parsed.notes),
        parsed={
            "actions": [
                {
                    "text": a.text,
                    "owner": a.owner.handle if a.owner else None,
                    "due": a.due.isoformat() if a.due else None,
                    "line": a.line,
                    "problems": list(a.problems),
                }
                for a in parsed.actions
            ],
            "decisions": list(parsed.decisions),
            "problems": list(parsed.problems),
            "guesses": list(parsed.guesses),
            **({"corrects": corrects} if corrects is not None else {}),
        },
        note_taker_id=requester.person_id,
        created_at=now,
    )
    session.add(minutes)
    session.flush()
    return MinutesDraft(minutes.id, ref(study.key, minutes.id), _minutes_data(study, minutes))


def post_minutes(session: Session, *, requester: Requester, minutes_id: int, now: datetime) -> MinutesPosted:
    """Post confirmed minutes: the channel gets them, each owner their actions; tracking starts."""
    study = _study(session, requester)
    minutes = _minutes(session, study, minutes_id)
    if minutes.note_taker_id != requester.person_id and not requester.is_admin:
        raise CadenceError("Only the note taker (or an admin) can post these minutes.")
    moved = session.exec(  # type: ignore[call-overload]
        update(Minutes)
        .where(col(Minutes.id) == minutes.id, col(Minutes.state) == "draft")
        .values(state="posted", posted_at=now)
    )
    if moved.rowcount != 1:
        session.refresh(minutes)
        raise CadenceError(f"{ref(study.key, minutes.id)} is {minutes.state} already; nothing changed.")
    session.refresh(minutes)
    corrected = _superseded(session, study, minutes, requester)
    kept = _open_items(session, corrected) if corrected else {}
    items: dict[int, ActionItem] = {}  # by the action's place in the minutes
    changes: list[Change] = []
    for place, action in enumerate(minutes.parsed["actions"]):
        if not action["text"]:
            continue  # nothing to do: shown as not understood, not tracked
        owner = study.people.get(action["owner"] or "")  # None: tracked as needing an owner
        if (same := kept.pop(action["text"].casefold(), None)) is not None:
            changes += _carry_over(same, minutes, owner, action["due"], study)
            items[place] = same
            continue
        if corrected:
            changes.append(Change("added", action["text"], None, owner.id if owner else None))
        item = ActionItem(
            study_id=study.id,
            minutes_id=minutes.id,
            owner_id=owner.id if owner else None,
            text=action["text"],
            due_on=date.fromisoformat(action["due"]) if action["due"] else None,
            created_at=now,
        )
        session.add(item)
        items[place] = item
    already = {d.casefold() for d in corrected.parsed["decisions"]} if corrected else set()
    for text in minutes.parsed["decisions"]:
        if text.casefold() in already:
            continue  # decided before: a correction records only what is new
        session.add(
            Decision(
                study_id=study.id,
                minutes_id=minutes.id,
                text=text,
                decided_on=minutes.held_on,
                recorded_by=requester.actor,
                created_at=now,
            )
        )
    for gone in kept.values():  # in the minutes it corrects, not in the correction: dropped
        gone.state = "dropped"
        changes.append(Change("dropped", gone.text, gone.owner_id, None))
    session.flush()
    data = _minutes_data(study, minutes, items)
    if corrected:
        data["changes"] = [c.words(study) for c in changes]
    key = f"minutes:{study.key}:{minutes.id}"
    destination = (
        outbox.Destination.channel(study.channel)
        if study.channel
        else outbox.Destination.person(requester.person_id)
    )
    outbox.enqueue(  # in a DM, the minutes answer their own /minutes
        session,
        key=key,
        to=destination,
        notice=Notice("minutes", data),
        now=now,
        study_id=study.id,
        at_once=True,
    )
    told = {i.owner_id for i in items.values() if i.owner_id is not None}
    if corrected:  # only whom a change concerns hears of a correction, and only of that
        _tell_of_correction(session, study, minutes, corrected, changes, data, now)
        told = set()
    for owner_id in sorted(told):
        owner = study.member(owner_id)
        mine = [
            a for a in data["actions"] if a.get("id") and (a["owner"] or {}).get("handle") == owner.handle
        ]
        outbox.enqueue(
            session,
            key=f"minutes-actions:{study.key}:{minutes.id}:{owner.handle}",
            to=outbox.Destination.person(owner.id),
            now=now,
            study_id=study.id,
            notice=Notice("minutes_actions", {**data, "actions": mine}),
        )
    audit.record(
        session,
        action="minutes.posted",
        actor=requester.actor,
        study_id=study.id,
        subject=ref(study.key, minutes.id),
        detail={
            "meeting": minutes.meeting,
            "held_on": minutes.held_on.isoformat(),
            "actions": len(items),
            "unowned": sum(1 for i in items.values() if i.owner_id is None),
            "decisions": len(minutes.parsed["decisions"]),
            **({"supersedes": ref(study.key, corrected.id), "changes": data["changes"]} if corrected else {}),
        },
    )
    return MinutesPosted(
        ref(study.key, minutes.id),
        len(items),
        len(minutes.parsed["decisions"]),
        study.channel,
        sum(1 for i in items.values() if i.owner_id is None),
    )


@dataclass(frozen=True)
class Change:
    """What a correction changed about one action item, and whom it concerns (person ids)."""

    what: str  # added, dropped, owner, due
    text: str
    before: int | None  # the owner before
    after: int | None  # the owner after
    due: str | None = None

    def words(self, study: StudyView) -> str:
        def name(person_id: int | None) -> str:
            return study.member(person_id).name if person_id is not None else "nobody yet"

        return {
            "added": f"added: {self.text} ({name(self.after)})",
            "dropped": f"dropped: {self.text} ({name(self.before)})",
            "owner": f"{self.text}: now {name(self.after)}'s, was {name(self.before)}'s",
            "due": f"{self.text}: now "
            + (f"due {in_words(date.fromisoformat(self.due))}" if self.due else "no due date"),
        }[self.what]


def _correctable(session: Session, study: StudyView, minutes_id: int, requester: Requester) -> Minutes:
    original = _minutes(session, study, minutes_id)
    if original.state != "posted":
        raise BadCommand(f"{ref(study.key, original.id)} is not posted; correct the draft by discarding it.")
    if original.parsed.get("superseded_by"):
        newer = ref(study.key, original.parsed["superseded_by"])
        raise CadenceError(f"{ref(study.key, original.id)} was corrected already; correct {newer} instead.")
    if original.note_taker_id != requester.person_id and not requester.is_admin:
        raise CadenceError("Only the note taker (or an admin) can correct these minutes.")
    return original


def _superseded(session: Session, study: StudyView, minutes: Minutes, requester: Requester) -> Minutes | None:
    """The posted minutes a correction supersedes, marked so (locked: one correction each), or None."""
    if minutes.parsed.get("corrects") is None:
        return None
    original = session.exec(
        select(Minutes).where(col(Minutes.id) == minutes.parsed["corrects"]).with_for_update()
    ).one()
    _correctable(session, study, original.id, requester)
    original.parsed = {**original.parsed, "superseded_by": minutes.id}
    return original


def _open_items(session: Session, minutes: Minutes) -> dict[str, ActionItem]:
    rows = session.exec(
        select(ActionItem)
        .where(ActionItem.minutes_id == minutes.id, ActionItem.state == "open")
        .order_by(col(ActionItem.id))
    )
    return {item.text.casefold(): item for item in rows}


def _carry_over(
    item: ActionItem, minutes: Minutes, owner: Contact | None, due: str | None, study: StudyView
) -> list[Change]:
    """An item the correction keeps: it moves to the correction, with its new owner and date if any."""
    changes = []
    item.minutes_id = minutes.id
    new_owner = owner.id if owner else None
    if new_owner != item.owner_id and new_owner is not None:  # a correction that names nobody keeps the owner
        changes.append(Change("owner", item.text, item.owner_id, new_owner))
        item.owner_id = new_owner
    new_due = date.fromisoformat(due) if due else None
    if new_due != item.due_on and new_due is not None:
        changes.append(Change("due", item.text, item.owner_id, item.owner_id, due))
        item.due_on = new_due
    return changes


def _tell_of_correction(
    session: Session,
    study: StudyView,
    minutes: Minutes,
    corrected: Minutes,
    changes: list[Change],
    data: dict[str, Any],
    now: datetime,
) -> None:
    concerned = {i for c in changes for i in (c.before, c.after) if i is not None}
    for person_id in sorted(concerned):
        person = study.member(person_id)
        theirs = [c.words(study) for c in changes if person_id in (c.before, c.after)]
        now_theirs = {c.text for c in changes if c.after == person_id and c.what in {"added", "owner", "due"}}
        items = [a for a in data["actions"] if a.get("id") and a["text"] in now_theirs]
        outbox.enqueue(
            session,
            key=f"minutes-corrected:{study.key}:{minutes.id}:{person.handle}",
            to=outbox.Destination.person(person.id),
            now=now,
            study_id=study.id,
            notice=Notice(
                "minutes_corrected",
                {
                    "ref": ref(study.key, minutes.id),
                    "supersedes": ref(study.key, corrected.id),
                    "meeting": minutes.meeting,
                    "held_on": minutes.held_on.isoformat(),
                    "changes": theirs,
                    "actions": items,
                },
            ),
        )


def cancel_minutes(
    session: Session, *, requester: Requester, minutes_id: int, now: datetime
) -> MinutesPosted:
    study = _study(session, requester)
    minutes = _minutes(session, study, minutes_id)
    if minutes.note_taker_id != requester.person_id and not requester.is_admin:
        raise CadenceError("Only the note taker (or an admin) can discard this draft.")
    if minutes.state == "draft":
        minutes.state = "cancelled"
    return MinutesPosted(ref(study.key, minutes.id), 0, 0, None)


# --- tracking ------------------------------------------------------------------------------------


def list_actions(session: Session, *, requester: Requester, everyone: bool, now: datetime) -> ActionList:
    """My open action items, or the study's (overdue first), those that need an owner among them."""
    study = _study(session, requester)
    query = select(ActionItem).where(ActionItem.study_id == study.id, ActionItem.state == "open")
    if not everyone:
        query = query.where(ActionItem.owner_id == requester.person_id)
    today = _today(study, now)
    return ActionList(
        _overdue_first(_line(session, study, item, today) for item in session.exec(query)), everyone
    )


def action_lines_by_owner(
    session: Session, *, study: StudyView, now: datetime
) -> dict[int, tuple[ActionLine, ...]]:
    """Every open action item of the study, by owner, overdue first (what each App Home lists)."""
    today = _today(study, now)
    by_owner: dict[int, list[ActionLine]] = {}
    for item in session.exec(
        select(ActionItem).where(ActionItem.study_id == study.id, ActionItem.state == "open")
    ):
        if item.owner_id is not None:
            by_owner.setdefault(item.owner_id, []).append(_line(session, study, item, today))
    return {owner: _overdue_first(lines) for owner, lines in by_owner.items()}


def _overdue_first(lines) -> tuple[ActionLine, ...]:
    return tuple(sorted(lines, key=lambda line: (not line.overdue, line.due_on or date.max, line.id)))


def complete_action(session: Session, *, requester: Requester, item_id: int, now: datetime) -> ActionChanged:
    """Done: only the owner (or an admin); the meeting's thread hears of it."""
    study = _study(session, requester)
    item = _item(session, study, item_id)
    line = _line(session, study, item, _today(study, now))
    if item.state == "done":
        return ActionChanged(line, "already")
    if item.owner_id is None and not requester.is_admin:
        raise CadenceError(
            f"A{item.id} needs an owner first.", hint=f"/actions assign A{item.id} @who, then they close it."
        )
    if item.owner_id is not None and item.owner_id != requester.person_id and not requester.is_admin:
        raise CadenceError(
            f"Only {line.owner} (or an admin) can close this action.", hint="/actions shows yours."
        )
    item.state, item.done_at, item.done_by = "done", now, requester.name
    audit.record(
        session,
        action="action.done",
        actor=requester.actor,
        study_id=study.id,
        subject=f"A{item.id}",
        detail={
            "text": item.text,
            "due": item.due_on.isoformat() if item.due_on else None,
            "late": bool(item.due_on and _today(study, now) > item.due_on),
        },
    )
    outbox.enqueue(
        session,
        key=f"action-done:{study.key}:{item.id}",
        now=now,
        study_id=study.id,
        to=_where_the_item_lives(study, item, requester),
        notice=Notice("action_done", {"text": item.text, "owner": line.owner, "by": requester.name}),
    )
    return ActionChanged(_line(session, study, item, _today(study, now)), "done")


def move_action(
    session: Session, *, requester: Requester, item_id: int, words: str, now: datetime
) -> ActionChanged:
    """`/actions move A3 Dec 18 IRB delay`: the date the first words name, and the rest as the reason."""
    today, month_first = typists_day(session, requester, now)
    found = read_leading_date(words.split(), today, month_first=month_first)
    if found is None:
        raise BadCommand(
            f"'{words}' does not start with a date Cadence can read.",
            hint=f"/actions move A{item_id} 15.12. <the reason> (or Dec 18, next Friday, EOW, 2026-12-18)",
        )
    due, reason = found
    moved = reschedule_action(
        session,
        requester=requester,
        item_id=item_id,
        new_date=due.isoformat(),
        reason=" ".join(reason),
        now=now,
    )
    written = " ".join(words.split()[: len(words.split()) - len(reason)])
    if ambiguous(written):
        return replace(moved, note=f"{written} was read {order_words(month_first)}, as {in_words(due)}.")
    return moved


def reschedule_action(
    session: Session, *, requester: Requester, item_id: int, new_date: str, reason: str, now: datetime
) -> ActionChanged:
    """Can't make it: a new date and a reason, recorded; reminders follow the new date."""
    study = _study(session, requester)
    item = _item(session, study, item_id)
    if item.owner_id != requester.person_id and not requester.is_admin:
        raise CadenceError("Only the action's owner (or an admin) can move its date.")
    if item.state == "done":
        raise CadenceError("This action is done already.")
    today, month_first = typists_day(session, requester, now)
    due = read_date(new_date, today, month_first=month_first)
    if due is None:
        raise BadCommand(f"'{new_date}' is not a date.", hint="For example: Dec 18, next Friday, 2026-12-18.")
    if due < today:
        raise BadCommand(f"{in_words(due)} has passed.", hint="Name a date that is still to come.")
    if not reason.strip():
        raise BadCommand("Add the reason for the new date.", hint="It is recorded with the change.")
    before = item.due_on
    item.due_on = due
    audit.record(
        session,
        action="action.rescheduled",
        actor=requester.actor,
        study_id=study.id,
        subject=f"A{item.id}",
        detail={
            "from": before.isoformat() if before else None,
            "to": due.isoformat(),
            "reason": reason.strip(),
        },
    )
    return ActionChanged(_line(session, study, item, _today(study, now)), "moved")


def add_action(session: Session, *, requester: Requester, text: str, now: datetime) -> ActionChanged:
    """`/actions add @priya send the diary cards by 15.12.`: an action item outside any minutes, read as
    an ACTION line of the notes is; the owner is told unless they added it themselves."""
    study = _study(session, requester)
    today, month_first = typists_day(session, requester, now)
    action = parse_action(f"ACTION {text}", list(study.people.values()), today, month_first=month_first)
    usage = (
        f"/actions add @who <what> by <when>, e.g. /actions add @{requester.handle} send the cards by 15.12."
    )
    if action.owner is None:
        unknown = _AT.search(text)
        asked = f"Cadence does not know @{unknown.group(1)}." if unknown else "Who owns it?"
        raise BadCommand(f"{asked} {_people_hint(study)}", hint=usage)
    if not action.text:
        raise BadCommand("Say what is to be done.", hint=usage)
    unread = [p for p in action.problems if p != "no due date found"]
    if unread:
        raise BadCommand(f"Nothing was added: {'; '.join(unread)}.", hint=usage)
    item = ActionItem(
        study_id=study.id, owner_id=action.owner.id, text=action.text, due_on=action.due, created_at=now
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        action="action.added",
        actor=requester.actor,
        study_id=study.id,
        subject=f"A{item.id}",
        detail={"text": item.text, "owner": action.owner.handle, "due": _iso(item.due_on)},
    )
    line = _line(session, study, item, today)
    _tell_new_owner(session, study, item, line, requester, now)
    return ActionChanged(line, "added", note=action.guessed or "")


def assign_action(
    session: Session, *, requester: Requester, item_id: int, who: str, now: datetime
) -> ActionChanged:
    """Give an item an owner, or another one: an item that needs an owner anyone of the study may give;
    an owned one its owner, the note taker of its minutes or an admin. Audited; the new owner is told,
    and the one before."""
    study = _study(session, requester)
    item = _item(session, study, item_id)
    if item.state == "done":
        raise CadenceError(f"A{item.id} is done already; nothing changed.")
    people = list(study.people.values())
    picked = next((p for p in people if who.strip() and who.strip() in {p.slack_id, p.teams_id}), None)
    owner = picked or (find_person(who, people) if who.strip() else None)
    if owner is None:
        named = f"Cadence does not know '{who.strip()}'. " if who.strip() else "To whom? "
        raise BadCommand(named + _people_hint(study), hint=f"/actions assign A{item.id} @who")
    may = (
        item.owner_id in (None, requester.person_id)
        or requester.is_admin
        or _noted_by(session, item, requester)
    )
    if not may:
        raise CadenceError(
            f"Only {_owner_name(study, item)}, the note taker or an admin can give A{item.id} to another.",
            hint=f"Ask {_owner_name(study, item)} to pass it on.",
        )
    before = study.person(item.owner_id) if item.owner_id is not None else None
    today = _today(study, now)
    if before is not None and before.id == owner.id:
        return ActionChanged(_line(session, study, item, today), "already-owned")
    item.owner_id = owner.id
    audit.record(
        session,
        action="action.assigned" if before is None else "action.reassigned",
        actor=requester.actor,
        study_id=study.id,
        subject=f"A{item.id}",
        detail={"from": before.handle if before else None, "to": owner.handle, "text": item.text},
    )
    line = _line(session, study, item, today)
    _tell_new_owner(session, study, item, line, requester, now)
    if before is not None and before.id != requester.person_id:
        outbox.enqueue(
            session,
            key=f"action-unassigned:{study.key}:{item.id}:{before.handle}:{now.isoformat()}",
            to=outbox.Destination.person(before.id),
            now=now,
            study_id=study.id,
            notice=Notice(
                "action_unassigned",
                {"id": item.id, "text": item.text, "owner": owner.name, "by": requester.name},
            ),
        )
    return ActionChanged(line, "assigned", before=before.name if before else "")


def _tell_new_owner(
    session: Session,
    study: StudyView,
    item: ActionItem,
    line: ActionLine,
    requester: Requester,
    now: datetime,
) -> None:
    if item.owner_id is None or item.owner_id == requester.person_id:
        return
    outbox.enqueue(
        session,
        key=f"action-assigned:{study.key}:{item.id}:{item.owner_id}:{now.isoformat()}",
        to=outbox.Destination.person(item.owner_id),
        now=now,
        study_id=study.id,
        notice=Notice(
            "action_assigned",
            {
                "id": item.id,
                "text": item.text,
                "due": _iso(item.due_on),
                "by": requester.name,
                "meeting": line.meeting,
            },
        ),
    )


def _people_hint(study: StudyView) -> str:
    names = sorted(f"@{p.handle} ({p.name})" for p in study.people.values())
    return f"Name someone of the plan: {', '.join(names[:12])}{' …' if len(names) > 12 else ''}."


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@due.work(order=40)
def remind_actions(session: Session, *, now: datetime) -> int:
    """One business day before, on the day, then each business day while overdue (bounded), at 09:00 the
    owner's time."""
    queued = 0
    view = directory.current(session)
    for item in session.exec(
        select(ActionItem).where(ActionItem.state == "open", col(ActionItem.due_on).is_not(None))
    ):
        study = view.studies.get(item.study_id)
        owner = study.person(item.owner_id) if study else None
        if study is None or owner is None or item.due_on is None:
            continue
        if not timeline.in_progress(session.get(Study, study.id), now):
            continue  # the study's cadence has not started, or has ended
        zone = ZoneInfo(owner.timezone)
        local = now.astimezone(zone)
        if local.time() < REMIND_AT:
            continue
        day = local.date()
        kind = _reminder_days(item.due_on).get(day)
        if kind is None:
            continue
        line = _line(session, study, item, day)
        queued += outbox.enqueue(
            session,
            key=f"action-reminder:{study.key}:{item.id}:{item.due_on}:{kind}",
            to=outbox.Destination.person(owner.id),
            now=now,
            study_id=study.id,
            notice=Notice(
                "action_reminder",
                {
                    "id": item.id,
                    "text": item.text,
                    "due": item.due_on.isoformat(),
                    "kind": kind,
                    "meeting": line.meeting,
                    "study": study.key,
                },
            ),
        )
    return queued


@due.next_due_of(remind_actions)
def next_action_reminder(session: Session, *, now: datetime) -> datetime | None:
    """09:00 of the owner's day on the next reminder day of an open item: the business day before, the
    day, then each overdue day."""
    view = directory.current(session)
    moments = []
    for item in session.exec(
        select(ActionItem).where(ActionItem.state == "open", col(ActionItem.due_on).is_not(None))
    ):
        study = view.studies.get(item.study_id)
        owner = study.person(item.owner_id) if study else None
        if owner is None or item.due_on is None:
            continue
        days = _reminder_days(item.due_on)
        row = session.get(Study, item.study_id)
        at = (datetime.combine(day, REMIND_AT, tzinfo=ZoneInfo(owner.timezone)) for day in days)
        moments += [m for m in (timeline.within(row, m) for m in at) if m is not None and m > now]
    return min(moments, default=None)


@outbox.cancel_unless_still_wanted("action_reminder")
def _action_still_open(session: Session, row: OutboxMessage) -> str | None:
    item = session.get(ActionItem, row.payload["id"])
    if item is None or item.state != "open":
        return "done meanwhile"
    return None if item.due_on and item.due_on.isoformat() == row.payload["due"] else "its date moved"


def overdue_items(session: Session, *, study_id: int, on: date) -> list[dict[str, Any]]:
    """Open items past their date, for the weekly check-in digest."""
    study = directory.current(session).studies[study_id]
    items = session.exec(
        select(ActionItem)
        .where(ActionItem.study_id == study_id, ActionItem.state == "open", col(ActionItem.due_on) < on)
        .order_by(col(ActionItem.due_on))
    )
    return [
        {"text": i.text, "owner": _overdue_owner(study, i), "due": i.due_on.isoformat()}
        for i in items
        if i.due_on
    ]


# --- decisions -----------------------------------------------------------------------------------


def decision_log(session: Session, *, requester: Requester) -> DecisionLog:
    """The study's decisions, newest first, each with its meeting and date and what superseded it."""
    study = _study(session, requester)
    rows = list(
        session.exec(
            select(Decision)
            .where(Decision.study_id == study.id)
            .order_by(col(Decision.decided_on).desc(), col(Decision.id).desc())
        )
    )
    superseded_by = {d.supersedes_id: d.id for d in rows if d.supersedes_id}
    meetings = {m.id: m.meeting for m in session.exec(select(Minutes).where(Minutes.study_id == study.id))}
    return DecisionLog(
        tuple(
            DecisionLine(
                d.id,
                d.text,
                meetings.get(d.minutes_id or -1),
                d.decided_on,
                superseded_by.get(d.id),
                d.supersedes_id,
            )
            for d in rows
        )
    )


def supersede_decision(
    session: Session, *, requester: Requester, decision_id: int, text: str, now: datetime
) -> DecisionLog:
    """A change to a decision is a new decision that supersedes the old one (admins or note takers)."""
    study = _study(session, requester)
    old = session.get(Decision, decision_id)
    if old is None or old.study_id != study.id:
        raise BadCommand(f"There is no decision D{decision_id}.", hint="/decisions lists them.")
    if not text.strip():
        raise BadCommand("Say what the decision is now.", hint="/decisions change <id> <the new decision>")
    if not requester.is_admin:
        raise CadenceError(
            "Only the plan's admins can change a decision.", hint="Raise it at the next meeting."
        )
    if session.exec(select(Decision).where(Decision.supersedes_id == old.id)).first():
        raise CadenceError(f"D{old.id} was superseded already; change the newer decision.")
    new = Decision(
        study_id=study.id,
        text=text.strip(),
        decided_on=_today(study, now),
        supersedes_id=old.id,
        recorded_by=requester.actor,
        created_at=now,
    )
    session.add(new)
    session.flush()
    audit.record(
        session,
        action="decision.superseded",
        actor=requester.actor,
        study_id=study.id,
        subject=f"D{old.id}",
        detail={"by": f"D{new.id}", "text": new.text},
    )
    return decision_log(session, requester=requester)


# --- chasing the note taker ------------------------------------------------------------------------


@due.each_study(order=50, cadence=True)
def chase_note_takers(session: Session, study: StudyView, *, now: datetime) -> int:
    """A plan meeting passed and no minutes within `minutes_due`: remind the note taker, then the admins."""
    queued = 0
    zone = ZoneInfo(study.timezone)
    started = session.get(Study, study.id).created_at
    for meeting in _meetings(session, study):
        if not (meeting.get("schedule") and meeting.get("minutes_due") and meeting.get("note_taker")):
            continue
        held = _last_meeting_end(meeting, zone, now)
        if held is None or held < started:
            continue  # no meeting since the plan was applied: nobody was asked to take its notes
        note_taker = study.people.get(meeting["note_taker"])
        calendar = calendars.of(study, note_taker) if note_taker else None
        if _not_held(meeting, calendar, held - _length(meeting)):
            continue
        late = parse_duration(meeting["minutes_due"])
        due = calendar.add(held, late) if calendar else add_duration(held, late, zone)
        if now < due or _minutes_posted_for(session, study, meeting["name"], held.date()):
            continue
        data = {
            "study": study.key,
            "meeting": meeting["name"],
            "held_on": held.date().isoformat(),
            "note_taker": note_taker.name if note_taker else meeting["note_taker"],
        }
        if note_taker:
            queued += outbox.enqueue(
                session,
                key=f"minutes-chase:{study.key}:{meeting['name']}:{held.date()}",
                to=outbox.Destination.person(note_taker.id),
                now=now,
                study_id=study.id,
                notice=Notice("minutes_chase", data),
            )
        if now >= (calendar.add(due, late) if calendar else add_duration(due, late, zone)):
            queued += outbox.tell_admins(
                session,
                study,
                key=f"minutes-chase:{study.key}:{meeting['name']}:{held.date()}",
                notice=Notice("minutes_chase_admins", data),
                now=now,
            )
    return queued


@due.next_for_study(chase_note_takers)
def next_minutes_chase(session: Session, study: StudyView, *, now: datetime) -> datetime | None:
    """When minutes of a meeting held, or about to be, next fall late (the note taker) or later still
    (the admins)."""
    moments = []
    zone = ZoneInfo(study.timezone)
    for meeting in _meetings(session, study):
        if not (meeting.get("schedule") and meeting.get("minutes_due") and meeting.get("note_taker")):
            continue
        schedule, late = parse_schedule(meeting["schedule"]), parse_duration(meeting["minutes_due"])
        note_taker = study.people.get(meeting["note_taker"])
        calendar = calendars.of(study, note_taker) if note_taker else None
        for start in local_moments(now, schedule.at, zone, days=schedule.days, back=8):
            if _not_held(meeting, calendar, start):
                continue
            end = start + _length(meeting)
            chase = calendar.add(end, late) if calendar else add_duration(end, late, zone)
            later = calendar.add(chase, late) if calendar else add_duration(chase, late, zone)
            moments += [m for m in (chase, later) if m > now]
    return min(moments, default=None)


def _not_held(meeting: dict[str, Any], note_taker: calendars.WorkingCalendar | None, start: datetime) -> bool:
    """A call that did not take place, so nobody is chased for its minutes: a date the plan's `skip` names
    (the study's day), or a public holiday (or the plan's day off) of the note taker."""
    if start.date().isoformat() in (meeting.get("skip") or []):
        return True
    return note_taker is not None and note_taker.holiday(start.astimezone(note_taker.zone).date()) is not None


def _length(meeting: dict[str, Any]) -> timedelta:
    return (
        parse_duration(meeting["duration"]).as_timedelta() if meeting.get("duration") else timedelta(hours=1)
    )


def _last_meeting_end(meeting: dict[str, Any], zone: ZoneInfo, now: datetime) -> datetime | None:
    """The end of the meeting's latest occurrence in the last week, or None."""
    schedule = parse_schedule(meeting["schedule"])
    length = _length(meeting)
    local = now.astimezone(zone)
    for back in range(8):
        day = local.date() - timedelta(days=back)
        if day.strftime("%a").casefold() in schedule.days:
            end = datetime.combine(day, schedule.at, tzinfo=zone) + length
            if end <= now:
                return end
    return None


def _minutes_posted_for(session: Session, study: StudyView, meeting: str, held_on: date) -> bool:
    return (
        session.exec(
            select(Minutes).where(
                Minutes.study_id == study.id,
                Minutes.meeting == meeting,
                Minutes.state == "posted",
                col(Minutes.held_on) >= held_on - timedelta(days=1),
            )
        ).first()
        is not None
    )


# --- helpers -------------------------------------------------------------------------------------


def _minutes_data(
    study: StudyView, minutes: Minutes, items: dict[int, ActionItem] | None = None
) -> dict[str, Any]:
    """What the minutes say, as plain data for the preview, the channel post and the owners' DMs."""
    items = items or {}

    def who(handle: str | None) -> dict[str, Any] | None:
        person = study.people.get(handle or "")
        return (
            {"name": person.name, "handle": person.handle, "slack_id": person.slack_id, "side": person.side}
            if person
            else None
        )

    actions = []
    for place, action in enumerate(minutes.parsed["actions"]):
        item = items.get(place)
        actions.append({**action, "owner": who(action["owner"]), "id": item.id if item else None})
    attendees = [who(h) for h in minutes.attendees if h in study.people]
    note_taker = study.member(minutes.note_taker_id)
    return {
        "ref": ref(study.key, minutes.id),
        "minutes_id": minutes.id,
        "study": study.key,
        "meeting": minutes.meeting,
        "held_on": minutes.held_on.isoformat(),
        "attendees": attendees,
        "notes": minutes.notes,
        "decisions": minutes.parsed["decisions"],
        "actions": actions,
        "problems": minutes.parsed["problems"],
        "guesses": minutes.parsed.get("guesses") or [],
        "corrects": ref(study.key, minutes.parsed["corrects"]) if minutes.parsed.get("corrects") else None,
        "note_taker": who(note_taker.handle),
    }


def _line(session: Session, study: StudyView, item: ActionItem, today: date) -> ActionLine:
    minutes = session.get(Minutes, item.minutes_id) if item.minutes_id is not None else None
    overdue = item.state == "open" and item.due_on is not None and item.due_on < today
    meeting = f"{minutes.meeting} ({minutes.held_on})" if minutes else ""
    return ActionLine(item.id, item.text, _owner_name(study, item), item.due_on, overdue, meeting)


def _owner_name(study: StudyView, item: ActionItem) -> str:
    return study.member(item.owner_id).name if item.owner_id is not None else ""


def _overdue_owner(study: StudyView, item: ActionItem) -> str:
    return _owner_name(study, item) or "needs an owner"


def _noted_by(session: Session, item: ActionItem, requester: Requester) -> bool:
    """Whether the requester took the minutes the item comes from."""
    minutes = session.get(Minutes, item.minutes_id) if item.minutes_id is not None else None
    return minutes is not None and minutes.note_taker_id == requester.person_id


def _where_the_item_lives(study: StudyView, item: ActionItem, requester: Requester) -> outbox.Destination:
    """The thread of the minutes an item came from; else the study channel (else whoever acted)."""
    if item.minutes_id is not None:
        return outbox.Destination.thread(f"minutes:{study.key}:{item.minutes_id}")
    if study.channel:
        return outbox.Destination.channel(study.channel)
    return outbox.Destination.person(requester.person_id)


def _reminder_days(due_on: date) -> dict[date, str]:
    """The days an item's owner is reminded, and of what: the business day before, the day itself, then
    each of the first business days it is overdue (a weekend is nobody's reminder day)."""
    days = {_business_day_before(due_on): "before", due_on: "due"}
    day, overdue = due_on, 0
    while overdue < OVERDUE_NUDGES:
        day += timedelta(days=1)
        if day.weekday() < 5:
            overdue += 1
            days[day] = f"overdue-{overdue}"
    return days


def _business_day_before(day: date) -> date:
    before = day - timedelta(days=1)
    while before.weekday() >= 5:
        before -= timedelta(days=1)
    return before


def _meetings(session: Session, study: StudyView) -> list[dict[str, Any]]:
    row = session.get(Study, study.id)
    return list((row.plan if row else {}).get("meetings") or [])


def _default_attendees(session: Session, study: StudyView, meeting: str) -> list[str]:
    return next((m.get("attendees") or [] for m in _meetings(session, study) if m["name"] == meeting), [])


def _today(study: StudyView, now: datetime) -> date:
    return now.astimezone(ZoneInfo(study.timezone)).date()


def _study(session: Session, requester: Requester) -> StudyView:
    return directory.current(session).studies[requester.study_id]


def _minutes(session: Session, study: StudyView, minutes_id: int) -> Minutes:
    minutes = session.get(Minutes, minutes_id)
    if minutes is None or minutes.study_id != study.id:
        raise BadCommand(f"There are no minutes {ref(study.key, minutes_id)}.")
    return minutes


def _item(session: Session, study: StudyView, item_id: int) -> ActionItem:
    item = session.get(ActionItem, item_id)
    if item is None or item.study_id != study.id:
        raise BadCommand(f"There is no action A{item_id}.", hint="/actions all lists them.")
    return item
