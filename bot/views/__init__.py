"""Each capability's views: its results and notices laid out once in the message model (bot.messages).

`reply(result)` is what a command or a button answers; `notice(Notice)` what the outbox sends;
`form(result)` the form a result asks for, if any. The wording lives here, once, for every chat.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import replace
from functools import singledispatch
from typing import Any

from bot import messages as m
from bot.directory import Contact
from bot.replies import Notice

_NOTICES: dict[str, Callable[[dict[str, Any]], m.Message]] = {}


@singledispatch
def reply(result: Any) -> m.Message:
    """A core result as a message."""
    raise TypeError(f"no view for {type(result).__name__}")


@singledispatch
def form(result: Any) -> m.Form | None:
    """A result that asks for a form (shown as a modal or a card with inputs) instead of a message."""
    return None


def notice_view(kind: str):
    """Register the view of the outbox's notices of `kind`."""

    def register(view: Callable[[dict[str, Any]], m.Message]):
        _NOTICES[kind] = view
        return view

    return register


def notice(item: Notice) -> m.Message:
    """What a notice says; raises DrawingFailed when it cannot be drawn (no view, or data it lacks)."""
    view = _NOTICES.get(item.kind)
    if view is None:
        raise DrawingFailed(f"no view for notices of kind '{item.kind}'")
    try:
        return replace(view(item.data), kind=item.kind)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise DrawingFailed(f"cannot draw '{item.kind}': {type(error).__name__} {error}") from error


def digest(items: list[m.Message]) -> m.Message:
    """What fell due together for one person, as one message: a line saying how many, then each item's
    own blocks (its lines and its buttons) in turn, a divider between them. One item is itself."""
    if len(items) == 1:
        return items[0]
    blocks: list[m.Block] = [section(m.line("*{n} things from Cadence*", n=str(len(items))))]
    for number, item in enumerate(items, start=1):
        blocks.append(m.Divider())
        # Slack wants a block id once a message: each item's buttons keep theirs, numbered.
        blocks += [
            replace(b, id=f"{b.id}-{number}") if isinstance(b, m.Actions) and b.id else b for b in item.blocks
        ]
    fallback = m.line(
        "{n} things from Cadence: {items}", n=str(len(items)), items=m.join([i.fallback for i in items], "; ")
    )
    return m.Message(fallback, tuple(blocks), kind="digest", parts=tuple(items))


class DrawingFailed(Exception):
    """A notice whose view cannot draw it: sending it again would fail again."""


def person(contact: Contact) -> m.Person:
    return m.Person(contact.name, contact.handle, contact.slack_id)


def who(data: dict[str, Any] | None) -> m.Person | None:
    """A person as a notice's data carries them (name, handle, slack_id)."""
    if not data:
        return None
    return m.Person(
        data.get("name") or data.get("handle") or "someone", data.get("handle"), data.get("slack_id")
    )


def section(*lines: m.Line) -> m.Section:
    return m.Section(lines)


def context(*items: m.Line) -> m.Context:
    return m.Context(items)


def left_out(count: int, command: str) -> m.Context:
    """The line under a list shown in part: how many were left out, and the command that lists them all."""
    return context(m.line("…and {n} more: {c} lists them all.", n=str(count), c=m.Code(command)))


def message(fallback: str | m.Line, *blocks: m.Block, in_channel: bool = False) -> m.Message:
    return m.Message(m.line("{f}", f=fallback) if isinstance(fallback, str) else fallback, blocks, in_channel)


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
