"""Slash-command listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.clock import Clock
from bot.commands import Invocation, command_names, run_command
from handlers.slack import blocks
from handlers.slack.middleware import Database


def register(app: AsyncApp) -> None:
    for name in command_names():
        app.command(name)(handle_slash_command)


async def handle_slash_command(
    ack: AsyncAck, command: dict[str, Any], db: Database, clock: Clock, wake_delivery
) -> None:
    """Answer in the acknowledgement itself: lookups need no second round trip to Slack."""
    invocation = Invocation(
        platform="slack", user_id=command["user_id"], channel_id=command.get("channel_id"), now=clock.now()
    )
    result = await db.call(
        run_command, name=command["command"], text=command.get("text", ""), invocation=invocation
    )
    await ack(**blocks.reply(result))
    wake_delivery()  # whatever the command queued (prompts, a digest) goes out now
