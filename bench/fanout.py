"""Fan-out benchmark: prompts to many people through the outbox, against a fake Web API that enforces
Slack-like rate limits (1 message per second per channel, a workspace-wide limit per second).

Prints the total time against the bound the limits impose (people / workspace limit), and how many
messages were lost or duplicated.

    python bench/fanout.py [--people 500] [--per-second 50]      # full size: --people 5000 (about 100 s)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from slack_sdk import WebClient  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.db import make_engine, migrate, run_in_session  # noqa: E402
from bot.directory import current  # noqa: E402
from bot.outbox import DeliveryWorker, Destination, enqueue  # noqa: E402
from bot.plan import load_plan  # noqa: E402
from bot.replies import Notice  # noqa: E402
from bot.studies import apply_plan  # noqa: E402
from handlers.slack.notifier import SlackNotifier  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402


def plan_with(people: int) -> str:
    handles = [f"p{i:05d}" for i in range(people)]
    return yaml.safe_dump(
        {
            "study": {"id": "BENCH-1", "timezone": "UTC", "channel": "C0BENCH", "admins": [handles[0]]},
            "people": {h: {"name": f"Person {h}", "side": "cro", "slack": f"U{h.upper()}"} for h in handles},
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--per-second", type=float, default=50, help="the fake workspace-wide limit")
    args = parser.parse_args()

    fake = FakeSlack(per_channel_per_second=1, per_second=args.per_second).start()
    engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp(prefix='cadence-fanout-')) / 'cadence.db'}")
    migrate(engine)
    run_in_session(engine, apply_plan, plan=load_plan(plan_with(args.people)), actor="bench")
    clock = SystemClock()

    def enqueue_all(session) -> None:
        study = next(iter(current(session).studies.values()))
        for person in study.people.values():
            enqueue(
                session,
                key=f"prompt:BENCH-1:{person.handle}",
                to=Destination.person(person.id),
                notice=Notice("text", {"text": "What moved this week?"}),
                now=clock.now(),
                study_id=study.id,
            )

    run_in_session(engine, enqueue_all)
    client = WebClient(token="xoxb-test-token", base_url=fake.url, retry_handlers=[], timeout=30)
    worker = DeliveryWorker(engine, SlackNotifier(client), clock)

    started = time.monotonic()
    while True:
        report = worker.drain()
        if report.next_due is None:
            break
        time.sleep(max(0.0, (report.next_due - clock.now()).total_seconds()))
    elapsed = time.monotonic() - started
    fake.stop()

    counts = Counter(fake.posted_keys())
    wanted = {f"prompt:BENCH-1:p{i:05d}" for i in range(args.people)}
    lost = len(wanted - set(counts))
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    bound = args.people / args.per_second
    limits = f"1/s per channel, {args.per_second:g}/s workspace-wide"
    print(f"fan-out of {args.people} prompts, fake limits: {limits}")
    print(f"total {elapsed:.1f} s, bound {bound:.1f} s: ratio {elapsed / bound:.2f}x (target <= 1.1x)")
    print(f"lost {lost}, duplicated {duplicated}, answered 429 {fake.limited} times")


if __name__ == "__main__":
    main()
