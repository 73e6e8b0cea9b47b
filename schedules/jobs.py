"""The jobs: module-level functions with plain arguments, each calling the same core flows as listeners.

Each job opens its own session, commits or rolls back, and logs; each is idempotent by construction,
so a job that runs twice (a retry, a second instance) does no harm.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot import checkins, due
from bot.clock import Clock
from bot.db import OUTAGE, is_unreachable, run_in_session
from bot.outbox import DeliveryReport, DeliveryWorker

log = logging.getLogger("cadence.jobs")


@dataclass
class Runtime:
    """What the jobs work with, set once by the composition root."""

    engine: Engine
    worker: DeliveryWorker
    clock: Clock
    after_delivery: list = field(default_factory=list)  # callbacks given each DeliveryReport
    hourly: list = field(default_factory=list)  # the adapters' upkeep (finding people by e-mail, say)


_runtime: Runtime | None = None


def configure(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def _current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("schedules.jobs.configure() was not called")
    return _runtime


def run_hourly(index: int) -> None:
    """One of the adapters' hourly upkeep jobs; a failure is logged and tried again the next hour."""
    try:
        _current().hourly[index]()
    except Exception:
        log.exception("hourly upkeep %d failed", index)


def run_checkin_schedule() -> None:
    """A check-in time has come in one timezone (of any number of studies): the check-in work of the
    studies whose moment it is, at once rather than at the next tick, then the tick itself: what else
    falls due now is queued before delivery, so that it reaches each person in one message with the prompt."""
    runtime = _current()
    for work in due.registered():
        if work.run_study is checkins.do_due_work.__wrapped__:
            try:
                queued = run_in_session(runtime.engine, work.run, now=runtime.clock.now())
                log.info("check-in work: %d messages queued", queued)
            except Exception:
                log.exception("check-in work failed")
    tick()


def tick() -> None:
    """Every capability's due work (bot.due, in its stated order), each in a session of its own so one
    failing does not hold up the others; then deliver what is due."""
    runtime = _current()
    for work in due.registered():
        try:
            queued = run_in_session(runtime.engine, work.run, now=runtime.clock.now())
            if queued:
                log.info("%s queued %d messages", work.name, queued)
        except OperationalError as error:
            if is_unreachable(error):
                OUTAGE.failed(error)  # one line when it starts, not a traceback per tick
                return  # the next tick tries again
            log.exception("%s failed", work.name)
        except Exception:
            log.exception("%s failed", work.name)
    OUTAGE.over()
    deliver()


_draining = threading.Lock()
_more = threading.Event()


def deliver() -> DeliveryReport | None:
    """Send everything due now; a call during a drain makes that drain look once more instead."""
    runtime = _current()
    _more.set()
    if not _draining.acquire(blocking=False):
        return None
    try:
        report = None
        while _more.is_set():
            _more.clear()
            report = runtime.worker.drain()
    except Exception as error:
        if isinstance(error, OperationalError) and is_unreachable(error):
            OUTAGE.failed(error)  # one line when it starts, not a traceback per drain
        else:
            log.exception("delivering messages failed")
        return None
    finally:
        _draining.release()
    if report.sent or report.failed:
        log.info("delivered %d, failed %d, retrying %d", report.sent, report.failed, report.retried)
    for callback in runtime.after_delivery:
        callback(report)
    return report
