"""Slack's request signing, checked before anything reads the body.

Bolt checks signatures too, but only after it has parsed the body, and a timestamp that is not an
integer makes its check raise: the error then reaches the listeners' error handler, which answers,
and may call the unverified body's `response_url`. So every request is checked here first, on the
raw bytes: a timestamp of ASCII digits within five minutes, and an HMAC that matches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from urllib.parse import parse_qs

MAX_AGE_SECONDS = 300  # Slack's own window for a request's timestamp
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def signed_by_slack(body: bytes, headers: dict[str, str], secret: str, now: float | None = None) -> bool:
    """Whether `body` and its headers (lower-case names) carry Slack's valid, fresh signature."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not secret or not signature or not _TIMESTAMP.fullmatch(timestamp):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(
        signature_of(body, timestamp, secret).encode(), signature.encode("utf-8", "replace")
    )


def signature_of(body: bytes, timestamp: str, secret: str) -> str:
    """Slack's v0 signature of a body, over its bytes as they are (which need not be UTF-8)."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def well_formed(body: bytes) -> bool:
    """Whether an interactive payload (`payload=…`) has the shape Slack gives one: a JSON object with a
    type, a user with an id, a non-empty list of actions for a button, a view object for a form. Other
    bodies (slash commands, events) are left to Bolt."""
    fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    if "payload" not in fields:
        return True
    try:
        payload = json.loads(fields["payload"][0])
    except ValueError:
        return False
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return False
    user = payload.get("user")
    if not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        return False
    if payload["type"] == "block_actions":
        actions = payload.get("actions")
        return isinstance(actions, list) and bool(actions) and all(isinstance(a, dict) for a in actions)
    if payload["type"] in {"view_submission", "view_closed"}:
        view = payload.get("view")
        return isinstance(view, dict) and isinstance((view.get("state") or {}).get("values", {}), dict)
    return True
