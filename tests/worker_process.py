"""A delivery worker in a process of its own, for the crash test: `python -m tests.worker_process DB API NOW`."""

from __future__ import annotations

import sys
from datetime import datetime

from slack_sdk import WebClient

from bot.clock import ManualClock
from bot.db import make_engine
from bot.outbox import DeliveryWorker
from handlers.slack.notifier import SlackNotifier
from tests.payloads import BOT_TOKEN

if __name__ == "__main__":
    database_url, api_url, now = sys.argv[1:4]
    client = WebClient(token=BOT_TOKEN, base_url=api_url, retry_handlers=[], timeout=120)
    DeliveryWorker(
        make_engine(database_url), SlackNotifier(client), ManualClock(datetime.fromisoformat(now))
    ).drain()
