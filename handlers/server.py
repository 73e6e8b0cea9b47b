"""Serving: one ASGI app under uvicorn (`POST /slack/events`, `POST /api/messages`, `GET /healthz`,
`GET /charts/<token>.png`, and with OAuth `GET /slack/install` and `GET /slack/oauth_redirect`), or
Slack's Socket Mode."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import uvicorn
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.response import BoltResponse
from sqlalchemy.engine import Engine
from starlette.routing import Match, Router

from bot.clock import Clock, SystemClock
from bot.db import database_ok, run_in_session
from bot.published import CHART_PATH, PNG, find_published
from handlers.slack.app import signing_secret_of
from handlers.slack.verify import body_as_sent, signed_by_slack, well_formed

log = logging.getLogger("cadence.server")
TEAMS_PATH = "/api/messages"
MAX_ACTIVITY_BYTES = 1_000_000  # an activity is a few kilobytes; Teams caps messages near 100 KB
MAX_SLACK_BYTES = 3_000_000  # Slack's largest requests (a modal's view with its state) stay far below
Hook = Callable[[], Awaitable[None]]


class ActivityEndpoint(Protocol):
    """The Teams app's route (handlers.teams.app.Routes): a Bot Framework activity in, a response out."""

    async def handle(self, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]: ...


def build_asgi(
    app: AsyncApp | None,
    engine: Engine,
    *,
    teams: ActivityEndpoint | None = None,
    on_startup: Hook | None = None,
    on_shutdown: Hook | None = None,
    clock: Clock | None = None,
    routes: list | None = None,
):
    """The HTTP surface: Slack's requests go to Bolt, Teams' activities to the Teams SDK (each when
    configured), `/healthz` checks the database, `/charts/` serves the charts Teams fetches."""
    bolt = SlackEndpoint(app, path="/slack/events") if app is not None else None
    secret = signing_secret_of(app) if app is not None else ""
    flow = app.oauth_flow if app is not None else None
    oauth_paths = {flow.install_path, flow.redirect_uri_path} if flow is not None else set()
    clock = clock or SystemClock()
    pages = Router(routes=list(routes)) if routes else None

    async def asgi(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, on_startup, on_shutdown)
        elif scope["type"] != "http":
            return
        elif scope["path"] == "/healthz":
            healthy = await asyncio.to_thread(database_ok, engine)
            await _send_json(
                send, 200 if healthy else 503, {"status": "ok" if healthy else "database unavailable"}
            )
        elif chart := CHART_PATH.fullmatch(scope["path"]):
            await _serve_chart(engine, clock, chart["token"], scope, send)
        elif scope["path"] == TEAMS_PATH and teams is not None:
            await _serve_activity(teams, scope, receive, send)
        elif bolt is not None and scope["path"] == "/slack/events":
            await _serve_slack(bolt, secret, scope, receive, send)
        elif bolt is not None and scope["path"] in oauth_paths and scope["method"] == "GET":
            await bolt(scope, receive, send)  # a browser's install, checked by its state, not signed
        elif pages is not None and any(route.matches(scope)[0] != Match.NONE for route in pages.routes):
            await pages(scope, receive, send)  # Starlette routes: an e-mail's action links
        else:
            await _send_json(send, 404, {"error": "not found"})

    return asgi


async def _serve_slack(bolt, secret: str, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """Slack's request, handed to Bolt only once its signature and timestamp hold on the raw bytes."""
    raw = await _read_body(receive, MAX_SLACK_BYTES)
    if raw is None:
        await _send_json(send, 413, {"error": "too large"})
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    if scope["method"] != "POST" or not signed_by_slack(raw, headers, secret):
        await _send_json(send, 401, {"error": "invalid request signature"})
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        await _send_json(send, 400, {"error": "the body is not UTF-8"})
        return
    body = body_as_sent(text, headers.get("content-type"))
    if body is None:
        log.info("a signed request whose body is not one Slack sends was refused")
        await _send_json(send, 400, {"error": "not a Slack request body"})
        return
    if not well_formed(body):  # Slack shows nothing for a 200 without a body: nothing was done
        log.info("a signed %s of an unknown shape was ignored", _kind(body))
        await _send_json(send, 200, {})
        return
    replayed = False

    async def receive_again() -> dict[str, Any]:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": raw, "more_body": False}

    await bolt(scope, receive_again, send)


def _kind(body: dict[str, Any]) -> str:
    return "event" if body.get("type") == "event_callback" else "interactive payload"


class SlackEndpoint(AsyncSlackRequestHandler):
    """Bolt's ASGI handler, handing Bolt the body as Slack sent it (handlers.slack.verify.body_as_sent)
    where Bolt's own guess differs: a slash command with the word "payload" in it is still a command."""

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        raw = await request.get_raw_body()
        bolt_request = AsyncBoltRequest(body=raw, query=request.query_string, headers=request.get_headers())
        as_sent = body_as_sent(raw, bolt_request.content_type)
        if as_sent is not None and as_sent != bolt_request.body:
            bolt_request.body = as_sent
            bolt_request.context = build_async_context(AsyncBoltContext({}), as_sent)
        return await self.app.async_dispatch(bolt_request)


async def _read_body(receive: Callable, limit: int) -> bytes | None:
    """The whole request body, or None past `limit` bytes."""
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if len(raw) > limit:
            return None
        if not message.get("more_body"):
            return raw


async def _serve_activity(teams: ActivityEndpoint, scope: dict[str, Any], receive: Callable, send: Callable):
    if scope["method"] != "POST":
        await _send_json(send, 405, {"error": "POST activities here"})
        return
    raw = await _read_body(receive, MAX_ACTIVITY_BYTES)
    if raw is None:
        await _send_json(send, 413, {"error": "too large"})
        return
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # not JSON, or nested past what the parser follows ([[[[…)
        body = None
    if not isinstance(body, dict):
        await _send_json(send, 400, {"error": "an activity is a JSON object"})
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    response = await teams.handle(body, headers)
    await _send_json(send, response["status"], response.get("body") or {})


async def _serve_chart(engine: Engine, clock: Clock, token: str, scope: dict[str, Any], send: Callable):
    """A published chart, to whoever has its unguessable address (Teams fetches it to show a report)."""
    if scope["method"] not in ("GET", "HEAD"):
        await _send_json(send, 405, {"error": "GET a chart"})
        return
    found = await asyncio.to_thread(run_in_session, engine, find_published, token=token, now=clock.now())
    if found is None or found[1] != PNG:
        await _send_json(send, 404, {"error": "not found"})
        return
    content = found[0]
    headers = [
        (b"content-type", PNG.encode()),
        (b"content-length", str(len(content)).encode()),
        (b"cache-control", b"private, max-age=86400"),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content})


async def _lifespan(
    receive: Callable, send: Callable, on_startup: Hook | None, on_shutdown: Hook | None
) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if on_startup:
                await on_startup()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if on_shutdown:
                await on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _send_json(send: Callable, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def make_server(asgi: Any, *, host: str = "0.0.0.0", port: int = 3000) -> uvicorn.Server:
    """A uvicorn server for the ASGI app (one event loop; the core runs in worker threads)."""
    config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    return uvicorn.Server(config)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (tests read it back)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def run_socket_mode(app: AsyncApp, app_token: str) -> None:
    """Connect to Slack over Socket Mode and serve until stopped."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, app_token)
    log.info("connecting to Slack over Socket Mode")
    await handler.start_async()
