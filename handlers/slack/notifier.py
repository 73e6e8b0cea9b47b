"""The Notifier port on Slack's Web API, with Slack's errors sorted as Slack documents them."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.directory import Contact
from bot.messages import Home, Message
from bot.replies import PermanentFailure, Posted, RateLimited, TemporaryFailure
from handlers.slack import layout

# Errors where trying again cannot help; anything else is retried a bounded number of times.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "team_access_not_granted",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)
METADATA_EVENT = "cadence_outbox"


class SlackNotifier:
    platform = "slack"

    def __init__(self, client: WebClient):
        self.client = client

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        return self._post(channel=channel, message=message, key=key)

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        return self._post(channel=channel, message=message, key=key, thread_ts=thread)

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        if not person.slack_id:
            raise PermanentFailure("no_slack_id_in_plan")
        # Posting to a user id lands in the app's Messages tab with them: no conversations.open needed.
        return self._post(channel=person.slack_id, message=message, key=key)

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        response = self._call("chat_update", channel=channel, ts=message_id, **_drawn(message))
        return Posted(response["channel"], response["ts"])

    def publish_view(self, person: Contact, home: Home) -> None:
        if not person.slack_id:
            raise PermanentFailure("no_slack_id_in_plan")
        self._call("views_publish", user_id=person.slack_id, view=layout.home(home))

    def upload_file(
        self,
        *,
        channel: str | None,
        person: Contact | None,
        thread: str | None,
        filename: str,
        content: bytes,
        title: str,
        key: str,
    ) -> Posted:
        """Slack's two-step upload (files.getUploadURLExternal, then files.completeUploadExternal)."""
        if channel is None:
            if person is None or not person.slack_id:
                raise PermanentFailure("no_slack_id_in_plan")
            channel = self._call("conversations_open", users=person.slack_id)["channel"]["id"]
        extra = {"thread_ts": thread} if thread else {}
        response = self._call(
            "files_upload_v2", channel=channel, content=content, filename=filename, title=title, **extra
        )
        uploaded = (response.get("files") or [response.get("file") or {}])[0]
        return Posted(channel, uploaded.get("id") or key)

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        """Look for the message that carries `key` in its metadata, posted since `since`."""
        if channel is None:
            if person is None or not person.slack_id:
                return None
            channel = self._call("conversations_open", users=person.slack_id)["channel"]["id"]
        cursor = None
        for _ in range(5):  # up to 1,000 messages back
            page = self._call(
                "conversations_history",
                channel=channel,
                oldest=f"{since:.6f}",
                limit=200,
                include_all_metadata=True,
                cursor=cursor,
            )
            for item in page.get("messages", []):
                metadata = item.get("metadata") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and metadata.get("event_payload", {}).get("key") == key
                ):
                    return Posted(channel, item["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _post(self, *, channel: str, message: Message, key: str, **extra: Any) -> Posted:
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}}
        response = self._call(
            "chat_postMessage", channel=channel, metadata=metadata, **_drawn(message), **extra
        )
        return Posted(response["channel"], response["ts"])

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as error:
            raise classify(error) from None
        except (OSError, TimeoutError, json.JSONDecodeError) as error:  # connection refused, reset, timed out
            raise TemporaryFailure(f"connection: {type(error).__name__}") from None


def _drawn(message: Message) -> dict[str, Any]:
    drawn = layout.message(message)
    return {"text": drawn["text"], "blocks": drawn["blocks"]}


def classify(error: SlackApiError) -> RateLimited | TemporaryFailure | PermanentFailure:
    response = error.response
    status = response.status_code
    code = response.data.get("error") if isinstance(response.data, dict) else None
    if status == 429 or code == "ratelimited":
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        retry_after = headers.get("retry-after")
        value = retry_after[0] if isinstance(retry_after, list) else retry_after
        return RateLimited(code or "ratelimited", float(value or 1))
    if status >= 500:
        return TemporaryFailure(f"http {status}" + (f" {code}" if code else ""))
    if code in PERMANENT_ERRORS:
        return PermanentFailure(code)
    return TemporaryFailure(code or f"http {status}")
