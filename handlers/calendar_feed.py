"""`GET /calendar/<token>.ics`: a person's (or a study's) calendar feed, to whoever holds its address.

Written as Starlette routes, for the web server's `routes=` list; `calendar_routes(engine, clock)` builds
them. An unknown, malformed or revoked token gets the same 404 as a path that is not there: nothing tells
a guess that came close from one that did not.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.calendar_feed import ICS, feed_for_token
from bot.clock import Clock, SystemClock
from bot.db import session_scope

PREFIX = "/calendar/"


def calendar_routes(engine: Engine, clock: Clock | None = None) -> list[Route]:
    """The feed's route, reading `engine` at `clock`'s time."""
    clock = clock or SystemClock()

    async def serve_feed(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            body = await asyncio.to_thread(_feed, engine, token, clock)
        except OperationalError:  # the database is held or out: the calendar app tries again later
            return PlainTextResponse("Busy, try again soon", status_code=503, headers={"Retry-After": "60"})
        if body is None:
            return PlainTextResponse("Not Found", status_code=404)
        headers = {
            "Cache-Control": "private, max-age=300",  # a person's dates: no shared cache keeps them
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": 'inline; filename="cadence.ics"',
        }
        return Response(body, media_type=ICS, headers=headers)

    return [Route(PREFIX + "{token}.ics", serve_feed, methods=["GET", "HEAD"])]


def _feed(engine: Engine, token: str, clock: Clock) -> bytes | None:
    # Serving writes: an event that changed since it was last served is stamped with its new SEQUENCE.
    with session_scope(engine, request=True) as session:
        return feed_for_token(session, token=token, now=clock.now())


def calendar_app(engine: Engine, clock: Clock | None = None) -> Starlette:
    """The routes as an ASGI app of their own, for a server that mounts apps by path prefix."""
    return Starlette(routes=calendar_routes(engine, clock))
