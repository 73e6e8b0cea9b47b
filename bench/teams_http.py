"""Load benchmark of Teams: `who-owns SAE` as a Bot Framework activity to /api/messages at concurrency
16, against a bare Teams SDK app that replies "ok", in the same run.

Both validate the activity's Bot Framework token (RS256, keys from a fake OpenID endpoint) and send
their reply to a fake Bot Connector before answering the HTTP request, as the SDK does. Prints
requests/s, p50 and p99 of each and Cadence's ratio to the bare app.

    python bench/teams_http.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.loadgen import UNIQUE, Request, Result, free_port, measure, print_results, tool_name  # noqa: E402
from bench.teams_servers import BOT_ID  # noqa: E402
from tests.fake_teams import FakeTeams  # noqa: E402


def activity_request(port: int, fake: FakeTeams) -> Request:
    activity = {
        "type": "message", "id": "bench-" + UNIQUE, "channelId": "msteams", "serviceUrl": fake.url,
        "text": "who-owns SAE",
        "from": {"id": "29:aad-ben", "aadObjectId": "aad-ben", "name": "Ben Okafor"},
        "recipient": {"id": f"28:{BOT_ID}", "name": "Cadence"},
        "conversation": {"id": "a:chat-ben", "conversationType": "personal", "tenantId": "tenant-acme"},
        "channelData": {"tenant": {"id": "tenant-acme"}},
    }  # fmt: skip
    token = fake.activity_token(audience=BOT_ID, exp=int(time.time()) + 3600)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return f"http://127.0.0.1:{port}/api/messages", json.dumps(activity), headers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    fake = FakeTeams(require_auth=False).start()
    workdir = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEAMS_", "CLIENT_", "TENANT_"))}
    cadence_port, bare_port = free_port(), free_port()
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'cadence.db'}"
    python, servers = sys.executable, str(REPO / "bench" / "teams_servers.py")
    each = f"{args.connections} connections, {args.seconds}s each"
    print(f"Teams activities over HTTP, {each}, load from {tool_name()}")

    def replied(containing: str):
        def check(_answer: str) -> bool:
            return any(containing in json.dumps(s.activity, ensure_ascii=False) for s in fake.sent[-3:])

        return check

    def replying(name: str, *command_and_more) -> Result:
        """Measure, and count the replies that reached the Bot Connector (one a request, warm-up too)."""
        before = len(fake.sent)
        result = measure(name, *command_and_more)
        replies = len(fake.sent) - before
        print(f"{name}: {replies} replies to {result.requests} measured requests (and the check and warm-up)")
        return result

    results = [
        replying(
            "Cadence who-owns SAE (Teams SDK + uvicorn, SQLite)",
            [python, servers, "cadence", str(cadence_port), fake.openid_url, database],
            env, cadence_port, activity_request(cadence_port, fake), replied("Safety reporting"), args,
        ),
        replying(
            "bare Teams SDK app, reply 'ok' (its FastAPI server)",
            [python, servers, "bare", str(bare_port), fake.openid_url],
            env, bare_port, activity_request(bare_port, fake), replied('"ok"'), args,
        ),
    ]  # fmt: skip
    fake.stop()
    print_results(results)
    ours, bare = results
    ratio = ours.requests_per_second / bare.requests_per_second
    print(f"throughput ratio to the bare Teams SDK app: {ratio:.2f}x")
    print(f"p99 of Cadence: {ours.p99_ms:.1f} ms")


if __name__ == "__main__":
    main()
