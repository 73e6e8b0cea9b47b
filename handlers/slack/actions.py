"""Button listeners: ack first, then one core action, then the platform's answer."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import forms
from bot.clock import Clock
from bot.commands import command_names, run_action, run_command
from handlers.slack import blocks
from handlers.slack.middleware import Database, invocation_for


def register(app: AsyncApp) -> None:
    app.action("checkin_answer")(open_checkin_answer)
    app.action("checkin_snooze")(snooze_checkin)
    app.action(re.compile(rf"^({'|'.join(forms.BUTTONS)})(_\d+)?$"))(press_button)
    app.action(re.compile(rf"^({'|'.join(forms.FORM_BUTTONS)})$"))(open_a_note_form)
    app.action("command_form")(open_command_form)


async def press_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    db: Database,
    clock: Clock,
    web_url: str | None,
) -> None:
    """Not mine, a topic, Acknowledge, Done, Open the dashboard…: the result goes to whoever pressed."""
    await ack()
    value = _value(action)
    invocation = invocation_for(body, clock, web_url=web_url)
    result = await db.call(
        forms.press_button, action_id=action["action_id"], value=value, invocation=invocation
    )
    if (body.get("view") or {}).get("type") == "home":  # pressed in the App Home: show it as it is now
        home = await db.call(run_action, name="home", invocation=invocation)
        await client.views_publish(user_id=body["user"]["id"], view=blocks.home_view(home.as_data()))
        return
    await respond(**blocks.reply(result), replace_original=False)


async def open_a_note_form(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
) -> None:
    """Resolve, Escalate now and Can't make it each open a short form."""
    await ack()
    view = blocks.form_for_button(action["action_id"], _value(action))
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def open_command_form(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    db: Database,
    clock: Clock,
) -> None:
    """The button under a command typed in a mention or a DM that takes a form (`escalate` alone): the
    form, now that the click gives Slack's trigger."""
    await ack()
    name = _value(action)
    if name not in command_names():
        return
    result = await db.call(run_command, name=name, text="", invocation=invocation_for(body, clock))
    modal = blocks.modal_for(result)
    if modal is not None:
        await client.views_open(trigger_id=body["trigger_id"], view=modal)


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
    form = await db.call(
        forms.checkin_button,
        name="checkin.form",
        value=_value(action),
        invocation=invocation_for(body, clock),
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
    message_ts = (body.get("container") or {}).get("message_ts") or body["actions"][0]["action_ts"]
    at = await db.call(
        forms.checkin_button,
        name="checkin.snooze",
        value=_value(action),
        invocation=invocation_for(body, clock),
        token=message_ts,
    )
    await respond(**blocks.snoozed(at), replace_original=False)


def _value(action: dict[str, Any]) -> str:
    """What a button or menu carries; a missing or odd one is "" (the core refuses it as stale)."""
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    return value if isinstance(value, str) else ""
