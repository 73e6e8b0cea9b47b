"""Event listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.clock import Clock
from bot.commands import Invocation, run_action
from bot.mentions import answer_mention
from bot.questions import thread_reply
from handlers.slack import blocks
from handlers.slack.middleware import Database
from handlers.slack.people import with_handles


def register(app: AsyncApp) -> None:
    app.event("app_mention")(handle_app_mention)
    app.event("message")(handle_message)
    app.event("app_home_opened")(publish_home)


async def publish_home(event: dict[str, Any], client: AsyncWebClient, db: Database, clock: Clock) -> None:
    """The person opened Cadence's Home tab: publish what waits on them."""
    if event.get("tab", "home") != "home":
        return
    invocation = Invocation(platform="slack", user_id=event["user"], now=clock.now())
    home = await db.call(run_action, name="home", invocation=invocation)
    await client.views_publish(user_id=event["user"], view=blocks.home_view(home.as_data()))


async def handle_message(event: dict[str, Any], db: Database, clock: Clock) -> None:
    """A reply in the thread of a routed question: the asker is asked whether it answers it."""
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts") or event.get("subtype") or event.get("bot_id"):
        return  # not a person's reply in a thread
    await db.call(
        thread_reply, channel=event["channel"], message_id=thread_ts, user_id=event["user"], now=clock.now()
    )


async def handle_app_mention(event: dict[str, Any], body: dict[str, Any], db: Database, clock: Clock) -> None:
    """Someone wrote @Cadence: answer in the message's thread, through the outbox.

    The reply's key is the event's id, so Slack's retries of the event (X-Slack-Retry-Num) add nothing.
    """
    await db.call(
        _answer_typed,
        platform="slack",
        user_id=event["user"],
        channel=event["channel"],
        message_id=event.get("thread_ts") or event["ts"],
        text=event.get("text", ""),
        key=f"mention:{body['event_id']}",
        now=clock.now(),
    )


def _answer_typed(session: Session, *, text: str, **mention: Any) -> bool:
    return answer_mention(session, text=with_handles(session, text), **mention)
