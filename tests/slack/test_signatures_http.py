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

from tests.payloads import SIGNING_SECRET, post, sign, slash_command


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
        "channel": {"id": "C0STUDY"}, "response_url": response_url, "trigger_id": "1.2.3",
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
