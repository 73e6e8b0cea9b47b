"""A Notifier that sends nothing: it writes down what each person or channel would receive, when, in the
console's words on one line. `cadence simulate` replaces every chat with it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.directory import Contact
from bot.messages import Home, Message
from bot.replies import Posted
from handlers.console.render import render_message


@dataclass(frozen=True)
class Received:
    """One message as its recipient gets it."""

    at: datetime  # UTC
    local: datetime  # in the recipient's timezone (the study's for a channel)
    to: str  # "@handle" or "#channel"
    kind: str  # the message's kind (checkin_prompt, escalation_level, ...), "home", "file" or "reply"
    text: str  # one line
    key: str | None = None
    parts: tuple[Received, ...] = ()  # a digest's items, each as it would have come alone
    via: str = ""  # "e-mail" for a message Cadence sends a person by e-mail (else their chat)

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "local": self.local.isoformat(),
            "to": self.to,
            "kind": self.kind,
            "text": self.text,
        }
        if self.parts:
            shown["items"] = [part.kind for part in self.parts]
        if self.via:
            shown["via"] = self.via
        return shown

    def as_line(self) -> str:
        what = self.kind.replace("checkin", "check-in").replace("_", " ")
        to = f"{self.to} ({self.via})" if self.via else self.to
        return f"{self.local:%a %d %b %H:%M %Z}  {to:<12} {what:<24} {self.text}"


def one_line(text: str) -> str:
    """A message's lines joined by ' / ', its blank lines and indents dropped."""
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())


class RecordingNotifier:
    platform = "console"

    def __init__(self, clock: Clock, *, channel_zones: dict[str, str], default_zone: str):
        self.clock = clock
        self.channel_zones = channel_zones  # channel id -> the timezone of its study
        self.default_zone = default_zone
        self.received: list[Received] = []
        self._ids = itertools.count(1)

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        return self._channel(channel, message.kind, render_message(message, self._zone_of(channel)), key)

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        return self._channel(channel, message.kind, render_message(message, self._zone_of(channel)), key)

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        zone = ZoneInfo(person.timezone)
        to = f"@{person.handle}"
        parts = tuple(
            self._received(to, person.timezone, p.kind, render_message(p, zone), None) for p in message.parts
        )
        return self._person(person, message.kind, render_message(message, zone), key, parts)

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        self._channel(
            channel, f"{message.kind}_updated", render_message(message, self._zone_of(channel)), None
        )
        return Posted(channel, message_id)

    def _zone_of(self, channel: str) -> ZoneInfo:
        return ZoneInfo(self.channel_zones.get(channel, self.default_zone))

    def publish_view(self, person: Contact, home: Home) -> None:
        self._person(person, "home", render_message(home, ZoneInfo(person.timezone)), None)

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
        text = f"{title}: {filename} ({len(content):,} bytes)"
        if person is not None:
            return self._person(person, "file", text, key)
        return self._channel(channel or "", "file", text, key)

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        seen = next((r for r in self.received if r.key == key), None)
        return Posted(seen.to, key) if seen else None

    def by_email(self) -> EmailRecorder:
        """The same record, for what the delivery worker sends by e-mail: written down as e-mail."""
        return EmailRecorder(self)

    def reply(self, handle: str, timezone: str, text: str) -> None:
        """What a command answered its typist."""
        self._record(f"@{handle}", timezone, "reply", text, None)

    def _person(
        self, person: Contact, kind: str, text: str, key: str | None, parts: tuple[Received, ...] = ()
    ) -> Posted:
        self._record(f"@{person.handle}", person.timezone, kind, text, key, parts)
        return Posted(f"dm:{person.handle}", str(next(self._ids)))

    def _channel(self, channel: str, kind: str, text: str, key: str | None) -> Posted:
        self._record(f"#{channel}", str(self._zone_of(channel)), kind, text, key)
        return Posted(channel, str(next(self._ids)))

    def _record(
        self, to: str, zone: str, kind: str, text: str, key: str | None, parts: tuple[Received, ...] = ()
    ) -> None:
        self.received.append(self._received(to, zone, kind, text, key, parts))

    def _received(
        self,
        to: str,
        zone: str,
        kind: str,
        text: str,
        key: str | None,
        parts: tuple[Received, ...] = (),
        via: str = "",
    ) -> Received:
        at = self.clock.now().astimezone(UTC)
        return Received(at, at.astimezone(ZoneInfo(zone)), to, kind, one_line(text), key, parts, via)


class EmailRecorder:
    """The e-mail sender of a simulation: a person's messages written down as `@carla (e-mail)`."""

    platform = "email"

    def __init__(self, recorder: RecordingNotifier):
        self.recorder = recorder

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        zone = ZoneInfo(person.timezone)
        to = f"@{person.handle}"
        parts = tuple(
            self.recorder._received(to, person.timezone, p.kind, render_message(p, zone), None, via="e-mail")
            for p in message.parts
        )
        text = render_message(message, zone)
        self.recorder.received.append(
            self.recorder._received(to, person.timezone, message.kind, text, key, parts, via="e-mail")
        )
        return Posted(f"mail:{person.handle}", str(next(self.recorder._ids)))

    def send_email(
        self, to: Contact | str, message: Message, *, key: str, study_id, attachments=()
    ) -> Posted:
        """An e-mail with attachments (written down as the message), or to an address `report_to:` lists."""
        if isinstance(to, Contact):
            return self.direct_message(to, message, key=key)
        zone = self.recorder.default_zone
        text = render_message(message, ZoneInfo(zone))
        self.recorder.received.append(
            self.recorder._received(to, zone, message.kind, text, key, via="e-mail")
        )
        return Posted(f"mail:{to}", str(next(self.recorder._ids)))

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        handle = channel.removeprefix("mail:")
        zone = self.recorder.default_zone
        text = render_message(message, ZoneInfo(zone))
        self.recorder.received.append(
            self.recorder._received(f"@{handle}", zone, message.kind, text, key, via="e-mail")
        )
        return Posted(channel, str(next(self.recorder._ids)))

    def upload_file(
        self, *, person: Contact | None, filename: str, content: bytes, title: str, **_
    ) -> Posted:
        assert person is not None
        text = f"{title}: {filename} ({len(content):,} bytes)"
        self.recorder.received.append(
            self.recorder._received(f"@{person.handle}", person.timezone, "file", text, None, via="e-mail")
        )
        return Posted(f"mail:{person.handle}", str(next(self.recorder._ids)))

    def find_posted(self, channel: str | None, person: Contact | None, *, key: str, since: float) -> None:
        return None

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        return self.recorder.post_to_channel(channel, message, key=key)

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        return Posted(channel, message_id)  # a sent e-mail cannot change

    def publish_view(self, person: Contact, home: Home) -> None:
        return None
