"""Slack payload samples and the signing of requests, as Slack sends them."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
STUDY_CHANNEL = "C0STUDY"
SPONSOR_TEAM = "T0SPONSOR"
CRO_TEAM = "T0CRO"

_TRIGGERS = itertools.count(1)  # Slack gives every invocation a trigger of its own


def trigger_id() -> str:
    return f"13345224609.738474920.{next(_TRIGGERS):031x}"


ALICE = "U01ALICE"  # sponsor, admin
BEN = "U01BEN"  # sponsor
RAJ = "U02RAJ"  # CRO, admin
MEI = "U02MEI"  # CRO
STRANGER = "U09NOBODY"


def slash_command(
    command: str,
    text: str = "",
    *,
    user_id: str = BEN,
    channel_id: str = STUDY_CHANNEL,
    team_id: str = SPONSOR_TEAM,
    response_url: str = "http://127.0.0.1:9/commands/response",
) -> dict[str, str]:
    """A slash command's form fields, as Slack posts them."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": "acme" if team_id == SPONSOR_TEAM else "cro",
        "channel_id": channel_id,
        "channel_name": "acme-201" if channel_id == STUDY_CHANNEL else "elsewhere",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0CADENCE",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    }


def sign(body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The headers Slack adds: a timestamp and an HMAC signature over it and the body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


@dataclass
class Answer:
    status: int
    body: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """Everything a person would read: the fallback text and every block's text."""
        data = self.json()
        parts = [data.get("text", "")]
        for block in data.get("blocks", []):
            parts.extend(_texts(block))
        return "\n".join(parts)


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        return found + [t for value in node.values() if isinstance(value, dict | list) for t in _texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def post(url: str, body: str, headers: dict[str, str], content_type: str) -> Answer:
    request = urllib.request.Request(url, data=body.encode(), method="POST")
    request.add_header("Content-Type", content_type)
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode())


def post_command(
    base_url: str, command: str, text: str = "", *, headers: dict[str, str] | None = None, **fields: str
) -> Answer:
    """Post a correctly signed slash command to `/slack/events`."""
    body = urlencode(slash_command(command, text, **fields))
    return post(f"{base_url}/slack/events", body, headers or sign(body), "application/x-www-form-urlencoded")
