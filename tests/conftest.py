"""Fixtures: a migrated database per test (SQLite, or PostgreSQL when CADENCE_TEST_DATABASE_URL is set),
the example study, the fake Slack Web API and the real Bolt app served over HTTP on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.clock import ManualClock, process_clock
from bot.config import EXAMPLE_PLAN, Settings
from bot.db import make_engine, migrate, normalize_url, run_in_session
from bot.plan import Plan, load_plan_file
from bot.studies import apply_plan
from handlers.server import bind, build_asgi, make_server
from handlers.slack.app import build_app
from tests.fake_slack import FakeSlack
from tests.payloads import BOT_TOKEN, SIGNING_SECRET
from tests.smtp_server import SmtpServer

REPO = Path(__file__).resolve().parent.parent
SHARED_PLAN = REPO.parent / "shared" / "plan-example.yaml"
POSTGRES_URL = os.environ.get("CADENCE_TEST_DATABASE_URL")
STUDY_APPLIED = datetime(2026, 11, 1, tzinfo=UTC)


# CI runs the suite once more with the process's date moved far from today (`CADENCE_TEST_TODAY`), so a
# test that reads the wall clock instead of its own clock fails there rather than on some later day.
MOVED_TODAY = os.environ.get("CADENCE_TEST_TODAY")


_MOVE_THE_DATE = """
import time
from datetime import UTC, datetime, timedelta

import time_machine

_moved = datetime.fromisoformat({today!r})
_moved = _moved if _moved.tzinfo else _moved.replace(tzinfo=UTC)
# As late after `today` as this process starts after the moment the clock was moved (real seconds): a
# process started ten minutes into the run is not ten minutes behind the one that started it.
time_machine.travel(_moved + timedelta(seconds=time.time() - {since!r}), tick=True).start()
"""


def moving_the_date(today: str) -> str:
    """A `sitecustomize` (or code to run) moving a process's clock to `today` as of this real moment."""
    return _MOVE_THE_DATE.format(today=today, since=_real_time())


def _real_time() -> float:
    try:
        return time_machine.escape_hatch.time.time()
    except ValueError:  # not travelling: time.time() is the real one
        return time.time()


def pytest_configure(config: pytest.Config) -> None:
    if not MOVED_TODAY:
        return
    # The same move in every Python process the tests start (`cadence serve`, the console, a worker):
    # a `sitecustomize` on their PYTHONPATH, which Python imports at start.
    moved = Path(tempfile.mkdtemp(prefix="cadence-moved-date-"))
    move = moving_the_date(MOVED_TODAY)
    (moved / "sitecustomize.py").write_text(move)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(moved), os.environ.get("PYTHONPATH")]))
    exec(move, {})


def child_pythonpath() -> str:
    """PYTHONPATH for a Python process a test starts: this checkout first, then what the run added
    (the moved date's `sitecustomize`)."""
    return os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


def pytest_report_header(config: pytest.Config) -> str:
    moved = f", the date moved to {MOVED_TODAY}" if MOVED_TODAY else ""
    return f"database: {'PostgreSQL' if POSTGRES_URL else 'SQLite'}{moved}"


@pytest.fixture(autouse=True)
def _the_tests_clock_is_the_process_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test's `clock` also stamps what the process records by itself (the audit trail, a row's time), as
    `cadence simulate` sets its simulated clock: nothing a test checks may come from today's date."""
    if "clock" not in request.fixturenames:
        yield
        return
    with process_clock(request.getfixturevalue("clock")):
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy, which is far faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "cadence.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a PostgreSQL schema of its own."""
    if not POSTGRES_URL:
        path = tmp_path / "cadence.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with postgres_schema() as url:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url


@contextmanager
def postgres_schema(prefix: str = "test") -> Iterator[str]:
    """A PostgreSQL schema of its own on CADENCE_TEST_DATABASE_URL, as a URL; dropped afterwards."""
    assert POSTGRES_URL
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{normalize_url(POSTGRES_URL)}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def example_plan() -> Plan:
    return load_plan_file(EXAMPLE_PLAN)


@pytest.fixture
def study(engine: Engine, example_plan: Plan) -> Plan:
    """The example study (ACME-201), applied on 1 November 2026, before the moments the tests pick."""
    with process_clock(ManualClock(STUDY_APPLIED)):
        run_in_session(engine, apply_plan, plan=example_plan, actor="test")
    return example_plan


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback (aiosmtpd), keeping what it is sent."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(database_url: str, fake_slack: FakeSlack) -> Settings:
    return Settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
    )


def loopback_socket() -> tuple[socket.socket, str]:
    """A listening socket on a free loopback port and its URL: an app told its own address before it is
    served (CADENCE_PUBLIC_URL) is then served there by `serve_in_thread(app, sock)`."""
    sock = bind("127.0.0.1", 0)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def serve_in_thread(asgi, sock: socket.socket | None = None) -> tuple[str, callable]:
    """Serve an ASGI app with uvicorn on a free loopback port (or `sock`); returns its URL and a stop
    function."""
    sock = sock or bind("127.0.0.1", 0)
    server = make_server(asgi, host="127.0.0.1", port=sock.getsockname()[1])
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the test server did not start"

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


@pytest.fixture
def slack_url(settings: Settings, engine: Engine, study: Plan) -> Iterator[str]:
    """The real Bolt app, served over HTTP on loopback, with the example study applied."""
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine), engine))
    yield url
    stop()
