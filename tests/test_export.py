"""The Trial Master File export: PDFs per record, an index CSV, reproducible, no secrets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from bot import escalation, export, minutes, questions
from bot.db import run_in_session
from bot.errors import BadCommand, NotAnAdmin
from bot.studies import find_requester
from tests.conftest import child_pythonpath

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


@pytest.fixture
def records(engine, study):
    drafted = run_in_session(
        engine,
        minutes.draft_minutes,
        requester=as_person(engine, "raj"),
        now=NOW,
        text="DECISION: screening window 21 days\nACTION @omar: close queries by 2026-12-05",
    )
    run_in_session(
        engine,
        minutes.post_minutes,
        requester=as_person(engine, "raj"),
        minutes_id=drafted.minutes_id,
        now=NOW,
    )
    run_in_session(
        engine,
        escalation.raise_issue,
        requester=as_person(engine, "sofia"),
        severity="high",
        summary="Temperature excursion – kit 14",
        now=NOW,
    )
    run_in_session(
        engine, questions.ask, requester=as_person(engine, "ben"), text="SAE narrative filed?", now=NOW
    )


def run(engine, tmp_path, name="out"):
    return run_in_session(
        engine,
        export.export_study,
        study_key="ACME-201",
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        out=tmp_path / name,
    )


def test_one_pdf_per_record_and_an_index(engine, records, tmp_path):
    exported = run(engine, tmp_path)
    assert exported.files == (
        "ACME-201-E1.pdf",
        "ACME-201-M1.pdf",
        "ACME-201-Q1.pdf",
        "ACME-201-partnership-review-2026-11-01-2026-11-30.pdf",
        "index.csv",
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "index.csv").read_text())))
    assert [r["tmf_artifact"] for r in rows] == [
        "Relevant Communications",
        "Other Meeting Material",
        "Relevant Communications",
        "Relevant Communications",
    ]
    assert rows[3]["title"] == "Partnership review 2026-11-01 to 2026-11-30"
    minutes_row = rows[1]
    assert minutes_row["tmf_reference"] == "01.05.03" and minutes_row["date"] == "2026-11-23"
    assert "Omar Haddad (CRO)" in minutes_row["participants"] and minutes_row["version"] == "1.0"
    assert (tmp_path / "out" / "ACME-201-M1.pdf").read_bytes().startswith(b"%PDF")


def test_the_same_records_give_the_same_files(engine, records, tmp_path):
    first, second = run(engine, tmp_path, "a"), run(engine, tmp_path, "b")
    assert first.archive == second.archive
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_no_secret_is_written(engine, records, tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    exported = run(engine, tmp_path)
    assert b"xoxb" not in exported.archive
    assert all(b"xoxb" not in (tmp_path / "out" / n).read_bytes() for n in exported.files)


def test_from_chat_only_admins_and_the_zip_comes_by_dm(engine, records):
    with pytest.raises(NotAnAdmin):
        run_in_session(engine, export.export_for_admin, requester=as_person(engine, "ben"), text="", now=NOW)
    with pytest.raises(BadCommand):
        run_in_session(
            engine, export.export_for_admin, requester=as_person(engine, "alice"), text="soon", now=NOW
        )
    asked = run_in_session(
        engine, export.export_for_admin, requester=as_person(engine, "alice"), text="", now=NOW
    )
    assert (asked.start, asked.end) == (date(2000, 1, 1), NOW.date())


def test_the_cli_writes_the_export(engine, records, database_url, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CADENCE_"))} | {
        "DATABASE_URL": database_url,
        "PYTHONPATH": child_pythonpath(),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "--study",
            "ACME-201",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            str(tmp_path / "cli"),
        ],
        env=env,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Wrote 5 files" in done.stdout and (tmp_path / "cli" / "index.csv").exists()
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "--study",
            "NOPE",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            str(tmp_path / "x"),
        ],
        env=env,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "There is no study NOPE" in bad.stderr and "Traceback" not in bad.stderr
