"""Middleware that hands listeners the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from bot import outbox
from bot.clock import Clock
from bot.commands import Invocation
from handlers.slack.people import conversation

T = TypeVar("T")


class Database:
    """Runs a core call in a worker thread, in a session of its own that commits or rolls back.

    The core is synchronous; running it off the event loop keeps every other request flowing. When
    the call queued messages, delivery is woken once it has committed, so they go out now rather
    than at the next tick.
    """

    def __init__(self, engine: Engine, wake_delivery: Callable[[], None] = lambda: None):
        self.engine = engine
        self.wake_delivery = wake_delivery

    async def call(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        return await asyncio.to_thread(
            outbox.run_then_wake, self.engine, self.wake_delivery, function, **kwargs
        )


def inject_services(database: Database, clock: Clock) -> Callable[..., Awaitable[None]]:
    """Put the database (`db`) and the `clock` in every request's context."""

    async def middleware(context: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        context["db"] = database
        context["clock"] = clock
        await next()

    return middleware


def invocation_for(body: dict[str, Any], clock: Clock, study_key: str | None = None) -> Invocation:
    """Who pressed a button or sent a form, from where, and when."""
    channel = conversation((body.get("channel") or {}).get("id"))
    return Invocation(
        platform="slack", user_id=body["user"]["id"], channel_id=channel, study_key=study_key, now=clock.now()
    )
