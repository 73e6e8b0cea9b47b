"""Serving: one Starlette app under uvicorn (`POST /slack/events`, `POST /api/messages`, `GET /healthz`,
`GET /charts/<token>.png`, with OAuth `GET /slack/install` and `GET /slack/oauth_redirect`, and the web
pages under `/app/`), or Slack's Socket Mode."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import uvicorn
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.response import BoltResponse
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.clock import Clock, SystemClock
from bot.db import database_ok, run_in_session
from bot.published import CHART_PATH, PNG, find_published
from handlers.slack.app import signing_secret_of
from handlers.slack.verify import body_as_sent, signed_by_slack, well_formed
from handlers.web.app import WebSettings, web_routes

log = logging.getLogger("cadence.server")
TEAMS_PATH = "/api/messages"
MAX_ACTIVITY_BYTES = 1_000_000  # an activity is a few kilobytes; Teams caps messages near 100 KB
MAX_SLACK_BYTES = 3_000_000  # Slack's largest requests (a modal's view with its state) stay far below
Hook = Callable[[], Awaitable[None]]
Asgi = Callable[[dict[str, Any], Callable, Callable], Awaitable[None]]


class RawAsgi:
    """An ASGI callable as a route's endpoint: Starlette hands it the request untouched, every method
    included (a plain function would be taken for a request-to-response endpoint)."""

    def __init__(self, serve: Asgi):
        self.serve = serve

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        await self.serve(scope, receive, send)


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
    web: WebSettings | None = None,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The HTTP surface: Slack's requests go to Bolt, Teams' activities to the Teams SDK (each when
    configured), `/healthz` checks the database, `/charts/` serves the charts Teams fetches, `/app/` the
    web pages for the study's people; `routes` mount beside them (calendar feeds, e-mail action pages)."""
    clock = clock or SystemClock()
    served: list[BaseRoute] = [
        Route("/healthz", RawAsgi(_health(engine))),
        Route("/charts/{token}.png", RawAsgi(_chart(engine, clock))),
    ]
    if teams is not None:
        served.append(Route(TEAMS_PATH, RawAsgi(_activities(teams))))
    if app is not None:
        served += _slack_routes(app)
    served += web_routes(engine, web or WebSettings.from_settings(None), clock=clock)
    served += routes
    site = Starlette(
        routes=served,
        lifespan=_lifespan(on_startup, on_shutdown),
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    site.router.redirect_slashes = False  # /healthz/ is no address of ours, as before: a 404, no redirect
    return site


def _slack_routes(app: AsyncApp) -> list[BaseRoute]:
    """`POST /slack/events`, checked before Bolt sees it; with OAuth, the install's two browser pages."""
    bolt = SlackEndpoint(app, path="/slack/events")
    secret = signing_secret_of(app)

    async def events(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        await _serve_slack(bolt, secret, scope, receive, send)

    async def browser(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["method"] != "GET":
            await _send_json(send, 404, {"error": "not found"})  # as before: only a browser's GET is served
            return
        await bolt(scope, receive, send)  # a browser's install, checked by its state, not signed

    flow = app.oauth_flow
    oauth = sorted({flow.install_path, flow.redirect_uri_path}) if flow is not None else []
    return [Route("/slack/events", RawAsgi(events)), *(Route(path, RawAsgi(browser)) for path in oauth)]


def _health(engine: Engine):
    async def health(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        healthy = await asyncio.to_thread(database_ok, engine)
        await _send_json(
            send, 200 if healthy else 503, {"status": "ok" if healthy else "database unavailable"}
        )

    return health


def _chart(engine: Engine, clock: Clock):
    async def chart(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        found = CHART_PATH.fullmatch(scope["path"])
        if found is None:
            await _send_json(send, 404, {"error": "not found"})
            return
        await _serve_chart(engine, clock, found["token"], scope, send)

    return chart


def _activities(teams: ActivityEndpoint):
    async def activities(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        await _serve_activity(teams, scope, receive, send)

    return activities


async def _not_found(request: Request, exc: Exception) -> Response:
    return _json(404, {"error": "not found"})


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return _json(405, {"error": "method not allowed"})


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type="application/json")


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


def _lifespan(on_startup: Hook | None, on_shutdown: Hook | None):
    """Start the schedules (and the Teams app) with the server, stop them with it."""

    @asynccontextmanager
    async def lifespan(site: Starlette) -> AsyncIterator[None]:
        if on_startup:
            await on_startup()
        try:
            yield
        finally:
            if on_shutdown:
                await on_shutdown()

    return lifespan


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
