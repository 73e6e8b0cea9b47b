"""Slash-command listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.clock import Clock
from bot.commands import Invocation, command_names, run_command
from handlers.slack import blocks
from handlers.slack.middleware import Database
from handlers.slack.people import conversation, with_handles


def register(app: AsyncApp) -> None:
    for name in command_names():
        app.command(name)(handle_slash_command)


async def handle_slash_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    db: Database,
    clock: Clock,
    web_url: str | None,
) -> None:
    """Answer in the acknowledgement itself: lookups need no second round trip to Slack."""
    invocation = Invocation(
        platform="slack",
        user_id=command["user_id"],
        channel_id=conversation(command.get("channel_id")),
        now=clock.now(),
        web_url=web_url,
    )
    result = await db.call(
        _run_typed, name=command["command"], text=command.get("text", ""), invocation=invocation
    )
    modal = blocks.modal_for(result)
    if modal is not None:  # the command asks for a form (e.g. /escalate alone)
        await ack()
        await client.views_open(trigger_id=command["trigger_id"], view=modal)
        return
    await ack(**blocks.reply(result))


def _run_typed(session: Session, *, name: str, text: str, invocation: Invocation) -> Any:
    return run_command(session, name=name, text=with_handles(session, text), invocation=invocation)
