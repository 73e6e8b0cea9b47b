"""Tick-at-scale benchmark: N copies of the example plan (distinct ids, channels and people) in a
throwaway SQLite database, then the cost of each due-work step of the live tick (bot.due, in its
order) and of finding the next due moment, on an idle tick and on a tick with work due (the Monday
09:00 check-in of every study), with the process's peak memory; then the memory of `cadence serve` on
that database (against a fake Slack) once it has started and ticked. Its last line is
`idle tick at N studies: X ms`.

    python bench/tick_scale.py [--studies 1000]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import directory, due  # noqa: E402
from bot.config import EXAMPLE_PLAN  # noqa: E402
from bot.db import make_engine, migrate, run_in_session  # noqa: E402
from bot.plan import load_plan  # noqa: E402
from bot.studies import apply_plan  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.payloads import BOT_TOKEN  # noqa: E402

IDLE = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # a Wednesday evening: nothing of the example plan due
BUSY = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 in Warsaw: check-ins (and the pulse) open
TARGETS = {300: 300.0, 1000: 1000.0}  # idle tick, ms


def copy_of_example(number: int) -> str:
    """The example plan as study number `number`: its own id, channel, Slack ids and e-mail addresses."""
    text = EXAMPLE_PLAN.read_text()
    text = text.replace("id: ACME-201", f"id: STUDY-{number:05d}").replace("C0STUDY", f"C{number:06d}")
    text = re.sub(r"slack: U0([0-9])(\w+)", lambda m: f"slack: U{number:05d}{m[1]}{m[2]}", text)
    return re.sub(r"email: (\w+)@", lambda m: f"email: {m[1]}.{number}@", text)


def timed(engine, run, now: datetime) -> tuple[float, int]:
    started = time.perf_counter()
    result = run_in_session(engine, run, now=now)
    return (time.perf_counter() - started) * 1000, result if isinstance(result, int) else 0


def one_tick(engine, now: datetime, label: str) -> float:
    """Each step once, as jobs.tick runs them (a session each), then the next due moment; the total."""
    total = 0.0
    print(f"\n{label} tick at {now:%a %Y-%m-%d %H:%M} UTC")
    for work in due.registered():
        ms, queued = timed(engine, work.run, now)
        total += ms
        print(f"  {work.name:40s} {ms:9.1f} ms  {queued:6d} queued")
    ms, _ = timed(engine, due.next_moment, now)
    total += ms
    print(f"  {'due.next_moment':40s} {ms:9.1f} ms")
    print(f"  {'whole tick':40s} {total:9.1f} ms")
    return total


def serve_memory(database_url: str, seconds: float = 15.0) -> tuple[float, float]:
    """`cadence serve` on the database: its resident and peak memory (MB) once up and a while ticking."""
    from bench.loadgen import free_port

    fake = FakeSlack().start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CADENCE_", "DATABASE_URL"))}
    env |= {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "bench", "SLACK_API_URL": fake.url}
    env |= {"DATABASE_URL": database_url, "PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(seconds)  # the first tick, and the delivery of what the bench left queued
        if server.poll() is not None:
            raise SystemExit(f"cadence serve exited: {server.stderr.read()[-2000:] if server.stderr else ''}")
        status = dict(
            line.split(":", 1)
            for line in open(f"/proc/{server.pid}/status").read().splitlines()
            if ":" in line
        )
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024
    finally:
        server.terminate()
        server.wait(timeout=30)
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cadence-tick-"))
    engine = make_engine(f"sqlite:///{folder / 'cadence.db'}")
    migrate(engine)
    started = time.perf_counter()
    for number in range(args.studies):
        run_in_session(engine, apply_plan, plan=load_plan(copy_of_example(number)), actor="bench")
    studies = run_in_session(engine, lambda session: list(directory.current(session).studies.values()))
    people = sum(len(study.people) for study in studies)
    print(f"{args.studies} studies ({people} people) applied in {time.perf_counter() - started:.1f} s")
    one_tick(engine, IDLE, "first (homes published, rows made)")
    idle = min(one_tick(engine, IDLE, "idle") for _ in range(2))
    busy = one_tick(engine, BUSY, "busy")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\npeak memory of this benchmark {peak:.0f} MB; the busy tick took {busy / idle:.0f}x the idle one"
    )
    resident, high = serve_memory(f"sqlite:///{folder / 'cadence.db'}")
    print(f"cadence serve on {args.studies} studies: {resident:.0f} MB resident, {high:.0f} MB at most")
    target = next((ms for n, ms in sorted(TARGETS.items()) if args.studies <= n), None)
    if target:
        print(f"target at {args.studies} studies: under {target:.0f} ms ({idle / target:.2f} of it)")
    print(f"idle tick at {args.studies} studies: {idle:.0f} ms")


if __name__ == "__main__":
    main()
