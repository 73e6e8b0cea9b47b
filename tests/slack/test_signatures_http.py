"""Slack's request signing is checked on the raw bytes before anything reads them: odd timestamps,
bodies changed after signing and bytes that are not UTF-8 are refused, and Cadence calls nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.payloads import SIGNING_SECRET, post, sign, slash_command, trigger_id


def signed_with(body: bytes, timestamp: str) -> dict[str, str]:
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def send(url: str, body: bytes, headers: dict[str, str], content_type: str) -> int:
    request = urllib.request.Request(f"{url}/slack/events", data=body, method="POST")
    request.add_header("Content-Type", content_type)
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def button_press(response_url: str) -> bytes:
    payload = {
        "type": "block_actions", "user": {"id": "U01BEN"}, "team": {"id": "T0SPONSOR"},
        "channel": {"id": "C0STUDY"}, "response_url": response_url, "trigger_id": trigger_id(),
        "actions": [{"action_id": "esc_ack", "value": "1", "type": "button"}],
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)}).encode()


@pytest.mark.parametrize(
    "timestamp", ["abc", "1e20", "", "1796108961.5", "-1796108961", "99999999999999999999"]
)
def test_a_timestamp_that_is_not_an_integer_is_refused_and_nothing_is_called(
    slack_url, fake_slack, timestamp
):
    body = button_press(f"{fake_slack.url}response-hook")
    assert send(slack_url, body, signed_with(body, timestamp), "application/x-www-form-urlencoded") == 401
    command = urlencode(slash_command("/escalate", "low Printer jam")).encode()
    assert (
        send(slack_url, command, signed_with(command, timestamp), "application/x-www-form-urlencoded") == 401
    )
    assert not fake_slack.calls  # no response_url, no Web API call


def test_a_body_changed_after_signing_is_refused(slack_url, fake_slack):
    event = json.dumps(
        {"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}
    ).encode()
    headers = signed_with(event, str(int(time.time())))
    assert send(slack_url, event + b"}}", headers, "application/json") == 401
    command = urlencode(slash_command("/who-owns", "SAE"))
    assert (
        send(slack_url, (command + "&x=1").encode(), sign(command), "application/x-www-form-urlencoded")
        == 401
    )
    assert not fake_slack.calls


def test_a_signed_body_that_is_not_utf8_gets_a_clear_answer(slack_url):
    body = b"command=%2Fwho-owns&text=\xff\xfe"
    status = send(
        slack_url, body, signed_with(body, str(int(time.time()))), "application/x-www-form-urlencoded"
    )
    assert status == 400


def test_a_correctly_signed_command_still_works(slack_url):
    body = urlencode(slash_command("/who-owns", "SAE"))
    answer = post(f"{slack_url}/slack/events", body, sign(body), "application/x-www-form-urlencoded")
    assert answer.status == 200 and "owned by <@U02MEI>" in answer.text


@pytest.mark.parametrize(
    "payload",
    ["notjson", '{"type": "block_actions", "user"', "null", "[1,2]", "123", '"x"',
     '{"type": "block_actions", "user": "U01BEN", "actions": [{"action_id": "esc_ack", "value": "1"}]}',
     '{"type": "block_actions", "user": {"id": "U01BEN"}, "actions": {"action_id": "esc_ack"}}',
     '{"type": "block_actions", "user": {"id": "U01BEN"}, "actions": []}',
     '{"type": "view_submission", "user": {"id": "U01BEN"}, "view": "x"}',
     '{"type": "view_submission", "user": {"id": "U01BEN"}, "view": {"state": {"values": []}}}'],
)  # fmt: skip
def test_a_signed_payload_of_an_odd_shape_does_nothing_and_breaks_nothing(slack_url, fake_slack, payload):
    body = urlencode({"payload": payload}).encode()
    status = send(
        slack_url, body, signed_with(body, str(int(time.time()))), "application/x-www-form-urlencoded"
    )
    assert status == 200 and not fake_slack.calls


def escalations(engine) -> int:
    from sqlmodel import Session, func, select

    from bot.models import Escalation

    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Escalation)).one()


def rows(engine) -> dict[str, int]:
    """How many rows each of the tables a click can change holds."""
    from sqlmodel import Session, func, select

    from bot.models import AuditEvent, Escalation, OutboxMessage

    with Session(engine) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (AuditEvent, Escalation, OutboxMessage)
        }


def test_a_replayed_command_is_answered_and_does_nothing_on_any_instance(slack_url, settings, engine):
    from handlers.server import build_asgi
    from handlers.slack.app import build_app
    from tests.conftest import serve_in_thread

    body = urlencode(slash_command("/escalate", "low Printer jam at site 104"))
    headers = sign(body)
    first = post(f"{slack_url}/slack/events", body, headers, "application/x-www-form-urlencoded")
    assert first.status == 200 and "Raised *ACME-201-E1*" in first.text
    again = post(f"{slack_url}/slack/events", body, headers, "application/x-www-form-urlencoded")
    other_url, stop = serve_in_thread(build_asgi(build_app(settings, engine), engine))
    try:
        elsewhere = post(f"{other_url}/slack/events", body, headers, "application/x-www-form-urlencoded")
    finally:
        stop()
    assert (again.status, again.body) == (200, "")
    assert (elsewhere.status, elsewhere.body) == (200, "")
    assert escalations(engine) == 1
    # The same words typed again are a new request with a signature of its own.
    fresh = urlencode(slash_command("/escalate", "low Printer jam at site 104"))
    post(f"{slack_url}/slack/events", fresh, sign(fresh), "application/x-www-form-urlencoded")
    assert escalations(engine) == 2


def test_a_replayed_form_submission_raises_nothing(slack_url, engine):
    values = {
        "summary": {"value": {"type": "plain_text_input", "value": "EDC down since 9am"}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "high"}}},
        "topic": {"value": {"type": "static_select", "selected_option": {"value": "Data management"}}},
        "impact": {"value": {"type": "plain_text_input", "value": "No data entry at 4 sites"}},
        "tried": {"value": {"type": "plain_text_input", "value": "Vendor ticket opened"}},
    }
    payload = {
        "type": "view_submission", "user": {"id": "U01BEN", "team_id": "T0SPONSOR"}, "team": {"id": "T0SPONSOR"},
        "view": {"id": "V1", "type": "modal", "callback_id": "escalation_form", "private_metadata": "ACME-201",
                 "state": {"values": values}},
    }  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)})
    headers = sign(body)
    assert post(f"{slack_url}/slack/events", body, headers, "application/x-www-form-urlencoded").status == 200
    before = rows(engine)
    again = post(f"{slack_url}/slack/events", body, headers, "application/x-www-form-urlencoded")
    assert (again.status, again.body) == (200, "")
    assert rows(engine) == before and before["Escalation"] == 1


def test_remembered_signatures_are_forgotten_once_they_cannot_come_back(engine):
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session, select

    from bot.models import ReceivedRequest
    from bot.received import first_receipt

    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    kept = timedelta(minutes=6)
    with Session(engine) as session:
        for n in range(2000):  # enough keys that some fall on the pruning turn
            first_receipt(session, f"slack:old-{n}", now=now, kept=kept)
        assert not first_receipt(session, "slack:old-7", now=now + timedelta(minutes=1), kept=kept)
        later = now + timedelta(minutes=7)
        for n in range(2000):
            first_receipt(session, f"slack:new-{n}", now=later, kept=kept)
        keys = set(session.exec(select(ReceivedRequest.key)).all())
    assert not any(k.startswith("slack:old-") for k in keys)
    assert sum(k.startswith("slack:new-") for k in keys) == 2000
