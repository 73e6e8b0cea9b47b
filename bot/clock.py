"""Time, injected: flows and jobs ask a clock, so tests move time instead of sleeping."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until told to move (tests and benchmarks)."""

    def __init__(self, start: datetime):
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


_process_clock: Clock = SystemClock()


def process_now() -> datetime:
    """The time of this process's clock: the system's, unless the composition root set another
    (the simulator runs a study in simulated time, and what it records must carry that time)."""
    return _process_clock.now()


@contextmanager
def process_clock(clock: Clock) -> Iterator[Clock]:
    """Use `clock` for this process's own timestamps while the block runs."""
    global _process_clock
    before, _process_clock = _process_clock, clock
    try:
        yield clock
    finally:
        _process_clock = before
