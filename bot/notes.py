"""Reading meeting notes: `ACTION @raj: send the plan by Friday`, `Action item: Arjun drafts the SAP
shell tables by 12/15`, `TODO Sam review the claim wording in 3 days`, `DECISION: screening window 21 days`.

Owners are found as people write them: a mention or @handle anywhere, a handle, a full name or a first
name leading the line ("Piotr to …", "Arjun drafts …") or trailing it ("(owner: ben)", "— Priya").
Due dates are read by bot.dates in the typist's convention, after "by"/"due"/"before" or ending the
line without one ("… EOW", "… in 3 days"). What is not understood is reported, never dropped or guessed:
an item with no owner found is kept (it "needs an owner"), a date that cannot be read is named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bot.dates import ambiguous, in_words, order_words, read_date, read_leading_date, read_trailing_date
from bot.directory import Contact

_ACTION = re.compile(
    r"^\s*(?:[-*•]\s*)?(?:action(?:\s+item)?s?|todo|to-do|to do(?=\s*:)|ai(?=\s*:))\b\s*[:\-–]?\s*", re.I
)
_DECISION = re.compile(r"^\s*(?:[-*•]\s*)?(?:decision|decided|agreed)\b\s*[:\-–]?\s*", re.I)
# A marker inside a line starts a new item, in capitals ("… ACTION Piotr to …", "… DECISION: …") or with
# a colon ("… Action item: Arjun drafts …"): several items typed on one line, as in a one-line /minutes.
# "the ACTION LOG" and "ACTION items" stay words.
_INLINE_MARKER = re.compile(
    r"\s+(?:[·|;]\s+)?(?P<marker>(?:ACTION(?: ITEM)?|TODO|DECISION|DECIDED|AGREED)\b|"
    r"(?:Action(?: item)?|Todo|Decision)(?=\s*:))(?P<after>\s*(?:[:\-–@]|(?P<word>[A-Za-z][\w.'-]*)))"
)
_NOT_AN_ITEM = {"items", "points", "log", "plan", "list", "required", "taken", "tracker"}
_AT_HANDLE = re.compile(r"(?<![\w.])@([A-Za-z][\w.-]*[\w])")
_DUE = re.compile(
    r"[\s,;(]+(?:by|due(?:\s+(?:by|on))?|before|no later than|until|till|deadline:?)\s+"
    r"(?P<when>[^,;()]+?(?:,\s*\d{4})?)[\s.)]*$",
    re.I,
)
_TRAILING_OWNER = re.compile(
    r"(?:[\s,;(]+(?:owner|assigned to|who)\s*[:=]?|\s+[—–-]+)\s*(?P<who>@?[^,;()—–-]+?)[\s.)]*$", re.I
)
_LEADING_WORDS = re.compile(r"^\(?(?P<first>@?[A-Za-z][\w.'-]*)(?:\s+(?P<second>[A-Za-z][\w.'-]*))?\)?")
_HANDOFF = re.compile(r"^\s*(?:to|will|should|must|shall|[:\-–,])\s+", re.I)


@dataclass(frozen=True)
class ParsedAction:
    line: str
    text: str
    owner: Contact | None
    due: date | None
    problems: tuple[str, ...] = ()
    written_due: str | None = None  # the words the date was read from
    guessed: str | None = None  # an ambiguous date's reading, said back: "03/01 read as Sun 03 Jan 2027 …"


@dataclass(frozen=True)
class ParsedNotes:
    actions: tuple[ParsedAction, ...] = ()
    decisions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # "line 3: no owner found in 'ACTION: …'"
    guesses: tuple[str, ...] = ()  # ambiguous dates and how they were read


def parse_notes(text: str, people: list[Contact], today: date, *, month_first: bool = False) -> ParsedNotes:
    """Split pasted notes into actions (with owner and due date), decisions and the rest."""
    actions, decisions, notes, problems, guesses = [], [], [], [], []
    for number, raw in enumerate(_split_inline_items(text).splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if _ACTION.match(line):
            action = parse_action(line, people, today, month_first=month_first)
            actions.append(action)
            problems.extend(f"line {number}: {p} in “{line}”" for p in action.problems)
            if action.guessed:
                guesses.append(action.guessed)
        elif _DECISION.match(line):
            decision = _DECISION.sub("", line, count=1).strip()
            if decision:
                decisions.append(decision)
            else:
                problems.append(f"line {number}: an empty decision")
        else:
            notes.append(line)
    return ParsedNotes(tuple(actions), tuple(decisions), tuple(notes), tuple(problems), tuple(guesses))


def _split_inline_items(text: str) -> str:
    """Each item typed inside a line on a line of its own."""

    def split(found: re.Match[str]) -> str:
        word = found["word"] or ""
        word = word.rstrip(".,;:")
        if (len(word) > 1 and word.isupper() and word != "ITEM") or word.casefold() in _NOT_AN_ITEM:
            return found.group(0)  # "the ACTION LOG", "ACTION items": words, not an item
        return "\n" + found["marker"] + found["after"]

    return _INLINE_MARKER.sub(split, text)


def parse_action(line: str, people: list[Contact], today: date, *, month_first: bool = False) -> ParsedAction:
    """One action line: who, what, by when."""
    rest = _ACTION.sub("", line, count=1).strip()
    rest, due, written, due_problem = _take_due(rest, today, month_first)
    rest, owner, owner_problem = _take_owner(rest, people)
    text = _HANDOFF.sub("", rest).strip(" :-–—,.")
    problems = [p for p in (owner_problem, due_problem) if p]
    if not text:
        problems.append("nothing to do")
    guessed = None
    if due is not None and written is not None and ambiguous(written):
        guessed = (
            f"{written} was read as {in_words(due)} ({order_words(month_first)}); "
            "write it as 15 Jan or 2027-01-15 if another day was meant"
        )
    return ParsedAction(
        line=line,
        text=text[:1].upper() + text[1:] if text else "",
        owner=owner,
        due=due,
        problems=tuple(problems),
        written_due=written,
        guessed=guessed,
    )


def _take_owner(text: str, people: list[Contact]) -> tuple[str, Contact | None, str | None]:
    """The owner and the text without them, or the text and why no owner was found."""
    at = _AT_HANDLE.search(text)
    if at:
        person = find_person(at.group(1), people)
        if person:
            return _clean(text[: at.start()] + text[at.end() :]), person, None
        return text, None, f"no owner found (@{at.group(1)} is not in the plan)"
    trailing = _TRAILING_OWNER.search(text)
    if trailing and (person := find_person(trailing.group("who"), people)):
        return text[: trailing.start()], person, None
    lead = _LEADING_WORDS.match(text)
    if lead:
        after = text[lead.end() :]
        first, second = lead["first"], lead["second"]
        if second and (person := find_person(f"{first} {second}", people, first_names=False)):
            return after, person, None  # "Raj Patel to …"
        after_first = text[lead.start("first") + len(first) :].lstrip(")")
        handed = bool(_HANDOFF.match(after_first)) or after_first.startswith((":", ",")) or text[0] == "("
        # A leading first name or handle owns the line when it is followed by "to"/"will"/":" ("raj:
        # send", "Omar to close", "(mei) update") or written as a name, capitalised ("Arjun drafts").
        if (handed or first[:1].isupper()) and (person := find_person(first, people)):
            return after_first, person, None
    return text, None, "no owner found"


def find_person(name: str, people: list[Contact], *, first_names: bool = True) -> Contact | None:
    """The person a note or a command names: @handle, handle, full name, or a first name only one has."""
    wanted = " ".join(name.strip().lstrip("@").split()).casefold()
    if not wanted:
        return None
    for person in people:
        if wanted in {person.handle.casefold(), person.name.casefold()}:
            return person
    if not first_names:
        return None
    firsts = [p for p in people if p.name.split() and p.name.split()[0].casefold() == wanted]
    return firsts[0] if len(firsts) == 1 else None


def _take_due(text: str, today: date, month_first: bool) -> tuple[str, date | None, str | None, str | None]:
    """The text without its due date, the date, the words it was read from, and what was wrong."""
    match = _DUE.search(text)
    if match:
        when = match.group("when").strip()
        due = parse_due(when, today, month_first=month_first)
        before = text[: match.start()]
        if due is None:  # "by Friday for the DSMB": the date leads, the rest belongs to the task
            leading = read_leading_date(when.split(), today, month_first=month_first)
            if leading is not None:
                due, more = leading
                when = " ".join(when.split()[: len(when.split()) - len(more)])
                before = f"{before} {' '.join(more)}"
        if due is None:
            return text, None, None, f"'{when}' is not a date Cadence understands, so it has no due date"
        return before, due, when, _passed(due, today)
    trailing = read_trailing_date(text.rstrip(" .").split(), today, month_first=month_first)
    if trailing is not None:  # "confirm batch numbers EOW", "review the draft in 3 days"
        words, due = trailing
        when = " ".join(text.rstrip(" .").split()[len(words) :])
        return " ".join(words).rstrip(" ,;—–-…"), due, when, _passed(due, today)
    return text, None, None, "no due date found"


def _passed(due: date, today: date) -> str | None:
    return f"{in_words(due)} has passed" if due < today else None


def parse_due(when: str, today: date, *, month_first: bool = False) -> date | None:
    """A due date from a note's words (bot.dates, with dateparser for what its grammar does not know)."""
    return read_date(when, today, month_first=month_first, loose=True)


def _clean(text: str) -> str:
    return " ".join(text.replace(" :", ":").split()).strip(" ,")
