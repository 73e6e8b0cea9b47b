"""Event listeners: the App Home, replies in a routed question's thread, and commands typed without a
slash — `@Cadence ask …` in a channel, `ask …` in a direct message — which the CRO's people can use
from their own workspace before (or without) an install there, since Slack sends slash commands only
to an app installed in the typist's workspace."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot import installations, received
from bot.clock import Clock
from bot.commands import Invocation, run_action, run_typed
from bot.errors import CadenceError
from bot.questions import thread_reply
from handlers.slack import blocks
from handlers.slack.middleware import Database
from handlers.slack.people import conversation, with_handles

EVENTS_KEPT = timedelta(hours=1)  # Slack retries an event three times within minutes
_ALREADY = object()  # the event was taken in before: Slack sent it again
# A reply "also sent to the channel", or with a file attached, is still a person's reply in the thread.
REPLY_SUBTYPES = frozenset({"thread_broadcast", "file_share"})


def register(app: AsyncApp) -> None:
    app.event("app_mention")(handle_app_mention)
    app.event("message")(handle_message)
    app.event("app_home_opened")(publish_home)
    app.event("app_uninstalled")(forget_installation)
    app.event("tokens_revoked")(forget_revoked_bot)


async def forget_installation(body: dict[str, Any], db: Database, clock: Clock) -> None:
    """A workspace uninstalled Cadence: its installation is gone at once (its token never used again; its
    people are reached through the home installation) and the admins are told."""
    team = body.get("team_id")
    if team and isinstance(team, str):
        await db.call(installations.remove, team_id=team, now=clock.now())


async def forget_revoked_bot(body: dict[str, Any], event: dict[str, Any], db: Database, clock: Clock) -> None:
    """A workspace revoked tokens: the installation goes only when its bot's token is among them (listed
    under `bot`); revoked user tokens (`oauth`) are none of Cadence's."""
    team, tokens = body.get("team_id"), event.get("tokens")
    bots = tokens.get("bot") if isinstance(tokens, dict) else None
    named = [b for b in bots if isinstance(b, str)] if isinstance(bots, list) else []
    if team and isinstance(team, str) and named:
        await db.call(installations.remove, team_id=team, now=clock.now(), bot_user_ids=named)


async def publish_home(event: dict[str, Any], client: AsyncWebClient, db: Database, clock: Clock) -> None:
    """The person opened Cadence's Home tab: publish what waits on them."""
    if event.get("tab", "home") != "home":
        return
    invocation = Invocation(platform="slack", user_id=event["user"], now=clock.now())
    home = await db.call(run_action, name="home", invocation=invocation)
    await client.views_publish(user_id=event["user"], view=blocks.home_view(home.as_data()))


async def handle_message(
    event: dict[str, Any],
    body: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
    db: Database,
    clock: Clock,
) -> None:
    """A person's message: in the thread of a routed question, the asker is asked whether it answers it;
    in a direct message with Cadence, a command as if typed with its slash."""
    subtype = event.get("subtype")
    if (subtype and subtype not in REPLY_SUBTYPES) or event.get("bot_id") or not event.get("user"):
        return  # edits, joins, Cadence's own messages
    thread_ts = event.get("thread_ts")
    if thread_ts and thread_ts != event.get("ts"):
        await db.call(
            thread_reply,
            channel=event["channel"],
            message_id=thread_ts,
            user_id=event["user"],
            now=clock.now(),
        )
    elif event.get("channel_type") == "im" and not subtype:
        await _run_typed_message(event, body, context, client, db, clock, thread=None)


async def handle_app_mention(
    event: dict[str, Any],
    body: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
    db: Database,
    clock: Clock,
) -> None:
    """@Cadence <command> in a channel: what the slash command runs, answered in the message's thread."""
    await _run_typed_message(
        event, body, context, client, db, clock, thread=event.get("thread_ts") or event["ts"]
    )


async def _run_typed_message(
    event: dict[str, Any],
    body: dict[str, Any],
    context: dict[str, Any],
    client: AsyncWebClient,
    db: Database,
    clock: Clock,
    *,
    thread: str | None,
) -> None:
    text = _without_mention_of(context.get("bot_user_id"), event.get("text") or "")
    invocation = Invocation(
        platform="slack",
        user_id=event["user"],
        channel_id=conversation(event["channel"]),
        now=clock.now(),
        web_url=context.get("web_url"),
    )
    try:
        result = await db.call(
            _typed_once, key=f"slack-event:{body.get('event_id')}", text=text, invocation=invocation
        )
    except CadenceError as error:
        payload = blocks.error_reply(error)
    else:
        if result is _ALREADY:
            return
        payload = blocks.form_offer(result, _command_of(text)) or blocks.reply(result)
    await _answer(client, event, thread, payload)


def _typed_once(session: Session, *, key: str, text: str, invocation: Invocation) -> Any:
    """The command, taken in once by the event's id in the same transaction: Slack's retries of the event
    (X-Slack-Retry-Num) run nothing twice and answer nothing twice."""
    if not received.first_receipt(session, key, now=invocation.now, kept=EVENTS_KEPT):
        return _ALREADY
    return run_typed(session, text=with_handles(session, text), invocation=invocation)


async def _answer(
    client: AsyncWebClient, event: dict[str, Any], thread: str | None, payload: dict[str, Any]
) -> None:
    """As the slash command would answer: only to the typist where its answer is private (in a
    channel), for everyone where it is public, and in the direct message itself."""
    fields = {"channel": event["channel"], "text": payload["text"], "blocks": payload["blocks"]}
    if thread:
        fields["thread_ts"] = thread
    if payload.get("response_type") == "ephemeral" and event.get("channel_type") != "im":
        await client.chat_postEphemeral(user=event["user"], **fields)
    else:
        await client.chat_postMessage(**fields)


def _without_mention_of(bot_user_id: str | None, text: str) -> str:
    """What was typed after `@Cadence` (Slack writes the mention as <@U…>)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    return " ".join(text.split(" ")).strip()


def _command_of(text: str) -> str:
    return "/" + text.strip().split(" ", 1)[0].casefold().lstrip("/")
