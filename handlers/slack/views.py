"""Modal submissions."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.clock import Clock
from bot.commands import Invocation, run_action
from bot.errors import CadenceError
from handlers.slack.middleware import Database


def register(app: AsyncApp) -> None:
    app.view("checkin_answer")(submit_checkin_answer)


async def submit_checkin_answer(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], db: Database, clock: Clock, wake_delivery
) -> None:
    """The Answer modal: store the answer; a problem is shown on the form, which stays open."""
    values = view["state"]["values"]
    selected = (values.get("status", {}).get("value") or {}).get("selected_option")
    if not selected:
        await ack(response_action="errors", errors={"status": "Choose how it is going."})
        return
    answers = [(values[f"q{i}"]["value"].get("value") or "") for i in range(len(values)) if f"q{i}" in values]
    study_key, week = view["private_metadata"].split("|", 1)
    invocation = Invocation(
        platform="slack", user_id=body["user"]["id"], study_key=study_key, now=clock.now()
    )
    try:
        await db.call(
            run_action,
            name="checkin.save",
            invocation=invocation,
            week=week,
            status=selected["value"],
            answers=answers,
        )
    except CadenceError as error:  # a modal shows its errors on the form, not in a message
        await ack(response_action="errors", errors={"status": error.message})
        return
    await ack()
    wake_delivery()
