"""Button listeners: ack first, then one core action, then the platform's answer."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.commands import Invocation, run_action
from handlers.slack import blocks
from handlers.slack.middleware import Database


def register(app: AsyncApp) -> None:
    app.action("checkin_answer")(open_checkin_answer)
    app.action("checkin_snooze")(snooze_checkin)


def invocation_for(body: dict[str, Any], study_key: str, clock: Clock) -> Invocation:
    return Invocation(platform="slack", user_id=body["user"]["id"], study_key=study_key, now=clock.now())


async def open_checkin_answer(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    db: Database,
    clock: Clock,
) -> None:
    """Answer (or Edit answer) on a check-in prompt: the modal, prefilled with the answer so far."""
    await ack()
    study_key, week = action["value"].split("|", 1)
    form = await db.call(
        run_action, name="checkin.form", invocation=invocation_for(body, study_key, clock), week=week
    )
    await client.views_open(trigger_id=body["trigger_id"], view=blocks.checkin_modal(form))


async def snooze_checkin(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    db: Database,
    clock: Clock,
) -> None:
    """Remind me in 2h: the prompt comes again then, unless the person has answered."""
    await ack()
    study_key, week = action["value"].split("|", 1)
    message_ts = (body.get("container") or {}).get("message_ts") or body["actions"][0]["action_ts"]
    at = await db.call(
        run_action,
        name="checkin.snooze",
        invocation=invocation_for(body, study_key, clock),
        week=week,
        token=message_ts,
    )
    await respond(
        text=f"OK, I'll ask again {blocks.slack_time(at)}.", response_type="ephemeral", replace_original=False
    )
