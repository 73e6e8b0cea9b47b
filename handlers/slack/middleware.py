"""Middleware that hands listeners the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from slack_bolt.request.async_request import AsyncBoltRequest as BoltRequest
from sqlalchemy.engine import Engine

from bot import outbox, received
from bot.clock import Clock
from bot.commands import Invocation
from handlers.slack.people import conversation
from handlers.slack.verify import MAX_AGE_SECONDS

T = TypeVar("T")
# Slack refuses a timestamp over five minutes old; a signature kept a little longer cannot come back.
REPLAYS_KEPT = timedelta(seconds=MAX_AGE_SECONDS + 60)


class Database:
    """Runs a core call in a worker thread, in a session of its own that commits or rolls back.

    The core is synchronous; running it off the event loop keeps every other request flowing. When
    the call queued messages, delivery is woken once it has committed, so they go out now rather
    than at the next tick.
    """

    def __init__(
        self,
        engine: Engine,
        wake_delivery: Callable[[], None] = lambda: None,
        once: received.Once | None = None,
    ):
        self.engine = engine
        self.wake_delivery = wake_delivery
        self.once = once

    def for_request(self, once: received.Once | None) -> Database:
        """The database for one request, whose changes are kept only the first time it comes."""
        return Database(self.engine, self.wake_delivery, once)

    async def call(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        return await asyncio.to_thread(
            outbox.run_then_wake, self.engine, self.wake_delivery, function, self.once, **kwargs
        )


def inject_services(
    database: Database, clock: Clock, web_url: str | None = None
) -> Callable[..., Awaitable[None]]:
    """Put the database (`db`), the `clock` and where the web pages are (`web_url`, CADENCE_PUBLIC_URL)
    in every request's context."""

    async def middleware(
        req: BoltRequest, body: dict[str, Any], context: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> None:
        context["db"] = database.for_request(_once(req, body, clock))
        context["clock"] = clock
        context["web_url"] = web_url
        await next()

    return middleware


def _once(req: BoltRequest, body: dict[str, Any], clock: Clock) -> received.Once | None:
    """A command's, click's or form's claim to be taken in once, by its signature: anyone who saw the signed
    bytes could send them again within Slack's five minutes. Events are taken once by their event id
    instead, and Socket Mode's requests carry no signature."""
    signature = req.headers.get("x-slack-signature", [None])[0]
    if not signature or body.get("type") == "event_callback":
        return None
    return received.Once(f"slack:{signature}", now=clock.now(), kept=REPLAYS_KEPT)


def invocation_for(
    body: dict[str, Any], clock: Clock, study_key: str | None = None, web_url: str | None = None
) -> Invocation:
    """Who pressed a button or sent a form, from where, and when."""
    channel = conversation((body.get("channel") or {}).get("id"))
    return Invocation(
        platform="slack",
        user_id=body["user"]["id"],
        channel_id=channel,
        study_key=study_key,
        now=clock.now(),
        web_url=web_url,
    )
