"""What Slack shows for each core result, notice and form: the capability's view (bot.views) drawn as
Block Kit by the one renderer (handlers.slack.layout), where every piece of text is escaped."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from bot import messages as m
from bot import views
from bot.errors import CadenceError
from bot.minutes import MinutesDraft
from bot.views import buttons, checkins
from bot.views.general import apology, refusal
from bot.views.minutes import draft_form
from bot.views.reports import home
from handlers.slack import layout


def reply(result: Any) -> dict[str, Any]:
    """A core result as a Slack message."""
    try:
        return dict(_drawn(result))
    except TypeError:  # a result that holds a dict (a draft, a home) cannot be a key: drawn afresh
        return layout.message(views.reply(result))


@lru_cache(maxsize=1024)
def _drawn(result: Any) -> dict[str, Any]:
    # A view depends on its result alone, and the same answers come back often (/who-owns SAE):
    # drawn once, they are served from here (the caller gets its own top-level dict; nobody
    # changes the blocks).
    return layout.message(views.reply(result))


def error_reply(error: CadenceError) -> dict[str, Any]:
    """A friendly ephemeral message for a user-facing error."""
    return layout.message(refusal(error))


def failure_reply(reference: str) -> dict[str, Any]:
    """What a user sees when something unexpected broke: no traceback, a reference for the logs."""
    return layout.message(apology(reference))


def modal_for(result: Any) -> dict[str, Any] | None:
    """A result that asks for a form is shown as a modal instead of a message."""
    form = views.form(result)
    return layout.modal(form) if form is not None else None


def form_offer(result: Any, command: str) -> dict[str, Any] | None:
    """A form asked for where Slack gives no trigger to open it (a typed command in a mention or a DM):
    a message whose button opens it, and the way to type the same instead."""
    form = views.form(result)
    if form is None:
        return None
    offer = views.message(
        f"{form.title}: open the form",
        views.section(m.line("*{title}* takes a form.", title=form.title)),
        m.Actions((m.Button("command_form", command, form.title, "primary", typed=form.typed),)),
        *((views.context(m.line("Or type: {typed}", typed=form.typed)),) if form.typed else ()),
    )
    return layout.message(offer)


def checkin_modal(form: Any) -> dict[str, Any]:
    """The Answer modal: one field per question and the status."""
    return layout.modal(views.form(form))


def form_for_button(action_id: str, value: str) -> dict[str, Any]:
    """The form a button opens (bot.views.buttons)."""
    return layout.modal(buttons.form_for_button(action_id, value))


def draft_modal(result: MinutesDraft) -> dict[str, Any]:
    """The minutes form's second page: what Cadence read, to confirm before posting."""
    return layout.modal(draft_form(result))


def snoozed(at: datetime) -> dict[str, Any]:
    """The ephemeral answer to Remind me in 2h."""
    return layout.message(checkins.snoozed(at))


def home_view(data: dict[str, Any]) -> dict[str, Any]:
    """The App Home tab (views.publish)."""
    return layout.home(home(data))
