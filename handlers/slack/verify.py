"""Slack's request signing, checked before anything reads the body.

Bolt checks signatures too, but only after it has parsed the body, and a timestamp that is not an
integer makes its check raise: the error then reaches the listeners' error handler, which answers,
and may call the unverified body's `response_url`. So every request is checked here first, on the
raw bytes: a timestamp of ASCII digits within five minutes, and an HMAC that matches.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

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
