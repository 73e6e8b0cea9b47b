"""Button listeners: ack first, then one core action, then the platform's answer."""

from __future__ import annotations

import re
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
    app.action(re.compile(r"^question_(answered|not_mine|topic_\d+|topic_select)$"))(question_button)
    app.action(re.compile(r"^ownership_(confirm|handover_\d+)$"))(ownership_button)
    app.action("esc_ack")(acknowledge_issue)
    app.action("esc_resolve")(ask_for_a_note)
    app.action("esc_climb")(ask_for_a_note)
    app.action(re.compile(r"^(minutes_post|minutes_cancel|action_done)$"))(minutes_button)
    app.action("action_cant")(ask_for_a_new_date)


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


async def question_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    db: Database,
    clock: Clock,
    wake_delivery,
) -> None:
    """Answered, Not mine, or a topic chosen for a question: the result goes to whoever pressed."""
    await ack()
    value = action.get("value") or action["selected_option"]["value"]
    action_id = re.sub(r"_\d+$", "", action["action_id"])  # question_topic_3 -> question_topic
    name, values = _QUESTION_ACTIONS[action_id](value)
    invocation = Invocation(
        platform="slack",
        user_id=body["user"]["id"],
        channel_id=(body.get("channel") or {}).get("id"),
        now=clock.now(),
    )
    result = await db.call(run_action, name=name, invocation=invocation, **values)
    await respond(**blocks.reply(result), replace_original=False)
    wake_delivery()


def _topic_choice(value: str) -> tuple[str, dict[str, Any]]:
    question_id, topic = value.split("|", 1)
    return "question.topic", {"question_id": int(question_id), "topic": topic}


_QUESTION_ACTIONS = {
    "question_answered": lambda value: ("question.answered", {"question_id": int(value)}),
    "question_not_mine": lambda value: ("question.not_mine", {"question_id": int(value)}),
    "question_topic": _topic_choice,
    "question_topic_select": _topic_choice,
}


async def ownership_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    db: Database,
    clock: Clock,
    wake_delivery,
) -> None:
    """Yes, still mine / Hand over <topic> on an ownership review."""
    await ack()
    study_key, _, topic = action["value"].partition("|")
    invocation = invocation_for(body, study_key, clock)
    if action["action_id"] == "ownership_confirm":
        result = await db.call(run_action, name="ownership.confirm", invocation=invocation)
    else:
        result = await db.call(run_action, name="ownership.handover", invocation=invocation, topic=topic)
    await respond(**blocks.reply(result), replace_original=False)
    wake_delivery()


async def acknowledge_issue(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    db: Database,
    clock: Clock,
    wake_delivery,
) -> None:
    """Acknowledge on an issue's card or notification: the climb stops (refused politely off the path)."""
    await ack()
    invocation = Invocation(
        platform="slack",
        user_id=body["user"]["id"],
        now=clock.now(),
        channel_id=(body.get("channel") or {}).get("id"),
    )
    result = await db.call(
        run_action, name="escalation.acknowledge", invocation=invocation, issue_id=int(action["value"])
    )
    await respond(**blocks.reply(result), replace_original=False)
    wake_delivery()


async def ask_for_a_note(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
) -> None:
    """Resolve asks for a resolution note, Escalate now for a reason: a one-field form."""
    await ack()
    if action["action_id"] == "esc_resolve":
        view = blocks.note_modal("escalation_resolve", int(action["value"]), "Resolve", "Resolution note")
    else:
        view = blocks.note_modal("escalation_climb", int(action["value"]), "Escalate now", "Why now?")
    await client.views_open(trigger_id=body["trigger_id"], view=view)


_MINUTES_ACTIONS = {
    "minutes_post": ("minutes.post", "minutes_id"),
    "minutes_cancel": ("minutes.cancel", "minutes_id"),
    "action_done": ("action.done", "item_id"),
}


async def minutes_button(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    db: Database,
    clock: Clock,
    wake_delivery,
) -> None:
    """Post minutes / Discard on a preview; Done on an action item (only its owner)."""
    await ack()
    name, argument = _MINUTES_ACTIONS[action["action_id"]]
    invocation = Invocation(
        platform="slack",
        user_id=body["user"]["id"],
        now=clock.now(),
        channel_id=(body.get("channel") or {}).get("id"),
    )
    result = await db.call(run_action, name=name, invocation=invocation, **{argument: int(action["value"])})
    await respond(**blocks.reply(result), replace_original=False)
    wake_delivery()


async def ask_for_a_new_date(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
) -> None:
    """Can't make it: a form for the new date and the reason."""
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=blocks.reschedule_modal(int(action["value"])))
