"""The registry of due work: what each capability does on its own, declared next to the code that does it.

A capability marks its due-work function with `@due.work(order=N)` and says when it will next have
something to do with `@due.next_due_of(that_function)`. The tick (schedules.jobs) runs every
registered work in `order`; the simulator (`cadence simulate`) also asks each when it is next due, so
it can move its clock from one due moment to the next instead of second by second.

The order, stated once: deadlines first (escalations climb), then the check-in rounds, the chases
(questions, action items, late minutes), the reviews of the map, the weekly report, and last the App
Homes, which show what all the others just changed.

Work that is about one study at a time is declared with `@due.each_study(order=N)` and
`@due.next_for_study(...)`: each study's next moment is kept in the database (`study_due`), so a tick
runs it only for the studies whose moment has come, at the cost of one indexed query when none has.
Whatever changes a study — anything audited (every change a command, a button or a plan makes is), and
any message queued for it — makes all of its works due at once (`changed`, applied when the session
commits), so what they show and chase is looked at again at the next tick.
"""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, update
from sqlmodel import Session, col, select

from bot import directory, timeline
from bot.db import insert_once
from bot.directory import StudyView
from bot.models import Study, StudyDue

log = logging.getLogger("cadence.due")

RunDue = Callable[..., int]  # (session, *, now) -> how many messages it queued
NextDue = Callable[..., "datetime | None"]  # (session, *, now) -> the first moment after now it may act


StudyRun = Callable[..., int]  # (session, study, *, now) -> how many messages it queued
StudyNext = Callable[..., "datetime | None"]  # (session, study, *, now) -> the study's next moment
AT_ONCE = datetime(1970, 1, 1, tzinfo=UTC)  # a changed study is due at the next tick, whatever its clock


@dataclass(frozen=True)
class DueWork:
    name: str
    order: int
    run: RunDue
    next_due: NextDue | None = None
    run_study: StudyRun | None = None  # per-study work: what `run` does for each study that is due
    next_of_study: StudyNext | None = None
    sees_every_change: bool = False  # shows what other due work changes too (the App Homes)
    cadence: bool = False  # part of the study's cadence: runs only from the study's start to its end


_WORK: dict[str, DueWork] = {}
# Modules of bot/ that declare no due work and are not needed to find it (the CLI wires the adapters).
_NOT_CAPABILITIES = {"cli", "__main__"}


def work(*, order: int) -> Callable[[RunDue], RunDue]:
    """Register `run(session, *, now) -> messages queued` as due work, run by the tick in `order`."""

    def register(run: RunDue) -> RunDue:
        _WORK[_name(run)] = DueWork(_name(run), order, _as_due_work(run))
        return run

    return register


def _as_due_work(run: RunDue) -> RunDue:
    """`run` as the tick runs it: what it changes concerns only the works that show every change."""

    @functools.wraps(run)
    def running(session: Session, *, now: datetime) -> int:
        session.info[_RUNNING] = True
        return run(session, now=now)

    return running


def next_due_of(run: RunDue) -> Callable[[NextDue], NextDue]:
    """Register when `run` next has something to do: the earliest moment after `now` (or None for never,
    until something changes). Earlier than the truth only costs a tick that finds nothing; later would
    make the simulator skip what the live bot does, so when in doubt, say earlier."""

    def register(next_due: NextDue) -> NextDue:
        _WORK[_name(run)] = replace(_WORK[_name(run)], next_due=next_due)
        return next_due

    return register


def each_study(
    *, order: int, sees_every_change: bool = False, cadence: bool = False
) -> Callable[[StudyRun], StudyRun]:
    """Register `run(session, study, *, now) -> messages queued` as due work for one study at a time: the
    tick runs it for each study whose moment (its `next_for_study`) has come, or that changed since: a
    change from outside due work (a command, a button, a plan); with `sees_every_change`, also a change
    other due work made (a round opened, an issue climbed), which the others do not depend on. Work of
    the study's `cadence` runs only from the study's start to its end (bot/timeline.py).
    Called without a study, it does every study's work now, whatever their moments."""

    def register(run_study: StudyRun) -> StudyRun:
        name = _name(run_study)

        def run(session: Session, *, now: datetime) -> int:
            return _run_due_studies(session, _WORK[name], now)

        _WORK[name] = DueWork(
            name,
            order,
            _as_due_work(run),
            run_study=run_study,
            sees_every_change=sees_every_change,
            cadence=cadence,
        )

        @functools.wraps(run_study)
        def every_study_or_one(session: Session, study: StudyView | None = None, *, now: datetime) -> int:
            studies = [study] if study is not None else directory.current(session).studies.values()
            return sum(run_study(session, s, now=now) for s in studies)

        return every_study_or_one

    return register


def next_for_study(run_study: StudyRun) -> Callable[[StudyNext], StudyNext]:
    """Register when `run_study` next has something to do for a study: the first moment after `now`, or
    None until something in the study changes. As with `next_due_of`, when in doubt, say earlier."""

    def register(next_of_study: StudyNext) -> StudyNext:
        name = _name(run_study)

        def next_due(session: Session, *, now: datetime) -> datetime | None:
            soonest = session.exec(select(func.min(StudyDue.due_at)).where(StudyDue.work == name)).one()
            if _missing_rows(session, name):
                soonest = AT_ONCE
            return None if soonest is None else max(soonest, now + timedelta(seconds=1))

        _WORK[name] = replace(_WORK[name], next_due=next_due, next_of_study=next_of_study)

        @functools.wraps(next_of_study)
        def soonest_of(session: Session, study: StudyView | None = None, *, now: datetime) -> datetime | None:
            studies = [study] if study is not None else directory.current(session).studies.values()
            moments = [m for s in studies if (m := next_of_study(session, s, now=now)) is not None]
            return min(moments, default=None)

        return soonest_of

    return register


