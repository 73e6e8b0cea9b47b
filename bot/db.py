"""Engines, sessions and migrations."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from bot.errors import DatabaseBusy

T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any fixed number: instances starting together take turns at migrating.
_MIGRATION_LOCK = 0x0CADE7CE
# The tick and jobs wait long for a lock; a person's request does not: Slack shows a timeout after 3 s,
# and a person who sees one retries, so a request that cannot have the database soon does nothing.
LONG_WAIT_MS = 30_000
REQUEST_WAIT_MS = 2_000
_BUSY_STATES = {"55P03", "57014"}  # PostgreSQL: lock_not_available, query_canceled (statement_timeout)
log = logging.getLogger("cadence.db")


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": LONG_WAIT_MS / 1000})
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "checkin", _wait_long_again)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def normalize_url(url: str) -> str:
    """Plain `postgresql://` URLs use psycopg 3, the driver Cadence ships with."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _wait_long_again(dbapi_connection, _record) -> None:
    """A connection a request used goes back to the pool with the long wait the tick and jobs expect."""
    try:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {LONG_WAIT_MS}")
    except Exception:  # a broken connection is discarded by the pool anyway
        pass


def _wait_briefly(_session: Session, _transaction, connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {REQUEST_WAIT_MS}")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {REQUEST_WAIT_MS}")
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {REQUEST_WAIT_MS + 500}")


def is_busy(error: OperationalError) -> bool:
    """A lock held elsewhere for longer than we wait, as opposed to a database that cannot be reached."""
    original = getattr(error, "orig", None)
    return "database is locked" in str(original) or getattr(original, "sqlstate", None) in _BUSY_STATES


def is_unreachable(error: OperationalError) -> bool:
    """The database cannot be reached (down, refusing, its file gone), as opposed to a bug or a lock."""
    original = getattr(error, "orig", None)
    if error.connection_invalidated:
        return True
    if isinstance(original, sqlite3.Error):
        return any(words in str(original) for words in ("unable to open database", "disk I/O error"))
    state = getattr(original, "sqlstate", None)
    return state is None or state.startswith("08") or state in {"57P01", "57P02", "57P03"}


def waited_in_vain(error: OperationalError) -> bool:
    """Busy or out: a request that met this did nothing, and the person is told Cadence is busy."""
    return is_busy(error) or is_unreachable(error)


class Outage:
    """Whether the database can be reached, as the tick and requests find it: one line when an outage
    starts and one when it ends, however many requests and ticks fail meanwhile."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._lock = threading.Lock()

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: OperationalError) -> None:
        with self._lock:
            if self._since is None:
                self._since = time.monotonic()
                log.error("the database cannot be reached (%s); retrying quietly", _reason(error))

    def over(self) -> None:
        if self._since is None:
            return
        with self._lock:
            if self._since is not None:
                log.warning("the database is back after %.0f s", time.monotonic() - self._since)
                self._since = None


OUTAGE = Outage()


def _reason(error: OperationalError) -> str:
    return (
        str(getattr(error, "orig", error)).strip().splitlines()[0][:200]
        if str(error)
        else type(error).__name__
    )


def refusal_for(error: OperationalError) -> DatabaseBusy:
    """What a person is told when their request could not have the database: busy, nothing was done."""
    if is_busy(error):
        log.info("a request found the database busy; nothing was done")
    else:
        OUTAGE.failed(error)
    return DatabaseBusy()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (safe to call from several instances at once)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def run_in_session(engine: Engine, function: Callable[..., T], /, **kwargs: Any) -> T:
    """Call `function(session, **kwargs)` in a session of its own that commits on success."""
    with session_scope(engine) as session:
        return function(session, **kwargs)


def insert_once(
    session: Session, model: type, values: dict[str, Any], *, unique: tuple[str, ...] = ("key",)
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on the `unique` columns: True when the row is new."""
    insert = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(getattr(model, unique[0]))
    )
    return session.execute(statement).first() is not None


def database_ok(engine: Engine) -> bool:
    """Whether the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


@contextmanager
def session_scope(engine: Engine, *, request: bool = False) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises. A `request`'s session
    waits at most REQUEST_WAIT_MS for a lock."""
    with Session(engine, expire_on_commit=False) as session:
        if request:
            event.listen(session, "after_begin", _wait_briefly)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
