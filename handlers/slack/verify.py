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
from typing import Any
from urllib.parse import parse_qsl

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


def body_as_sent(text: str, content_type: str | None) -> dict[str, Any] | None:
    """The request's body as Slack sent it: an event's JSON object, an interactive payload (the JSON of a
    form's one `payload` field) or a slash command's form fields; None for a body that is none of these
    (JSON with trailing data, JSON that is not an object).

    Bolt guesses the shape from whether the word "payload" appears anywhere in the body, so a command
    typed as `/who-owns SAE payload` would reach it as an empty interaction: the server hands Bolt this
    reading instead."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "application/json" or text.startswith("{"):
        return _json_object(text)
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        # An interactive payload that is not a JSON object reads as one of no known type: well_formed
        # refuses it as it refuses any payload of an odd shape (an empty 200).
        return _json_object(fields["payload"]) or {"type": None}
    return fields


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def well_formed(body: dict[str, Any]) -> bool:
    """Whether an interactive payload or an event has the shape Slack gives one, in the fields Cadence or
    Bolt read: the ids are strings, the objects are objects, a button has an action id, a form has its
    state's values. Slash commands (form fields, all strings) are left to Bolt."""
    if "type" not in body:  # a slash command's (or Slack's SSL check's) form fields: strings, all of them
        return all(isinstance(value, str) for value in body.values())
    if not _all_strings(body, "type", "team_id", "api_app_id", "event_id", "token", "response_url"):
        return False
    if body.get("type") == "event_callback":
        return _well_formed_event(body)
    if body.get("type") in _INTERACTIONS:
        return _well_formed_interaction(body)
    return body.get("type") in _OTHER_KINDS


_INTERACTIONS = {
    "block_actions", "interactive_message", "view_submission", "view_closed", "shortcut", "message_action",
    "block_suggestion", "dialog_submission",
}  # fmt: skip
_ACTION_ID = {"block_actions": "action_id", "interactive_message": "name"}  # what names the button pressed
_OTHER_KINDS = {"url_verification", "app_rate_limited"}
# The fields of an event that Slack gives as strings, in the events Cadence listens to.
_EVENT_STRINGS = ("type", "user", "channel", "text", "ts", "thread_ts", "channel_type", "subtype", "bot_id",
                  "tab", "team", "user_team", "event_ts")  # fmt: skip
_LISTENED = {"app_mention", "message", "app_home_opened", "app_uninstalled", "tokens_revoked",
             "member_joined_channel"}  # fmt: skip


def _well_formed_event(body: dict[str, Any]) -> bool:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return False
    if not _objects_or_absent(body, "authorizations", kind=list) or not all(
        isinstance(a, dict) for a in body.get("authorizations") or ()
    ):
        return False
    if not all(_objects_or_absent(event, name) for name in ("message", "previous_message", "item")):
        return False
    if event["type"] not in _LISTENED:  # Bolt still reads who and where from it: a string, or an object
        return all(_string_or_object_with_id(event.get(name)) for name in ("user", "channel"))
    if not _url_or_absent(body.get("response_url")):
        return False
    if event["type"] in {"app_mention", "member_joined_channel", "app_home_opened"} and not isinstance(
        event.get("user"), str
    ):
        return False
    if event["type"] == "app_mention" and not _all_present_strings(event, "channel", "ts"):
        return False
    return _all_strings(event, *_EVENT_STRINGS)


def _well_formed_interaction(body: dict[str, Any]) -> bool:
    user = body.get("user")
    if not (isinstance(user, dict) and isinstance(user.get("id"), str)):
        return False
    for name in ("team", "channel", "container", "message", "view", "enterprise"):
        if not _objects_or_absent(body, name):
            return False
    if not _objects_or_absent(body, "response_urls", kind=list):
        return False
    if not _url_or_absent(body.get("response_url")):
        return False
    if not _all_strings(body.get("team") or {}, "id") or not _all_strings(body.get("channel") or {}, "id"):
        return False
    if body["type"] in {"block_actions", "interactive_message"}:
        actions = body.get("actions")
        return (
            isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and isinstance(a.get(_ACTION_ID[body["type"]]), str) for a in actions)
            and all(_all_strings(a, "block_id", "type", "value", "callback_id", "name") for a in actions)
        )
    if body["type"] in {"view_submission", "view_closed"}:
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("type"), str):
            return False
        if not _all_strings(view, "callback_id", "private_metadata", "id"):
            return False
        state = view.get("state", {})
        values = state.get("values", {}) if isinstance(state, dict) else None
        return isinstance(values, dict) and all(
            isinstance(block, dict) and all(isinstance(field, dict) for field in block.values())
            for block in values.values()
        )
    return True


def _string_or_object_with_id(value: Any) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, dict) and _all_strings(value, "id"))


def _url_or_absent(value: Any) -> bool:
    """Slack's response URLs are web addresses; anything else cannot be answered to."""
    return value is None or (isinstance(value, str) and value.startswith(("https://", "http://")))


def _all_strings(where: dict[str, Any], *names: str) -> bool:
    """Each of `names` is absent, null, or a string."""
    return all(isinstance(where.get(name), str | None) for name in names)


def _all_present_strings(where: dict[str, Any], *names: str) -> bool:
    return all(isinstance(where.get(name), str) for name in names)


def _objects_or_absent(where: dict[str, Any], name: str, *, kind: type = dict) -> bool:
    return where.get(name) is None or isinstance(where[name], kind)
