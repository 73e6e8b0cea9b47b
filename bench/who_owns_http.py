"""Load benchmark of `/who-owns` over HTTP at concurrency 16, beside two bare Bolt apps and the ceiling of
the serving stack (a raw ASGI app on the same uvicorn that only checks the signature) in the same run.

Each server gets the same slash command, each time with a trigger id of its own and signed for it, as
Slack sends them (Cadence answers the same signed bytes only once), by an asyncio client. Prints requests/s,
p50 and p99 of each, Cadence's ratios to them, and then where one request's time goes, measured in
process: Bolt's own dispatch, Cadence's checks and middleware, the worker-thread hop, the lookup and the
rendering.

    python bench/who_owns_http.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
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
    parser.add_argument("--profile-only", action="store_true", help="only where one request's time goes")
    args = parser.parse_args()
    if args.profile_only:
        fake = FakeSlack().start()
        asyncio.run(profile(fake.url, Path(tempfile.mkdtemp(prefix="cadence-bench-")), 400))
        fake.stop()
        return

    fake = FakeSlack().start()
    workdir = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CADENCE_", "DATABASE_URL"))
    }
    cadence_port, async_port, dev_port, raw_port = free_port(), free_port(), free_port(), free_port()
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
        measure(
            "raw ASGI on uvicorn: the signature checked, a fixed JSON body (no Bolt)",
            [python, "bench/bare_bolt.py", "raw", str(raw_port), fake.url],
            base_env,
            raw_port,
            signed_request(raw_port),
            lambda answer: "ok" in answer,
            args,
        ),
    ]
    print_results(results)
    ours, fastest, dev, ceiling = results
    to_fastest = ours.requests_per_second / fastest.requests_per_second
    to_dev = ours.requests_per_second / dev.requests_per_second
    print(f"throughput ratio to bare AsyncApp + uvicorn: {to_fastest:.2f}x (target >= 1.3x)")
    print(f"throughput ratio to Bolt's dev server:       {to_dev:.2f}x")
    print(f"the stack's ceiling is {ceiling.requests_per_second / ours.requests_per_second:.1f}x Cadence")
    print(f"p99 of Cadence: {ours.p99_ms:.1f} ms (target < 20 ms)")
    slowest, right = first_after_start([python, "-m", "bot", "serve", "--host", "127.0.0.1"], cadence_env, 32)
    print(
        f"the first 32 concurrent /who-owns after a start: {right} of 32 answered, "
        f"the slowest in {slowest:.0f} ms (target < 250 ms)"
    )
    asyncio.run(profile(fake.url, workdir, 400))
    fake.stop()


def first_after_start(command: list[str], env: dict[str, str], count: int) -> tuple[float, int]:
    """A fresh `cadence serve`, and `count` requests at once the moment it listens: the slowest (ms), and
    how many answered who owns SAE."""
    import subprocess

    import aiohttp

    from bench.loadgen import headers_for, wait_until_up

    port = free_port()
    process = subprocess.Popen(
        command, env=env | {"PORT": str(port)}, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(port, process)
        request = signed_request(port)
        url, body, _ = request

        async def one(session: aiohttp.ClientSession, number: int) -> tuple[float, bool]:
            numbered = body.replace(UNIQUE, f"first-{number}")
            started = time.perf_counter()
            async with session.post(url, data=numbered, headers=headers_for(request, numbered)) as response:
                text = await response.text()
            return (time.perf_counter() - started) * 1000, "owned by" in text

        async def all_at_once() -> list[tuple[float, bool]]:
            async with aiohttp.ClientSession() as session:
                return await asyncio.gather(*(one(session, n) for n in range(count)))

        answers = asyncio.run(all_at_once())
        return max(ms for ms, _ in answers), sum(ok for _, ok in answers)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def profile(api_url: str, workdir: Path, count: int) -> None:
    """Where one `/who-owns SAE` request's time goes, in this process: each part timed on its own (the
    median of `count`), and what is left of the whole dispatch once they are taken out."""
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.commands import Invocation
    from bot.config import EXAMPLE_PLAN, Settings
    from bot.db import make_engine, migrate, run_in_session
    from bot.outbox import run_then_wake
    from bot.plan import load_plan_file
    from bot.studies import apply_plan
    from handlers.slack import blocks
    from handlers.slack.app import build_app
    from handlers.slack.commands import _run_typed
    from handlers.slack.verify import signed_by_slack, well_formed

    engine = make_engine(f"sqlite:///{workdir / 'profile.db'}")
    migrate(engine)
    run_in_session(engine, apply_plan, plan=load_plan_file(EXAMPLE_PLAN), actor="bench")
    settings = Settings(slack_bot_token="xoxb-test-token", slack_signing_secret=SECRET, slack_api_url=api_url)
    cadence = build_app(settings, engine)
    bare = AsyncApp(  # as Cadence's is set up: the listener done before the response, no ack polling
        client=AsyncWebClient(token="xoxb-test-token", base_url=api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bare.command("/who-owns")
    async def ack_only(ack):
        await ack("ok")

    _, body, signed = signed_request(0)
    numbers = iter(range(10**9))

    def request() -> tuple[str, dict[str, str]]:
        numbered = body.replace(UNIQUE, str(next(numbers)))
        return numbered, {k.lower(): v for k, v in signed(numbered).items()}

    invocation = Invocation(platform="slack", user_id="U01BEN", channel_id="C0STUDY")
    lookup = {"name": "/who-owns", "text": "SAE", "invocation": invocation}

    async def whole(app) -> None:
        text, headers = request()
        await app.async_dispatch(AsyncBoltRequest(body=text, headers=headers))

    async def checks() -> None:
        text, headers = request()
        signed_by_slack(text.encode(), headers, SECRET) and well_formed(text.encode())

    async def hop() -> None:
        await asyncio.to_thread(lambda: None)

    async def core() -> None:
        run_then_wake(engine, lambda: None, _run_typed, None, **lookup)

    found = run_then_wake(engine, lambda: None, _run_typed, None, **lookup)

    async def rendering() -> None:
        blocks.reply(found)

    async def median_us(step, *args) -> float:
        for _ in range(count // 4):  # warm up
            await step(*args)
        times = []
        for _ in range(count):
            started = time.perf_counter()
            await step(*args)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1e6

    total, bolt = await median_us(whole, cadence), await median_us(whole, bare)
    parts = {
        "Bolt's own dispatch (a bare AsyncApp acking)": bolt,
        "Cadence's checks before Bolt (signature, shape)": await median_us(checks),
        "the worker-thread hop": await median_us(hop),
        "the lookup (a session, run_command, commit)": await median_us(core),
        "the rendering (Block Kit)": await median_us(rendering),
    }
    print(f"\nwhere one /who-owns request's time goes (in process, median of {count}):")
    for name, us in parts.items():
        print(f"  {name:52s} {us:8.0f} µs  {us / total:5.0%}")
    rest = total - sum(parts.values()) + parts["Cadence's checks before Bolt (signature, shape)"]
    print(f"  {'Cadence middleware and the rest of its dispatch':52s} {rest:8.0f} µs  {rest / total:5.0%}")
    print(f"  {'Cadence dispatch, whole (checks aside)':52s} {total:8.0f} µs")


if __name__ == "__main__":
    main()
