"""`cadence plan init`: a few questions, then a commented starter plan that validates."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.plan import SIDES, load_plan
from bot.timing import parse_timezone

Ask = Callable[[str], str]  # shows a question, returns the answer (raises EOFError when there is none)
Say = Callable[[str], None]


@dataclass
class Person:
    handle: str
    name: str
    email: str
    side: str
    timezone: str | None


@dataclass
class Answers:
    study_id: str
    name: str
    timezone: str
    people: list[Person] = field(default_factory=list)
    topics: list[tuple[str, str]] = field(default_factory=list)  # (topic, owner's handle)
    admins: list[str] = field(default_factory=list)


def ask_plan(ask: Ask, say: Say) -> Answers:
    """Ask for the study, its people and who owns what, re-asking an answer that cannot be used."""
    say("A starter plan in a few questions (Enter keeps what is in [brackets]).")
    study_id = _until(ask, say, "Study id (e.g. ACME-201): ", _required)
    name = ask(f"Study name [{study_id}]: ").strip() or study_id
    timezone = _until(ask, say, "Study timezone (e.g. America/New_York): ", _timezone)
    answers = Answers(study_id, name, timezone)
    say("People of both sides, one at a time; an empty name when everyone is in.")
    while True:
        full_name = ask("Name: ").strip()
        if not full_name:
            if len(answers.people) >= 1:
                break
            say("A plan needs at least one person.")
            continue
        email = _until(ask, say, "  e-mail: ", _email)
        side = _until(ask, say, "  side (sponsor or cro): ", _side)
        usual = next((p.timezone or timezone for p in reversed(answers.people) if p.side == side), timezone)
        question = f"  timezone [{usual}]: "
        zone = _until(ask, say, question, lambda a, usual=usual: _timezone(a.strip() or usual))
        handle = _handle(full_name, {p.handle for p in answers.people})
        answers.people.append(Person(handle, full_name, email, side, zone if zone != timezone else None))
        say(f"  → @{handle}")
    say("Who owns what: a topic, then its owner; an empty topic when done.")
    while True:
        topic = ask("Topic: ").strip()
        if not topic:
            if answers.topics:
                break
            say("A plan needs at least one topic.")
            continue
        owner = _until(ask, say, "  owner: ", lambda a: _person(a, answers.people))
        answers.topics.append((topic, owner))
    first_of_each = [next(p.handle for p in answers.people if p.side == s) for s in SIDES if _has(answers, s)]
    admins = _until(
        ask,
        say,
        f"Admins, who may change the plan from chat [{', '.join(first_of_each)}]: ",
        lambda a: [_person(part, answers.people) for part in a.split(",") if part.strip()] or first_of_each,
    )
    answers.admins = list(dict.fromkeys(admins))
    return answers


def starter_plan(answers: Answers, schema: str) -> str:
    """The plan as YAML with comments on what to add next; it validates as it is."""
    q = _quoted
    people = "\n".join(
        f"  {p.handle}: {{name: {q(p.name)}, side: {p.side}, email: {q(p.email)}"
        + (f", timezone: {p.timezone}" if p.timezone else "")
        + "}"
        for p in answers.people
    )
    topics = "\n".join(
        f"  - topic: {q(topic)}\n    keywords: []\n    owner: {owner}" for topic, owner in answers.topics
    )
    text = f"""# yaml-language-server: $schema={schema}
# The communication plan of {answers.study_id}, as agreed at kickoff. Every field: docs/plan.md
# (or `cadence plan schema`). Check it with `cadence plan validate FILE`, apply it with
# `cadence plan apply FILE`. Durations: 30m, 4h, 2d, 1bd (business day), 1w.

study:
  id: {q(answers.study_id)}
  name: {q(answers.name)}
  timezone: {answers.timezone}
  # channel: C0123456789      # the shared channel's id: Cadence posts digests and minutes there
  admins: [{", ".join(answers.admins)}]

people:                       # handle -> who they are; add slack: U… or teams: <Entra id> when known
{people}

responsibilities:             # who owns what: /who-owns and /ask route by topic and keywords
{topics}
    # backup: someone-else    # who answers when the owner is away
    # answer_within: 4h       # tighter than cadence.answer_within for this topic

# cadence:
#   answer_within: 1bd        # a routed question's owner is chased after this
#   checkin:
#     schedule: "mon 09:00"   # each participant's own time
#     participants: [{", ".join(p.handle for p in answers.people)}]
#     questions: ["What moved since last week?", "Any blockers?"]

# escalation:
#   levels:
#     - {{name: Project managers, who: [{answers.admins[0]}], ack_within: 4h}}
#     - {{name: Executive sponsors, who: [{answers.admins[-1]}]}}

# meetings:
#   - name: Weekly call
#     schedule: "thu 15:00"
#     note_taker: {answers.admins[0]}
#     minutes_due: 1d         # the note taker is chased after this

# milestones:
#   - {{name: First patient in, due: 2027-01-15, owner: {answers.topics[0][1]}}}
"""
    load_plan(text)  # what `init` writes must pass `validate`; PlanInvalid here is a bug, not the user's
    return text


def _until(ask: Ask, say: Say, question: str, read: Callable[[str], object]):
    while True:
        try:
            return read(ask(question))
        except ValueError as problem:
            say(f"  {problem}")


def _required(answer: str) -> str:
    if not answer.strip():
        raise ValueError("This one is needed.")
    return answer.strip()


def _timezone(answer: str) -> str:
    return parse_timezone(answer).key


def _email(answer: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", answer.strip()):
        raise ValueError(f"'{answer.strip()}' is not an e-mail address (name@example.org).")
    return answer.strip()


def _side(answer: str) -> str:
    word = answer.strip().casefold()
    for side in SIDES:
        if word and side.startswith(word):
            return side
    raise ValueError("Sponsor or cro?")


def _person(answer: str, people: list[Person]) -> str:
    wanted = answer.strip().removeprefix("@").casefold()
    for person in people:
        first = person.name.split()[0].casefold()
        if wanted in (person.handle, person.name.casefold(), first):
            return person.handle
    names = ", ".join(f"{p.name} (@{p.handle})" for p in people)
    raise ValueError(f"'{answer.strip()}' is none of the people: {names}.")


def _has(answers: Answers, side: str) -> bool:
    return any(p.side == side for p in answers.people)


def _handle(full_name: str, taken: set[str]) -> str:
    """`Piotr Nowak` → piotr (piotr.n, piotr2… when taken): short and lower case, as people are mentioned."""
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode().casefold()
    words = re.findall(r"[a-z0-9]+", ascii_name) or ["person"]
    base = words[0] if words[0][0].isalpha() else f"p{words[0]}"
    candidates = [base] + ([f"{base}.{words[-1][0]}"] if len(words) > 1 else [])
    candidates += [f"{base}{n}" for n in range(2, 1000)]
    return next(c for c in candidates if c not in taken)


def _quoted(text: str) -> str:
    """A value YAML reads back as exactly this text, whatever it holds (`:`, `#`, `@`, a leading digit)."""
    return json.dumps(text, ensure_ascii=False)
