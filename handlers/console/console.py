"""The local chat: the same commands as in Slack, typed in the terminal as one of the study's people."""

from __future__ import annotations

import logging
import secrets
import select as waiting
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO
from zoneinfo import ZoneInfo

from rapidfuzz import process
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot import outbox
from bot.clock import Clock
from bot.commands import Invocation, command_names, run_command
from bot.db import run_in_session
from bot.errors import CadenceError
from bot.models import Person, Study
from handlers.console.output import write
from handlers.console.render import UTC_ZONE, render, render_error

log = logging.getLogger("cadence.console")

CONSOLE_HELP = """Console commands:
    /as <handle>   act as someone from the plan (/as alone lists them)
    /help          this help and every Cadence command
    /quit          leave (Ctrl-D works too)"""


@dataclass(frozen=True)
class Answer:
    text: str
    failed: bool = False  # the line was refused or the command failed: nothing was done


class ConsoleSession:
    """One person's chat with Cadence in one study; `say` takes a line and returns Cadence's answer."""

    def __init__(
        self,
        engine: Engine,
        *,
        study_key: str,
        handle: str | None = None,
        wake: Callable[[], None] = lambda: None,
        clock: Clock | None = None,
        web_url: str | None = None,
    ):
        self.engine = engine
        self.web_url = web_url  # where `cadence serve`'s web pages are (CADENCE_PUBLIC_URL), if anywhere
        self.wake = wake  # what the commands queue (DMs, cards) shows at once, not at the next tick
        self.clock = clock  # None: the process clock
        self.study_key = study_key
        people = run_in_session(engine, _people_of, study_key=study_key)
        self.handles = [p.handle for p in people]
        self.names = {p.handle: p.name for p in people}
        self.zones = {p.handle: ZoneInfo(p.timezone) for p in people}
        admins = [p.handle for p in people if p.handle in p.admins]
        self.handle = handle if handle in self.handles else (admins or self.handles or [""])[0]

    @property
    def zone(self) -> ZoneInfo:
        """The timezone of whoever is typing: the one the console shows every time in."""
        return self.zones.get(self.handle, UTC_ZONE)

    @property
    def prompt(self) -> str:
        return f"{self.handle}@{self.study_key}> "

    def say(self, line: str) -> str:
        return self.answer(line).text

    def answer(self, line: str) -> Answer:
        """Cadence's answer to a typed line, and whether it was refused."""
        line = line.strip()
        if not line:
            return Answer("")
        if not line.startswith("/"):
            return Answer("Type a command such as /who-owns safety, or /help.", failed=True)
        name, text = (line.split(None, 1) + [""])[:2]  # a paste may put the notes on the next line
        name = name.lower()
        if name == "/as":
            return self.switch_person(text.strip())
        if name == "/help":
            return Answer(f"{self.say('/cadence help')}\n{CONSOLE_HELP}")
        if name not in command_names():
            close = process.extractOne(name, command_names(), score_cutoff=75)
            hint = f"Did you mean {close[0]}? " if close else ""
            return Answer(f"! There is no {name} command.\n  {hint}Type /help to see them all.", failed=True)
        return self.run(name, text)

    def run(self, name: str, text: str) -> Answer:
        invocation = Invocation(
            platform="console",
            user_id=self.handle,
            study_key=self.study_key,
            now=self.clock.now() if self.clock else None,
            web_url=self.web_url,
        )
        try:
            result = outbox.run_then_wake(
                self.engine, self.wake, run_command, name=name, text=text, invocation=invocation
            )
        except CadenceError as error:
            return Answer(render_error(error), failed=True)
        except Exception:
            reference = secrets.token_hex(3)
            log.exception("console command %s failed (reference %s)", name, reference)
            return Answer(
                f"! Something went wrong on Cadence's side and nothing was changed (reference {reference}).",
                failed=True,
            )
        return Answer(render(result, self.zone))

    def switch_person(self, who: str) -> Answer:
        if not who.lstrip("@").strip():
            return Answer("People in this study: " + ", ".join(self.handles))
        handle = person_named(who, self.names)
        if handle is None:
            return Answer(f"! {not_in_plan(who, self.study_key, self.names)}", failed=True)
        self.handle = handle
        return Answer(f"You are now {handle} ({self.names[handle]}).")


def person_named(who: str, names: dict[str, str]) -> str | None:
    """The handle of the person `who` names (handle -> full name in `names`): @handle, handle, full name
    or first name."""
    wanted = who.lstrip("@").strip().casefold()
    return next(
        (
            h
            for h, name in names.items()
            if wanted in {h.casefold(), name.casefold(), name.split()[0].casefold()}
        ),
        None,
    )


def not_in_plan(who: str, study_key: str, names: dict[str, str]) -> str:
    """Whom the study has, for someone who named a person it does not have."""
    people = ", ".join(f"{handle} ({name})" for handle, name in names.items())
    close = process.extractOne(who.lstrip("@").strip().casefold(), list(names), score_cutoff=70)
    hint = f"Did you mean {close[0]}? " if close else ""
    return f"'{who.strip()}' is not in {study_key}'s plan.\n  {hint}People: {people}"


@dataclass(frozen=True)
class _Member:
    handle: str
    name: str
    timezone: str
    admins: tuple[str, ...]


def _people_of(session, *, study_key: str) -> list[_Member]:
    study = session.exec(select(Study).where(Study.key == study_key)).one()
    people = session.exec(select(Person).where(Person.study_id == study.id, Person.active == True))  # noqa: E712
    return [_Member(p.handle, p.name, p.timezone, tuple(study.admins)) for p in people]


def run_console(session: ConsoleSession, lines: Iterable[str] | None, out: TextIO) -> None:
    """Answer messages until /quit or the end of input; `lines=None` reads the terminal with a prompt.
    A line that does not start with `/` continues the message before it: pasted notes are one message."""
    for typed in messages(lines) if lines is not None else _typed(session):
        if typed.strip().lower() in {"/quit", "/exit"}:
            break
        answer = session.say(typed)
        if answer:
            write(answer, out)


def messages(lines: Iterable[str]) -> Iterator[str]:
    """Lines as messages: a command and the lines that follow it up to the next command are one."""
    held: list[str] = []
    for line in (part for chunk in lines for part in (chunk.splitlines() or [""])):
        if held and not line.lstrip().startswith("/") and held[0].lstrip().startswith("/"):
            held.append(line)
            continue
        if held:
            yield "\n".join(held)
        held = [line]
    if held:
        yield "\n".join(held)


def _typed(session: ConsoleSession) -> Iterator[str]:
    """What is typed at the prompt; a paste of several lines, which arrives at once, is read whole."""
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:
        pass
    while True:
        try:
            burst = [input(session.prompt)]
            while _more_waiting():
                burst.append(input())
        except (EOFError, KeyboardInterrupt):
            print()
            return
        yield from messages(burst)


def _more_waiting() -> bool:
    try:
        return bool(waiting.select([sys.stdin], [], [], 0.05)[0])
    except (OSError, ValueError):
        return False
