"""Reading meeting notes: `ACTION @raj: send the plan by Friday`, `DECISION: screening window 21 days`.

Owners are found by mention, @handle, handle, name or first name; due dates by absolute or relative
dates (dateparser) in the study's timezone. What is not understood is reported, never dropped.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from bot.dates import read_date
from bot.directory import Contact

_ACTION = re.compile(r"^\s*(?:[-*•]\s*)?(?:action(?:\s+item)?|todo|to-do|ai)\b\s*[:\-–]?\s*", re.I)
_DECISION = re.compile(r"^\s*(?:[-*•]\s*)?(?:decision|decided|agreed)\b\s*[:\-–]?\s*", re.I)
# A marker in capitals inside a line starts a new item: "ACTION @raj: … · DECISION: …" typed on one line.
_INLINE_MARKER = re.compile(
    r"\s+(?:[·|;]\s+)?(?=(?:ACTION(?: ITEM)?|TODO|DECISION|DECIDED|AGREED)\b\s*[:\-–@])"
)
_AT_HANDLE = re.compile(r"(?<![\w.])@([A-Za-z][\w.-]*)")
_DUE = re.compile(
    r"[\s,;(]+(?:by|due(?:\s+(?:by|on))?|before|no later than|until|deadline:?)\s+"
    r"(?P<when>[^,;()]+?(?:,\s*\d{4})?)[\s.)]*$",
    re.I,
)
_TRAILING_OWNER = re.compile(r"[\s,;(]+(?:owner|assigned to|who)\s*[:=]?\s*(?P<who>[^,;()]+?)[\s.)]*$", re.I)
_WEEKDAYS = {name.casefold(): i for i, name in enumerate(calendar.day_name)}


@dataclass(frozen=True)
class ParsedAction:
    line: str
    text: str
    owner: Contact | None
    due: date | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedNotes:
    actions: tuple[ParsedAction, ...] = ()
    decisions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # "line 3: no owner found in 'ACTION: …'"


def parse_notes(text: str, people: list[Contact], today: date, *, month_first: bool = False) -> ParsedNotes:
    """Split pasted notes into actions (with owner and due date), decisions and the rest."""
    actions, decisions, notes, problems = [], [], [], []
    for number, raw in enumerate(_INLINE_MARKER.sub("\n", text).splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if _ACTION.match(line):
            action = parse_action(line, people, today, month_first=month_first)
            actions.append(action)
            problems.extend(f"line {number}: {p} in “{line}”" for p in action.problems)
        elif _DECISION.match(line):
            decision = _DECISION.sub("", line, count=1).strip()
            if decision:
                decisions.append(decision)
            else:
                problems.append(f"line {number}: an empty decision")
        else:
            notes.append(line)
    return ParsedNotes(tuple(actions), tuple(decisions), tuple(notes), tuple(problems))


def parse_action(line: str, people: list[Contact], today: date, *, month_first: bool = False) -> ParsedAction:
    """One action line: who, what, by when."""
    rest = _ACTION.sub("", line, count=1).strip()
    rest, due, due_problem = _take_due(rest, today, month_first)
    rest, owner = _take_owner(rest, people)
    text = re.sub(r"^\s*(?:to|will|should|must|[:\-–,])\s+", "", rest).strip(" :-–,.")
    problems = []
    if owner is None:
        problems.append("no owner found")
    if due_problem:
        problems.append(due_problem)
    if not text:
        problems.append("nothing to do")
    return ParsedAction(
        line=line,
        text=text[:1].upper() + text[1:] if text else "",
        owner=owner,
        due=due,
        problems=tuple(problems),
    )


def _take_owner(text: str, people: list[Contact]) -> tuple[str, Contact | None]:
    at = _AT_HANDLE.search(text)
    if at:
        person = _by_name(at.group(1), people)
        if person:
            return _clean(text[: at.start()] + text[at.end() :]), person
    trailing = _TRAILING_OWNER.search(text)
    if trailing:
        person = _by_name(trailing.group("who"), people)
        if person:
            return text[: trailing.start()], person
    bracketed = re.match(r"^\((?P<who>[^)]+)\)\s*", text)  # "(mei) file …"
    if bracketed and (person := _by_name(bracketed.group("who"), people)):
        return text[bracketed.end() :], person
    # "Omar to close …", "Omar Haddad will …", "raj: send …"
    lead = re.match(
        r"^\(?(?P<who>[A-Za-z][\w.'-]*(?:\s+[A-Za-z][\w.'-]*)?)\)?\s*(?=(?:to|will|should|must)\b|[:\-–,])",
        text,
        re.I,
    )
    if lead:
        for candidate in (lead.group("who"), lead.group("who").split()[0]):
            person = _by_name(candidate, people)
            if person:
                return text[lead.end() :], person
    return text, None


def _by_name(name: str, people: list[Contact]) -> Contact | None:
    wanted = name.strip().strip("@").casefold()
    for person in people:
        if wanted in {person.handle.casefold(), person.name.casefold()}:
            return person
    firsts = [p for p in people if p.name.split()[0].casefold() == wanted]
    return firsts[0] if len(firsts) == 1 else None


def _take_due(text: str, today: date, month_first: bool) -> tuple[str, date | None, str | None]:
    match = _DUE.search(text)
    if not match:
        return text, None, "no due date found"
    when = match.group("when").strip()
    due = parse_due(when, today, month_first=month_first)
    if due is None:
        return text, None, f"'{when}' is not a date Cadence understands"
    if due < today:
        return text[: match.start()], due, f"{due} has passed"
    return text[: match.start()], due, None


def parse_due(when: str, today: date, *, month_first: bool = False) -> date | None:
    """A due date from a note's words (bot.dates, with dateparser for what its grammar does not know)."""
    return read_date(when, today, month_first=month_first, loose=True)


def _clean(text: str) -> str:
    return " ".join(text.replace(" :", ":").split()).strip(" ,")
