"""Reading meeting notes: `ACTION @raj: send the plan by Friday`, `DECISION: screening window 21 days`.

Owners are found by mention, @handle, handle, name or first name; due dates by absolute or relative
dates (dateparser) in the study's timezone. What is not understood is reported, never dropped.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import dateparser

from bot.directory import Contact

_ACTION = re.compile(r"^\s*(?:[-*•]\s*)?(?:action(?:\s+item)?|todo|to-do|ai)\b\s*[:\-–]?\s*", re.I)
_DECISION = re.compile(r"^\s*(?:[-*•]\s*)?(?:decision|decided|agreed)\b\s*[:\-–]?\s*", re.I)
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
    for number, raw in enumerate(text.splitlines(), 1):
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
    """A due date from words: 2026-12-05, Dec 5, Friday, next Monday, tomorrow, in 2 weeks, EOW, EOM.

    `month_first` reads 12/04 as December 4 (as in the US), otherwise as 12 April."""
    phrase = " ".join(when.casefold().replace("the ", "").split())
    phrase = re.sub(r"^(?:this|coming)\s+", "", phrase)
    if phrase in {"eow", "end of week", "end of this week", "week's end"}:
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if phrase in {"end of next week"}:
        return today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    if phrase in {"eom", "end of month", "end of this month", "month end"}:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if phrase in {"eod", "end of day", "today", "cob", "close of business"}:
        return today
    if phrase in _WEEKDAYS:  # "Friday": the next one, today included
        return today + timedelta(days=(_WEEKDAYS[phrase] - today.weekday()) % 7)
    next_day = re.fullmatch(r"next (\w+)", phrase)
    if next_day and next_day.group(1) in _WEEKDAYS:  # "next Friday": the Friday of next week
        return today + timedelta(days=7 - today.weekday() + _WEEKDAYS[next_day.group(1)])
    base = datetime.combine(today, datetime.min.time())
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
        "DATE_ORDER": "YMD" if re.match(r"\d{4}-", phrase) else ("MDY" if month_first else "DMY"),
    }
    parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
    if parsed is None:
        return None
    day = parsed.date()
    if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", phrase) and day < today:  # "the 15th": next month's
        month = today.month % 12 + 1
        day = day.replace(year=today.year + (month == 1), month=month)
    return day


def _clean(text: str) -> str:
    return " ".join(text.replace(" :", ":").split()).strip(" ,")
