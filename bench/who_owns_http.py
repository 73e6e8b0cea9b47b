"""Load benchmark of `/who-owns` over HTTP at concurrency 16, beside two bare Bolt apps in the same run.

Each server gets the same correctly signed slash command (a signature stays valid for five minutes),
replayed by wrk (Debian's `wrk`) or, where wrk is missing, by an asyncio client. Prints requests/s,
p50 and p99 of each, and Cadence's ratios to the baselines.

    python bench/who_owns_http.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fake_slack import FakeSlack  # noqa: E402
from tests.payloads import sign, slash_command  # noqa: E402

SECRET = "bench-signing-secret"


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"server on port {port} exited: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def signed_request(port: int) -> tuple[str, str, dict[str, str]]:
    body = urlencode(slash_command("/who-owns", "SAE", user_id="U01BEN"))
    headers = sign(body, secret=SECRET) | {"Content-Type": "application/x-www-form-urlencoded"}
    return f"http://127.0.0.1:{port}/slack/events", body, headers


def check_answer(port: int, expected: str) -> None:
    url, body, headers = signed_request(port)
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    if expected not in text:
        raise SystemExit(f"unexpected answer on port {port}: {text[:300]}")


def load_with_wrk(port: int, seconds: int, connections: int) -> Result:
    url, body, headers = signed_request(port)
    lua = "wrk.method = 'POST'\n" + f"wrk.body = [[{body}]]\n"
    lua += "".join(f"wrk.headers['{k}'] = '{v}'\n" for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(script.name)
    out = done.stdout

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total_errors = int(errors.group(1)) if errors else 0
    total_errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return Result("", rps, latency("50"), latency("99"), total_errors)


def load_with_asyncio(port: int, seconds: int, connections: int) -> Result:
    import aiohttp

    url, body, headers = signed_request(port)
    latencies: list[float] = []
    errors = 0

    async def worker(session: aiohttp.ClientSession, stop_at: float) -> None:
        nonlocal errors
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                errors += response.status != 200
            latencies.append((time.perf_counter() - started) * 1000)

    async def main() -> float:
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            await asyncio.gather(*(worker(session, started + seconds) for _ in range(connections)))
            return time.monotonic() - started

    elapsed = asyncio.run(main())
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return Result("", len(latencies) / elapsed, statistics.median(latencies), p99, errors)


def measure(name: str, command: list[str], env: dict[str, str], port: int, expected: str, args) -> Result:
    # The server's log goes to a file: a pipe nobody reads would fill up and stall the server.
    log = tempfile.NamedTemporaryFile("w+", prefix="cadence-bench-", suffix=".log", delete=False)
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_up(port, process)
        check_answer(port, expected)
        load = load_with_wrk if shutil.which("wrk") else load_with_asyncio
        load(port, 2, args.connections)  # warm up
        result = load(port, args.seconds, args.connections)
        result.name = name
        return result
    finally:
        process.terminate()
        process.wait(timeout=10)


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
    tool = "wrk" if shutil.which("wrk") else "an asyncio client (install wrk for steadier figures)"
    print(f"/who-owns over HTTP, {args.connections} connections, {args.seconds}s each, load from {tool}")
    results = [
        measure(
            "Cadence /who-owns SAE (AsyncApp + uvicorn, SQLite)",
            [python, "-m", "bot", "serve", "--host", "127.0.0.1"],
            cadence_env,
            cadence_port,
            "owned by",
            args,
        ),
        measure(
            "bare AsyncApp + uvicorn (ack only)",
            [python, "bench/bare_bolt.py", "async", str(async_port), fake.url],
            base_env,
            async_port,
            "ok",
            args,
        ),
        measure(
            "bare App on Bolt's dev server (ack only)",
            [python, "bench/bare_bolt.py", "dev", str(dev_port), fake.url],
            base_env,
            dev_port,
            "ok",
            args,
        ),
    ]
    fake.stop()
    print(f"{'server':<55}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for r in results:
        print(f"{r.name:<55}{r.requests_per_second:>10.0f}{r.p50_ms:>10.1f}{r.p99_ms:>10.1f}{r.errors:>8}")
    ours, fastest, dev = results
    to_fastest = ours.requests_per_second / fastest.requests_per_second
    to_dev = ours.requests_per_second / dev.requests_per_second
    print(f"throughput ratio to bare AsyncApp + uvicorn: {to_fastest:.2f}x (target >= 0.8x)")
    print(f"throughput ratio to Bolt's dev server:       {to_dev:.2f}x")
    print(f"p99 of Cadence: {ours.p99_ms:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
