"""What the core sends, and the Notifier port every chat adapter implements.

The core never calls a chat API: flows write outbox rows (bot.outbox) holding a platform-neutral
Notice; the delivery worker hands each to the adapter's Notifier, which renders and sends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.directory import Contact
from bot.messages import Home, Message


@dataclass(frozen=True)
class Notice:
    """A message in the core's terms: a kind that each adapter knows how to render, and its data."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Posted:
    """Where a message landed: the platform's channel and message id (Slack's `ts`)."""

    channel: str
    message_id: str


@dataclass(frozen=True)
class Attachment:
    """What an e-mail carries beside its text: a file, or an image its HTML shows (`inline`)."""

    filename: str
    content_type: str  # e.g. image/png, text/calendar; method=PUBLISH
    content: bytes
    title: str = ""
    inline: bool = False


class DeliveryError(Exception):
    """A send that did not go through; `reason` is the platform's word for it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RateLimited(DeliveryError):
    """The platform asked us to wait `retry_after` seconds before sending to this place again."""

    def __init__(self, reason: str, retry_after: float):
        super().__init__(reason)
        self.retry_after = retry_after


class TemporaryFailure(DeliveryError):
    """A server error or a broken connection: worth trying again later."""


class PermanentFailure(DeliveryError):
    """Trying again cannot help (the channel is gone, the person left): record it and tell the admins."""


class Notifier(Protocol):
    """The port: post, reply in a thread, DM, update, publish the App Home and share a file; each takes a
    message already laid out in the core's model (bot.messages), for the adapter to draw its way."""

    platform: str

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted: ...

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted: ...

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted: ...

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted: ...

    def publish_view(self, person: Contact, home: Home) -> None: ...

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
    ) -> Posted: ...

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        """The message sent with `key` since `since` (epoch seconds), if an earlier attempt did land."""
        ...


class Mailer(Notifier, Protocol):
    """The e-mail sender: a Notifier that also writes to a plain address (`report_to:`) and carries
    attachments (the report's chart inline, the minutes' .ics)."""

    def send_email(
        self,
        to: Contact | str,
        message: Message,
        *,
        key: str,
        study_id: int | None,
        attachments: tuple[Attachment, ...] = (),
    ) -> Posted: ...
