"""The registry of due work: what each capability does on its own, declared next to the code that does it.

A capability marks its due-work function with `@due.work(order=N)` and says when it will next have
something to do with `@due.next_due_of(that_function)`. The tick (schedules.jobs) runs every
registered work in `order`; the simulator (`cadence simulate`) also asks each when it is next due, so
it can move its clock from one due moment to the next instead of second by second.

The order, stated once: deadlines first (escalations climb), then the check-in rounds, the chases
(questions, action items, late minutes), the reviews of the map, the weekly report, and last the App
Homes, which show what all the others just changed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

RunDue = Callable[..., int]  # (session, *, now) -> how many messages it queued
NextDue = Callable[..., "datetime | None"]  # (session, *, now) -> the first moment after now it may act


@dataclass(frozen=True)
class DueWork:
    name: str
    order: int
    run: RunDue
    next_due: NextDue | None = None


_WORK: dict[str, DueWork] = {}
# Modules of bot/ that declare no due work and are not needed to find it (the CLI wires the adapters).
_NOT_CAPABILITIES = {"cli", "__main__"}


def work(*, order: int) -> Callable[[RunDue], RunDue]:
    """Register `run(session, *, now) -> messages queued` as due work, run by the tick in `order`."""

    def register(run: RunDue) -> RunDue:
        _WORK[_name(run)] = DueWork(_name(run), order, run)
        return run

    return register


def next_due_of(run: RunDue) -> Callable[[NextDue], NextDue]:
    """Register when `run` next has something to do: the earliest moment after `now` (or None for never,
    until something changes). Earlier than the truth only costs a tick that finds nothing; later would
    make the simulator skip what the live bot does, so when in doubt, say earlier."""

    def register(next_due: NextDue) -> NextDue:
        _WORK[_name(run)] = DueWork(_name(run), _WORK[_name(run)].order, run, next_due)
        return next_due

    return register


def _name(run: RunDue) -> str:
    """`checkins.do_due_work`: the capability and the function."""
    return f"{run.__module__.removeprefix('bot.')}.{run.__name__}"


def registered() -> list[DueWork]:
    """Every capability's due work, in the order the tick runs it."""
    _import_capabilities()
    missing = [w.name for w in _WORK.values() if w.next_due is None]
    if missing:
        raise RuntimeError(f"due work without a next_due_of: {', '.join(missing)}")
    return sorted(_WORK.values(), key=lambda w: (w.order, w.name))


def next_moment(session: Session, *, now: datetime) -> datetime | None:
    """The earliest moment after `now` at which any registered work may have something to do."""
    moments = [m for w in registered() if (m := w.next_due(session, now=now)) is not None and m > now]
    return min(moments, default=None)


def _import_capabilities() -> None:
    # A capability declares its due work where it is defined, so it counts only once its module is
    # loaded: load every module of bot/ rather than keep a list of them here.
    import bot

    for module in pkgutil.iter_modules(bot.__path__):
        if module.name not in _NOT_CAPABILITIES and not module.ispkg:
            importlib.import_module(f"bot.{module.name}")
