"""`GET /calendar/<token>.ics`: a person's (or a study's) calendar feed, to whoever holds its address.

Starlette routes, mounted by handlers.server.build_asgi beside the charts. An unknown, malformed or revoked
token gets the server's one 404, the same as a path that is not there: nothing tells a guess that came
close from one that did not.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.calendar_feed import ICS, feed_for_token
from bot.clock import Clock, SystemClock
from bot.db import session_scope


def calendar_routes(engine: Engine, clock: Clock | None = None) -> list[Route]:
    """The feed's route, reading `engine` at `clock`'s time."""
    clock = clock or SystemClock()

    async def serve_feed(request: Request) -> Response:
        try:
            body = await asyncio.to_thread(_feed, engine, request.path_params["token"], clock)
        except OperationalError:  # the database is held or out: the calendar app tries again later
            return PlainTextResponse("Busy, try again soon", status_code=503, headers={"Retry-After": "60"})
        if body is None:
            raise HTTPException(404)
        headers = {
            "Cache-Control": "private, max-age=300",  # a person's dates: no shared cache keeps them
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": 'inline; filename="cadence.ics"',
        }
        return Response(body, media_type=ICS, headers=headers)

    return [Route("/calendar/{token}.ics", serve_feed, methods=["GET", "HEAD"])]


def _feed(engine: Engine, token: str, clock: Clock) -> bytes | None:
    # Serving writes: an event that changed since it was last served is stamped with its new SEQUENCE.
    with session_scope(engine, request=True) as session:
        return feed_for_token(session, token=token, now=clock.now())
