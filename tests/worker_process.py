"""A delivery worker in a process of its own, for the crash test: `python -m tests.worker_process DB API NOW`."""

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


def start(database_url: str, api_url: str, now: datetime) -> subprocess.Popen:
    """This worker in a process of its own, its clock at `now`, sending to the Web API at `api_url`."""
    from tests.conftest import child_pythonpath

    command = [sys.executable, "-m", "tests.worker_process", database_url, api_url, now.isoformat()]
    repo = Path(__file__).resolve().parent.parent
    return subprocess.Popen(command, cwd=repo, env=os.environ | {"PYTHONPATH": child_pythonpath()})


if __name__ == "__main__":
    database_url, api_url, now = sys.argv[1:4]
    client = WebClient(token=BOT_TOKEN, base_url=api_url, retry_handlers=[], timeout=120)
    DeliveryWorker(
        make_engine(database_url), SlackNotifier(client), ManualClock(datetime.fromisoformat(now))
    ).drain()
