"""A real SMTP server on loopback (aiosmtpd) for the e-mail tests: it keeps what it is sent, and answers as
a test tells it (a 4xx, a 5xx, or taking a message and never answering)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """aiosmtpd's handler: each DATA kept (as parsed), unless `answer` gives another reply first."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.tries = 0
        self.answer: Callable[[int], str | None] = lambda attempt: None  # attempt number -> SMTP reply
        self.hang_after_keeping: threading.Event | None = None  # set: keep, then wait for it to be set
        self.kept = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.tries += 1
        reply = self.answer(self.tries)
        if reply:
            return reply
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.kept.set()
        if self.hang_after_keeping is not None:  # the message is ours; the sender never hears so
            await asyncio.get_running_loop().run_in_executor(None, self.hang_after_keeping.wait, 30)
        return "250 2.0.0 Ok: queued"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if address in str(m["To"])]


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.mailbox.hang_after_keeping is not None:
            self.mailbox.hang_after_keeping.set()
        self.controller.stop()
