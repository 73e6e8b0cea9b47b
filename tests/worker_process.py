"""A delivery worker in a process of its own, for the crash tests:
`python -m tests.worker_process DB API NOW [SMTP_URL]` (with SMTP_URL, e-mail goes there)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from slack_sdk import WebClient

from bot.clock import ManualClock
from bot.db import make_engine
from bot.outbox import DeliveryWorker
from handlers.slack.notifier import SlackNotifier
from tests.payloads import BOT_TOKEN

MAIL_FROM = "Cadence <cadence@acme.example>"
PUBLIC_URL = "https://cadence.example"


def start(database_url: str, api_url: str, now: datetime, smtp_url: str | None = None) -> subprocess.Popen:
    """This worker in a process of its own, its clock at `now`, sending to the Web API at `api_url` (and
    e-mail to `smtp_url`)."""
    from tests.conftest import child_pythonpath

    command = [sys.executable, "-m", "tests.worker_process", database_url, api_url, now.isoformat()]
    command += [smtp_url] if smtp_url else []
    repo = Path(__file__).resolve().parent.parent
    return subprocess.Popen(command, cwd=repo, env=os.environ | {"PYTHONPATH": child_pythonpath()})


if __name__ == "__main__":
    from handlers.email.notifier import email_notifier

    database_url, api_url, now = sys.argv[1:4]
    client = WebClient(token=BOT_TOKEN, base_url=api_url, retry_handlers=[], timeout=120)
    engine, clock = make_engine(database_url), ManualClock(datetime.fromisoformat(now))
    mailer = (
        email_notifier(engine, clock, smtp_url=sys.argv[4], mail_from=MAIL_FROM, public_url=PUBLIC_URL)
        if len(sys.argv) > 4
        else None
    )
    DeliveryWorker(engine, SlackNotifier(client), clock, mailer=mailer).drain()
