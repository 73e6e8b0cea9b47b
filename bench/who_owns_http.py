"""Load benchmark of `/who-owns` over HTTP at concurrency 16, beside two bare Bolt apps in the same run.

Each server gets the same slash command, each time with a trigger id of its own and signed for it, as
Slack sends them (Cadence answers the same signed bytes only once), by an asyncio client. Prints requests/s,
p50 and p99 of each, and Cadence's ratios to the baselines.

    python bench/who_owns_http.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.loadgen import UNIQUE, Request, free_port, measure, print_results  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.payloads import sign, slash_command  # noqa: E402

SECRET = "bench-signing-secret"


def signed_request(port: int) -> Request:
    body = urlencode(slash_command("/who-owns", "SAE", user_id="U01BEN") | {"trigger_id": UNIQUE})
    body = body.replace(urlencode({"": UNIQUE})[1:], UNIQUE)  # the marker survives url-encoding

    def signed(numbered: str) -> dict[str, str]:
        return sign(numbered, secret=SECRET) | {"Content-Type": "application/x-www-form-urlencoded"}

    return f"http://127.0.0.1:{port}/slack/events", body, signed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    fake = FakeSlack().start()
    workdir = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CADENCE_", "DATABASE_URL"))
    }
    cadence_port, async_port, dev_port = free_port(), free_port(), free_port()
    cadence_env = base_env | {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'cadence.db'}",
        "CADENCE_PLAN": str(REPO / "examples" / "plan.yaml"),
        "PORT": str(cadence_port),
    }
    python = sys.executable
    print(f"/who-owns over HTTP, {args.connections} connections, {args.seconds}s each, load from asyncio")
    results = [
        measure(
            "Cadence /who-owns SAE (AsyncApp + uvicorn, SQLite)",
            [python, "-m", "bot", "serve", "--host", "127.0.0.1"],
            cadence_env,
            cadence_port,
            signed_request(cadence_port),
            lambda answer: "owned by" in answer,
            args,
        ),
        measure(
            "bare AsyncApp + uvicorn (ack only)",
            [python, "bench/bare_bolt.py", "async", str(async_port), fake.url],
            base_env,
            async_port,
            signed_request(async_port),
            lambda answer: "ok" in answer,
            args,
        ),
        measure(
            "bare App on Bolt's dev server (ack only)",
            [python, "bench/bare_bolt.py", "dev", str(dev_port), fake.url],
            base_env,
            dev_port,
            signed_request(dev_port),
            lambda answer: "ok" in answer,
            args,
        ),
    ]
    fake.stop()
    print_results(results)
    ours, fastest, dev = results
    to_fastest = ours.requests_per_second / fastest.requests_per_second
    to_dev = ours.requests_per_second / dev.requests_per_second
    print(f"throughput ratio to bare AsyncApp + uvicorn: {to_fastest:.2f}x (target >= 0.8x)")
    print(f"throughput ratio to Bolt's dev server:       {to_dev:.2f}x")
    print(f"p99 of Cadence: {ours.p99_ms:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
