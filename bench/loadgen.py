"""What the HTTP benchmarks share: starting a server, loading it with wrk (or an asyncio client), results."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0  # answered in the measured run


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


# url, body, and headers: fixed, or made for each body (a signature over it)
Request = tuple[str, str, "dict[str, str] | Callable[[str], dict[str, str]]"]
UNIQUE = "{{n}}"  # in a body: replaced by a number of its own in every request (ids a server dedupes)


def headers_for(request: Request, body: str) -> dict[str, str]:
    headers = request[2]
    return headers(body) if callable(headers) else headers


def send_once(request: Request) -> str:
    url, body, _ = request
    body = body.replace(UNIQUE, "check")
    sent = urllib.request.Request(url, data=body.encode(), headers=headers_for(request, body), method="POST")
    with urllib.request.urlopen(sent, timeout=10) as response:
        return response.read().decode()


def load_with_wrk(request: Request, seconds: int, connections: int) -> Result:
    url, body, headers = request
    lua = "wrk.method = 'POST'\n" + f"wrk.body = [[{body}]]\n"
    lua += "".join(f"wrk.headers['{k}'] = '{v}'\n" for k, v in headers.items())
    if UNIQUE in body:  # each wrk thread numbers its requests apart from the others'
        head, tail = body.split(UNIQUE, 1)
        run = secrets.token_hex(4)  # apart from the ids of any earlier run against the same server
        lua += (
            "local threads, n = 0, 0\n"
            "function setup(thread) threads = threads + 1; thread:set('base', threads) end\n"
            "function request()\n  n = n + 1\n"
            f"  return wrk.format(nil, nil, nil, [[{head}{run}-]] .. base .. '-' .. n .. [[{tail}]])\nend\n"
        )
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
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return Result("", rps, latency("50"), latency("99"), total_errors, requests)


def load_with_asyncio(request: Request, seconds: int, connections: int) -> Result:
    import aiohttp

    url, body, _ = request
    latencies: list[float] = []
    errors = 0
    numbers = (f"{secrets.token_hex(4)}-{n}" for n in itertools.count())

    async def worker(session: aiohttp.ClientSession, stop_at: float) -> None:
        nonlocal errors
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            numbered = body.replace(UNIQUE, next(numbers))
            async with session.post(url, data=numbered, headers=headers_for(request, numbered)) as response:
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
    return Result("", len(latencies) / elapsed, statistics.median(latencies), p99, errors, len(latencies))


def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    request: Request,
    check: Callable[[str], bool],
    args,
) -> Result:
    """Start a server, check one answer, warm it up, then load it; the server stops afterwards."""
    # The server's log goes to a file: a pipe nobody reads would fill up and stall the server.
    log = tempfile.NamedTemporaryFile("w+", prefix="cadence-bench-", suffix=".log", delete=False)
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_up(port, process)
        answer = send_once(request)
        if not check(answer):
            log.seek(0)
            raise SystemExit(f"unexpected answer from {name}: {answer[:300]}\n{log.read()[-2000:]}")
        # wrk sends fixed headers: a body signed anew for each request needs the asyncio client.
        load = load_with_wrk if shutil.which("wrk") and not callable(request[2]) else load_with_asyncio
        load(request, 2, args.connections)  # warm up
        result = load(request, args.seconds, args.connections)
        result.name = name
        return result
    finally:
        process.terminate()
        process.wait(timeout=10)


def tool_name() -> str:
    return "wrk" if shutil.which("wrk") else "an asyncio client (install wrk for steadier figures)"


def print_results(results: list[Result]) -> None:
    print(f"{'server':<55}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for r in results:
        print(f"{r.name:<55}{r.requests_per_second:>10.0f}{r.p50_ms:>10.1f}{r.p99_ms:>10.1f}{r.errors:>8}")
