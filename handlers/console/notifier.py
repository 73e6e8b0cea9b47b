"""The Notifier port in the terminal: what would reach Slack is printed where the console user sees it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import messages as m
from bot.directory import Contact
from bot.messages import Home, Message
from bot.replies import Posted
from handlers.console.output import write
from handlers.console.render import UTC_ZONE, blocks, render_message


@dataclass
class Shown:
    where: str
    text: str
    key: str | None
    message_id: str


class ConsoleNotifier:
    platform = "console"

    def __init__(self, show: Callable[[str], None] = write, files: Path | None = None):
        self.show = show
        self.files = files or Path.cwd() / "cadence-files"  # where shared files (charts, exports) are written
        self.log: list[Shown] = []
        self.reader: Callable[[], ZoneInfo] = lambda: UTC_ZONE  # whoever types: channels show their time
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._last_blocks: tuple[m.Block, ...] = ()

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        return self._print(f"#{channel}", message, key, channel=channel)

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        return self._print(f"#{channel} (thread {thread})", message, key, channel=channel)

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        return self._print(
            f"DM to @{person.handle}",
            message,
            key,
            channel=f"dm:{person.handle}",
            zone=ZoneInfo(person.timezone),
        )

    def by_email(self) -> ConsoleEmail:
        """What the delivery worker sends by e-mail, printed as e-mail to the person."""
        return ConsoleEmail(self)

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        self._print(f"#{channel} (updated message {message_id})", message, None, channel=channel)
        return Posted(channel, message_id)

    def publish_view(self, person: Contact, home: Home) -> None:
        # The terminal has no Home tab to keep current: /cadence home shows it on request.
        with self._lock:
            self.log.append(
                Shown(
                    f"Home of @{person.handle}",
                    render_message(home, ZoneInfo(person.timezone)),
                    None,
                    str(next(self._ids)),
                )
            )

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
        """The console writes the file where it can be opened and prints its path."""
        self.files.mkdir(parents=True, exist_ok=True)
        path = self.files / filename
        path.write_bytes(content)
        where = f"DM to @{person.handle}" if person else f"#{channel}"
        with self._lock:
            message_id = str(next(self._ids))
            self.log.append(Shown(where, str(path), key, message_id))
        self.show(f"[{where}] {title}: {path}")
        return Posted(channel or where, message_id)

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        with self._lock:
            shown = next((s for s in self.log if s.key == key), None)
        return Posted(shown.where, shown.message_id) if shown else None

    def _print(
        self,
        where: str,
        message: Message,
        key: str | None,
        channel: str | None = None,
        zone: ZoneInfo | None = None,
    ) -> Posted:
        zone = zone or self.reader()
        text = render_message(message, zone)
        with self._lock:
            message_id = str(next(self._ids))
            self.log.append(Shown(where, text, key, message_id))
            shown = self._without_repeats(message, zone) or text
        self.show(f"[{where}] {shown}")
        return Posted(channel or where, message_id)

    def _without_repeats(self, message: Message, zone: ZoneInfo) -> str | None:
        """The message as printed when it repeats the card printed just before it (the escalation card in
        the channel, then in each level person's DM): its own lines, and a pointer to the card above."""
        first, *rest = message.blocks or (None,)
        repeated = [b for b in rest if b in self._last_blocks]
        self._last_blocks = message.blocks
        if len(repeated) < 2:
            return None
        own = tuple(b for b in message.blocks if b is first or b not in repeated)
        return f"{blocks(own, zone)}\n  (with the card shown above)"


class ConsoleEmail:
    """The console's e-mail: a person's message printed as `[e-mail to @carla]` (the terminal sends none)."""

    platform = "email"

    def __init__(self, console: ConsoleNotifier):
        self.console = console

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        where = f"e-mail to @{person.handle}"
        return self.console._print(
            where, message, key, channel=f"mail:{person.handle}", zone=ZoneInfo(person.timezone)
        )

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        return self.console._print(
            f"e-mail to @{channel.removeprefix('mail:')}", message, key, channel=channel
        )

    def send_email(
        self, to: Contact | str, message: Message, *, key: str, study_id, attachments=()
    ) -> Posted:
        """An e-mail with attachments, or to an address `report_to:` lists: printed, with what it carries."""
        if isinstance(to, Contact):
            posted = self.direct_message(to, message, key=key)
        else:
            posted = self.console._print(f"e-mail to {to}", message, key, channel=f"mail:{to}")
        for attachment in attachments:
            self.console.upload_file(
                channel=posted.channel,
                person=None,
                thread=None,
                filename=attachment.filename,
                content=attachment.content,
                title=attachment.title or attachment.filename,
                key=f"{key}:{attachment.filename}",
            )
        return posted

    def upload_file(self, *, person: Contact | None, **kwargs) -> Posted:
        return self.console.upload_file(person=person, **kwargs)

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        return self.console.find_posted(channel, person, key=key, since=since)

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        return self.console.post_to_channel(channel, message, key=key)

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        return Posted(channel, message_id)  # a sent e-mail cannot change

    def publish_view(self, person: Contact, home: Home) -> None:
        return None
