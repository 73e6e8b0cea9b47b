"""Modal submissions: every form goes through bot.forms; a problem is shown on the form, which stays open."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import forms
from bot.clock import Clock
from bot.minutes import MinutesDraft
from handlers.slack import blocks
from handlers.slack.middleware import Database, invocation_for


def register(app: AsyncApp) -> None:
    for name in forms.FORMS:
        app.view(name)(submit_form)


def form_fields(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's inputs by block id: text, the chosen option's value, a date, or a list of users."""
    fields: dict[str, Any] = {}
    for block_id, elements in view["state"]["values"].items():
        element = next(iter(elements.values()), None) if isinstance(elements, dict) else None
        fields[block_id] = _field(element if isinstance(element, dict) else {})
    return fields


def _field(element: dict[str, Any]) -> str | list[str]:
    """One input's answer; a shape Slack never sends reads as no answer (the form then says what is
    missing), not as an error."""
    if "selected_users" in element:
        users = element["selected_users"]
        return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []
    if "selected_option" in element:
        option = element["selected_option"]
        found = option.get("value") if isinstance(option, dict) else None
    else:
        found = element.get("selected_date", element.get("value"))
    return found if isinstance(found, str) else ""


async def submit_form(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], db: Database, clock: Clock
) -> None:
    try:
        result = await db.call(
            forms.submit_form,
            form=view["callback_id"],
            meta=view.get("private_metadata") or "",
            fields=form_fields(view),
            invocation=invocation_for(body, clock),
        )
    except forms.FormProblem as problem:
        text = " ".join(filter(None, [problem.message, problem.hint]))
        await ack(response_action="errors", errors={problem.field: text})
        return
    if isinstance(result, MinutesDraft):  # the minutes form's next page: what was read, to confirm
        await ack(response_action="update", view=blocks.draft_modal(result))
        return
    await ack()
