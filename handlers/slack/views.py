"""Modal submissions."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.clock import Clock
from bot.commands import run_action
from bot.errors import CadenceError
from handlers.slack import blocks
from handlers.slack.middleware import Database, invocation_for


def register(app: AsyncApp) -> None:
    app.view("checkin_answer")(submit_checkin_answer)
    app.view("escalation_form")(submit_escalation)
    app.view("escalation_resolve")(submit_issue_note)
    app.view("escalation_climb")(submit_issue_note)
    app.view("minutes_form")(preview_minutes)
    app.view("minutes_confirm")(confirm_minutes)
    app.view("action_reschedule")(submit_new_date)


async def submit_checkin_answer(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], db: Database, clock: Clock
) -> None:
    """The Answer modal: store the answer; a problem is shown on the form, which stays open."""
    values = view["state"]["values"]
    selected = (values.get("status", {}).get("value") or {}).get("selected_option")
    if not selected:
        await ack(response_action="errors", errors={"status": "Choose how it is going."})
        return
    answers = [(values[f"q{i}"]["value"].get("value") or "") for i in range(len(values)) if f"q{i}" in values]
    study_key, week = view["private_metadata"].split("|", 1)
    invocation = invocation_for(body, clock, study_key)
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


def _value(values: dict[str, Any], block_id: str) -> str:
    element = (values.get(block_id) or {}).get("value") or {}
    selected = element.get("selected_option")
    return (selected or {}).get("value") or element.get("value") or ""


async def submit_escalation(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], db: Database, clock: Clock
) -> None:
    """The Escalate form: raise the issue; a problem is shown on the form, which stays open."""
    values = view["state"]["values"]
    invocation = invocation_for(body, clock, view["private_metadata"])
    try:
        await db.call(
            run_action,
            name="escalation.raise",
            invocation=invocation,
            summary=_value(values, "summary"),
            severity=_value(values, "severity") or "medium",
            topic=_value(values, "topic") or None,
            impact=_value(values, "impact"),
            tried=_value(values, "tried"),
        )
    except CadenceError as error:
        await ack(response_action="errors", errors={"summary": error.message})
        return
    await ack()


async def submit_issue_note(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], db: Database, clock: Clock
) -> None:
    """The resolution note, or the reason to escalate now."""
    note = _value(view["state"]["values"], "note")
    invocation = invocation_for(body, clock)
    try:
        if view["callback_id"] == "escalation_resolve":
            await db.call(
                run_action,
                name="escalation.resolve",
                invocation=invocation,
                issue_id=int(view["private_metadata"]),
                note=note,
            )
        else:
            await db.call(
                run_action,
                name="escalation.climb",
                invocation=invocation,
                issue_id=int(view["private_metadata"]),
                reason=note,
            )
    except CadenceError as error:
        await ack(
            response_action="errors", errors={"note": " ".join(filter(None, [error.message, error.hint]))}
        )
        return
    await ack()


async def preview_minutes(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], db: Database, clock: Clock
) -> None:
    """The Minutes form: read it, and show what was understood on the form's next page to confirm."""
    values = view["state"]["values"]
    lines = [_value(values, "notes")]
    lines += [f"DECISION: {line}" for line in _value(values, "decisions").splitlines() if line.strip()]
    lines += [f"ACTION: {line}" for line in _value(values, "actions").splitlines() if line.strip()]
    attendees = (values.get("attendees", {}).get("value") or {}).get("selected_users") or []
    held_on = (values.get("held_on", {}).get("value") or {}).get("selected_date")
    invocation = invocation_for(body, clock, view["private_metadata"])
    try:
        draft = await db.call(
            run_action,
            name="minutes.draft",
            invocation=invocation,
            text="\n".join(lines),
            meeting=_value(values, "meeting") or None,
            held_on=date.fromisoformat(held_on) if held_on else None,
            attendee_ids=attendees,
        )
    except CadenceError as error:
        await ack(response_action="errors", errors={"notes": error.message})
        return
    await ack(response_action="update", view=blocks.draft_modal(draft))


async def confirm_minutes(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], db: Database, clock: Clock
) -> None:
    invocation = invocation_for(body, clock)
    await db.call(
        run_action, name="minutes.post", invocation=invocation, minutes_id=int(view["private_metadata"])
    )
    await ack()


async def submit_new_date(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], db: Database, clock: Clock
) -> None:
    values = view["state"]["values"]
    new_date = (values.get("due", {}).get("value") or {}).get("selected_date") or ""
    invocation = invocation_for(body, clock)
    try:
        await db.call(
            run_action,
            name="action.reschedule",
            invocation=invocation,
            item_id=int(view["private_metadata"]),
            new_date=new_date,
            reason=_value(values, "reason"),
        )
    except CadenceError as error:
        await ack(response_action="errors", errors={"due": error.message})
        return
    await ack()
