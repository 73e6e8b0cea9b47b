"""Middleware that hands listeners the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from bot.clock import Clock
from bot.commands import Invocation
from bot.db import run_in_session

T = TypeVar("T")


class Database:
    """Runs a core call in a worker thread, in a session of its own that commits or rolls back.

    The core is synchronous; running it off the event loop keeps every other request flowing.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    async def call(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        return await asyncio.to_thread(run_in_session, self.engine, function, **kwargs)


def inject_services(
    database: Database, wake_delivery: Callable[[], None], clock: Clock
) -> Callable[..., Awaitable[None]]:
    """Put the database (`db`), the delivery wake-up (`wake_delivery`) and the `clock` in the context."""

    async def middleware(context: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        context["db"] = database
        context["wake_delivery"] = wake_delivery
        context["clock"] = clock
        await next()

    return middleware


def invocation_for(body: dict[str, Any], clock: Clock, study_key: str | None = None) -> Invocation:
    """Who pressed a button or sent a form, from where, and when."""
    channel = (body.get("channel") or {}).get("id")
    return Invocation(
        platform="slack", user_id=body["user"]["id"], channel_id=channel, study_key=study_key, now=clock.now()
    )
