"""The App Home and the cadence report over signed Slack HTTP against the fake Web API."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot import minutes, reports
from bot.clock import ManualClock
from bot.db import run_in_session
from bot.studies import find_requester
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import post, post_command, sign, trigger_id
from tests.slack.test_checkin_http import deliver, interaction

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
OMAR = "U02OMAR"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def url(settings, engine, study, clock):
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def post_minutes_for_omar(engine):
    post_minutes(
        engine,
        "ACTION @omar: close the open EDC queries by 2026-12-05\nACTION: Omar to send the export by 2026-12-09",
    )


def post_minutes(engine, notes: str) -> None:
    """Raj drafts and posts minutes of `notes`."""
    drafted = run_in_session(
        engine, minutes.draft_minutes, requester=as_person(engine, "raj"), text=notes, now=NOW
    )
    run_in_session(
        engine,
        minutes.post_minutes,
        requester=as_person(engine, "raj"),
        minutes_id=drafted.minutes_id,
        now=NOW,
    )


def home_opened(url, user):
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0CRO",
            "api_app_id": "A0CADENCE",
            "event_id": "EvHome1",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"},
        }
    )
    return post(f"{url}/slack/events", body, sign(body), "application/json").status


def published_texts(call) -> str:
    view = call.params["view"] if isinstance(call.params["view"], dict) else json.loads(call.params["view"])
    return json.dumps(view["blocks"])


def test_the_home_lists_my_open_items_and_drops_one_when_done(url, engine, fake_slack):
    post_minutes_for_omar(engine)
    assert home_opened(url, OMAR) == 200
    [published] = fake_slack.calls_to("views.publish")
    assert published.params["user_id"] == OMAR
    shown = published_texts(published)
    assert "Close the open EDC queries" in shown and "Send the export" in shown
    assert "First patient in" in shown  # the study's milestones

    done_id = next(
        b["accessory"]["value"]
        for b in json.loads(shown)
        if "Close the open EDC queries" in b.get("text", {}).get("text", "") and "accessory" in b
    )
    payload = {
        "type": "block_actions",
        "user": {"id": OMAR, "team_id": "T0CRO"},
        "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(),
        "team": {"id": "T0CRO"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [{"action_id": "action_done", "value": done_id, "type": "button", "action_ts": "1.1"}],
    }
    assert interaction(url, payload) == 200
    republished = fake_slack.calls_to("views.publish")[-1]
    assert "Close the open EDC queries" not in published_texts(republished)
    assert "Send the export" in published_texts(republished)


def test_the_report_posts_its_figures_and_uploads_the_chart_in_two_steps(url, engine, fake_slack, clock):
    answer = post_command(url, "/cadence", "report 2", user_id="U01ALICE")
    assert "The cadence report for the last 2 week(s) is on its way to <#C0STUDY>" in answer.text
    deliver(engine, fake_slack, clock)
    [figures] = [p for p in fake_slack.posted if (p.key or "").startswith("report:")]
    text = json.dumps(figures.blocks)
    assert "Cadence report" in text and "Check-ins answered" in text and "Action items due" in text
    assert fake_slack.calls_to("files.getUploadURLExternal")
    [shared] = fake_slack.shared
    assert shared["channel"] == "C0STUDY" and shared["thread_ts"] == figures.ts
    [png] = fake_slack.uploads.values()
    assert png.startswith(b"\x89PNG")


def test_the_weekly_report_goes_out_once_on_monday_morning(engine, study):
    monday_eight_thirty = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # 08:30 in New York
    assert run_in_session(engine, reports.weekly_reports, now=monday_eight_thirty - timedelta(hours=1)) == 0
    assert run_in_session(engine, reports.weekly_reports, now=monday_eight_thirty) == 1
    assert run_in_session(engine, reports.weekly_reports, now=monday_eight_thirty.replace(hour=20)) == 0


@pytest.mark.parametrize(
    "period", ["0001-01-01 9999-12-31", "1999-12-31 2026-11-30", "2026-11-01 2100-01-01"]
)
def test_an_export_beyond_the_calendar_it_covers_is_refused_and_nothing_is_queued(
    period, url, engine, fake_slack, clock
):
    from sqlmodel import Session, select

    from bot.models import OutboxMessage

    answer = post_command(url, "/cadence", f"export {period}", user_id="U01ALICE")
    assert "An export covers dates from 2000-01-01 to 2099-12-31" in answer.text
    with Session(engine) as session:
        assert not session.exec(select(OutboxMessage).where(OutboxMessage.notice_kind == "export_file")).all()


def test_an_export_that_cannot_be_built_is_told_to_whoever_asked(url, engine, fake_slack, clock):
    from sqlmodel import Session, select

    from bot.models import AuditEvent, OutboxMessage

    answer = post_command(url, "/cadence", "export 2026-11-01 2026-11-30", user_id="U01ALICE")
    assert "is being built" in answer.text
    with Session(engine) as session:  # a request queued before periods were checked, whose build fails
        [queued] = session.exec(select(OutboxMessage).where(OutboxMessage.notice_kind == "export_file")).all()
        queued.payload = queued.payload | {"start": "0001-01-01", "end": "9999-12-31"}
        session.add(queued)
        session.commit()
    deliver(engine, fake_slack, clock)
    assert not fake_slack.uploads
    [told] = [p for p in fake_slack.posted if "could not be built" in p.text]
    assert told.channel == "D01ALICE" and "Trial Master File export" in told.text
    with Session(engine) as session:
        failed = session.exec(select(OutboxMessage).where(OutboxMessage.notice_kind == "export_file")).one()
        assert failed.state == "failed" and failed.attempts == 1  # not retried for hours
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "delivery.failed")).all()


def test_homes_are_republished_only_when_they_change(engine, study):
    first = run_in_session(engine, reports.refresh_homes, now=NOW)
    assert first == 9  # everyone with a Slack id, once
    assert run_in_session(engine, reports.refresh_homes, now=NOW) == 0
    post_minutes_for_omar(engine)
    assert run_in_session(engine, reports.refresh_homes, now=NOW) == 1  # only Omar's changed


def test_the_export_answers_at_once_and_its_zip_is_built_when_it_is_sent(url, engine, fake_slack, clock):
    import io
    import zipfile

    from sqlmodel import Session, select

    from bot.models import OutboxMessage

    answer = post_command(url, "/cadence", "export 2026-11-01 2026-11-30", user_id="U01ALICE")
    assert "The export of Sun 01 Nov 2026 to Mon 30 Nov 2026 is being built" in answer.text
    with Session(engine) as session:
        [queued] = session.exec(select(OutboxMessage).where(OutboxMessage.notice_kind == "export_file")).all()
    assert len(json.dumps(queued.payload)) < 1000  # the request holds what to build, not the files
    assert not fake_slack.uploads
    deliver(engine, fake_slack, clock)
    [archive] = fake_slack.uploads.values()
    assert "index.csv" in zipfile.ZipFile(io.BytesIO(archive)).namelist()
    backwards = post_command(url, "/cadence", "export 2026-11-30 2026-11-01", user_id="U01ALICE")
    assert "The end date is before the start date" in backwards.text