def _run_due_studies(session: Session, work: DueWork, now: datetime) -> int:
    """The work for each study that is due, then its next moment, kept unless the study changed meanwhile."""
    assert work.run_study is not None and work.next_of_study is not None
    if _missing_rows(session, work.name):
        _add_missing_rows(session, work.name)
    view = directory.current(session)
    queued = 0
    due_rows = select(StudyDue.id, StudyDue.study_id, StudyDue.version).where(
        StudyDue.work == work.name, col(StudyDue.due_at) <= now
    )
    for row in session.exec(due_rows).all():  # plain rows: they outlast each study's commit
        study = view.studies.get(row.study_id)
        after = None
        try:
            if study is not None:  # a study no longer in any plan has nothing due until applied again
                done, after = _run_study(session, work, study, now)
                queued += done
        except Exception:  # this study's work is tried again at the next tick; the others go on
            session.rollback()
            log.exception("%s failed for study %s", work.name, study.key if study else row.study_id)
            continue
        session.exec(  # type: ignore[call-overload]
            update(StudyDue)
            .where(col(StudyDue.id) == row.id, col(StudyDue.version) == row.version)
            .values(due_at=after)
        )
        # Each study's work is kept as soon as it is done: a command in a study done already need not wait
        # for the whole tick (on PostgreSQL it waits only on that study's rows), and a later study that
        # fails undoes nothing of it. Its rows are let go of too, or every later flush would look
        # through all the studies done so far (a tick with a thousand due studies took quadratic time).
        session.commit()
        session.expunge_all()
    return queued


def _run_study(
    session: Session, work: DueWork, study: StudyView, now: datetime
) -> tuple[int, datetime | None]:
    """The work for one study (messages queued) and its next moment; cadence only while the study runs."""
    assert work.run_study is not None and work.next_of_study is not None
    row = session.get(Study, study.id) if work.cadence else None
    if row is None:
        return work.run_study(session, study, now=now), work.next_of_study(session, study, now=now)
    if not timeline.in_progress(row, now):
        return 0, timeline.within(row, now)  # its start, before it; after its end, never
    queued = work.run_study(session, study, now=now)
    return queued, timeline.within(row, work.next_of_study(session, study, now=now))


def _missing_rows(session: Session, name: str) -> bool:
    """Whether some study has no row for this work yet (a study older than the work, say)."""
    rows = session.exec(select(func.count()).select_from(StudyDue).where(StudyDue.work == name)).one()
    return rows < len(directory.current(session).studies)


def _add_missing_rows(session: Session, name: str) -> None:
    known = set(session.exec(select(StudyDue.study_id).where(StudyDue.work == name)))
    for study_id in directory.current(session).studies:
        if study_id not in known:
            _insert(session, name, study_id)


def _insert(session: Session, name: str, study_id: int) -> None:
    values = {"work": name, "study_id": study_id, "due_at": AT_ONCE, "version": 1}
    insert_once(session, StudyDue, values, unique=("work", "study_id"))


def is_due_work(session: Session) -> bool:
    """Whether due work (the tick, a check-in schedule) runs in this session: what it queues, Cadence
    started itself, rather than a person's request."""
    return bool(session.info.get(_RUNNING))


def changed(session: Session, study_id: int | None) -> None:
    """Something in the study changed: its works are due at the next tick (once this commits) — all of
    them, or, for a change due work made, those that show every change."""
    if study_id is not None:
        kind = _CHANGED_BY_WORK if session.info.get(_RUNNING) else _CHANGED
        session.info.setdefault(kind, set()).add(study_id)


def make_due_now(session: Session, study_ids: set[int], *, only_seeing_all: bool = False) -> None:
    """The per-study works of these studies due at once (all, or those that see every change); a tick's
    answer read before this is not kept."""
    if not study_ids:
        return
    names = [w.name for w in registered() if w.run_study and (w.sees_every_change or not only_seeing_all)]
    made_due = session.exec(  # type: ignore[call-overload]
        update(StudyDue)
        .where(col(StudyDue.study_id).in_(sorted(study_ids)), col(StudyDue.work).in_(names))
        .values(due_at=AT_ONCE, version=StudyDue.version + 1)
    )
    if made_due.rowcount < len(names) * len(study_ids):  # a new study, or a work new since its rows
        for name in names:
            for study_id in study_ids:
                _insert(session, name, study_id)


_RUNNING = "cadence.due_work"  # in a session's info while the tick's due work runs in it
_CHANGED, _CHANGED_BY_WORK = "cadence.studies_changed", "cadence.studies_changed_by_due_work"


@event.listens_for(Session, "before_commit")
def _make_changed_studies_due(session: Session) -> None:
    make_due_now(session, session.info.pop(_CHANGED, set()))
    make_due_now(session, session.info.pop(_CHANGED_BY_WORK, set()), only_seeing_all=True)


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


@functools.cache
def _import_capabilities() -> None:
    # A capability declares its due work where it is defined, so it counts only once its module is
    # loaded: load every module of bot/ rather than keep a list of them here. Once: every commit
    # that changed a study asks for the registry, and listing bot/ each time is a directory read.
    import bot

    for module in pkgutil.iter_modules(bot.__path__):
        if module.name not in _NOT_CAPABILITIES and not module.ispkg:
            importlib.import_module(f"bot.{module.name}")
