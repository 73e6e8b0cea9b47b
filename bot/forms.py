"""What a button or a form does, whatever the chat it came from.

Each adapter draws buttons and forms in its own way (Block Kit, Adaptive Cards) but they carry the
same ids: a button's action id and value, a form's name, its hidden context and its fields by id.
These functions turn those into one core action, so Slack and Teams cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlmodel import Session

from bot.commands import Invocation, run_action
from bot.errors import CadenceError
from bot.pulse import study_of_round


class FormProblem(CadenceError):
    """A form's answer that cannot be taken as it is; `field` names the input to show it on."""

    def __init__(self, field: str, message: str, hint: str | None = None):
        super().__init__(message, hint)
        self.field = field


class StaleControl(CadenceError):
    """A button's value or a form's context that Cadence did not write (an old or tampered one)."""

    def __init__(self) -> None:
        super().__init__(
            "That button or form is no longer valid, so nothing was changed.",
            hint="Type the command instead: /cadence help lists them.",
        )


def record_id(value: object) -> int:
    """The record a button or form is about, as Cadence wrote it: ASCII digits, a size a record can have."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,9}", value):
        raise StaleControl()
    return int(value)


def pair(value: object) -> tuple[str, str]:
    """A button's or form's "first|second" value, both parts present."""
    first, bar, second = value.partition("|") if isinstance(value, str) else ("", "", "")
    if not (bar and first and second):
        raise StaleControl()
    return first, second


def topic_reference(topic_id: int) -> str:
    """How a button or menu choice names a topic: its responsibility's id, short whatever the topic's
    length (Slack cuts a menu choice's value at 150 characters)."""
    return f"#{topic_id}"


def _topic(reference: str) -> dict[str, Any]:
    """A choice's topic: "#<id>" as Cadence writes it now, or the topic's name as older messages carry it."""
    if reference.startswith("#"):
        return {"topic_id": record_id(reference[1:])}
    return {"topic": reference}


def _topic_choice(value: str) -> tuple[str, dict[str, Any]]:
    question_id, topic = pair(value)
    return "question.topic", {"question_id": record_id(question_id), **_topic(topic)}


def _ownership(name: str, *, topic_needed: bool) -> Callable[[str], tuple[str, dict[str, Any]]]:
    """A review's button: "<study>" or "<study>|#<topic id>" (a handover names its topic; older
    messages name it by its name)."""

    def values(value: str) -> tuple[str, dict[str, Any]]:
        study, _, topic = value.partition("|") if isinstance(value, str) else ("", "", "")
        if not study or (topic_needed and not topic):
            raise StaleControl()
        return name, (_topic(topic) if topic else {})

    return values


def _pulse_rating(value: str) -> tuple[str, dict[str, Any]]:
    """A pulse request's 1 to 5: "<study>|<round>|<question>|<score>"."""
    parts = value.split("|") if isinstance(value, str) else []
    if len(parts) != 4 or not parts[0]:
        raise StaleControl()
    _, round_id, question, score = parts
    return "pulse.rate", {
        "round_id": record_id(round_id),
        "question": record_id(question),
        "score": record_id(score),
    }


def _by_id(name: str, argument: str) -> Callable[[str], tuple[str, dict[str, Any]]]:
    return lambda value: (name, {argument: record_id(value)})


# A button's action id (less a trailing _N) -> the core action it runs and that action's values.
BUTTONS: dict[str, Callable[[str], tuple[str, dict[str, Any]]]] = {
    "question_not_mine": _by_id("question.not_mine", "question_id"),
    "question_topic": _topic_choice,
    "question_topic_select": _topic_choice,
    "ownership_confirm": _ownership("ownership.confirm", topic_needed=False),
    "ownership_handover": _ownership("ownership.handover", topic_needed=True),
    "esc_ack": _by_id("escalation.acknowledge", "issue_id"),
    "minutes_post": _by_id("minutes.post", "minutes_id"),
    "minutes_cancel": _by_id("minutes.cancel", "minutes_id"),
    "action_done": _by_id("action.done", "item_id"),
    "milestone_accept": _by_id("milestone.accept", "milestone_id"),
    "pulse_rate": _pulse_rating,
    "web_dashboard": lambda value: ("web.link", {}),  # its value: the study, as the App Home shows it
}
# Buttons that open a short form rather than act at once (the adapter shows it; the check-in's
# Answer opens the check-in form, prefilled, and is handled on its own).
FORM_BUTTONS = frozenset(
    {
        "esc_resolve", "esc_climb", "action_cant", "action_assign", "question_answered", "milestone_update",
        "milestone_changes", "pulse_comment",
    }
)  # fmt: skip


def button_base(action_id: str) -> str:
    """Several buttons of one kind in a message get numbered ids (question_topic_2): the kind."""
    return re.sub(r"_\d+$", "", action_id)


def press_button(session: Session, *, action_id: str, value: str, invocation: Invocation) -> Any:
    """Run the core action behind a button for whoever pressed it."""
    name, values = BUTTONS[button_base(action_id)](value)
    if name.startswith(("ownership.", "pulse.", "web.")):  # these buttons say which study they belong to
        invocation = replace(invocation, study_key=value.partition("|")[0])
    return run_action(session, name=name, invocation=invocation, **values)


def checkin_button(session: Session, *, name: str, value: str, invocation: Invocation, **values: Any) -> Any:
    """A check-in prompt's Answer (checkin.form) or Remind me (checkin.snooze): its value is "study|week"."""
    study_key, week = pair(value)
    return run_action(session, name=name, invocation=_study(invocation, study_key), week=week, **values)


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value.strip() if isinstance(value, str) else ""


def _study(invocation: Invocation, study_key: str) -> Invocation:
    return replace(invocation, study_key=study_key)


def _checkin_answer(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
    status = _text(fields, "status")
    if not status:
        raise FormProblem("status", "Choose how it is going.")
    study_key, week = pair(meta)
    answers, index = [], 0
    while f"q{index}" in fields:
        answers.append(_text(fields, f"q{index}"))
        index += 1
    return _on_field(
        "status",
        run_action,
        session,
        name="checkin.save",
        invocation=_study(invocation, study_key),
        week=week,
        status=status,
        answers=answers,
    )


def _escalation(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
    return _on_field(
        "summary",
        run_action,
        session,
        name="escalation.raise",
        invocation=_study(invocation, meta),
        summary=_text(fields, "summary"),
        severity=_text(fields, "severity") or "medium",
        topic=_text(fields, "topic") or None,
        impact=_text(fields, "impact"),
        tried=_text(fields, "tried"),
    )


def _noted(name: str, record: str, words: str):
    """A one-field form about one record (Resolve, Escalate now, Answered, Request changes): its `note`
    becomes the action's `words`, the record's id in the form's context its `record`."""

    def submit(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
        values = {record: record_id(meta), words: _text(fields, "note")}
        return _on_field("note", run_action, session, name=name, invocation=invocation, **values)

    return submit


def _minutes(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
    """The minutes form: its notes, decisions and actions read as one set of notes."""
    lines = [_text(fields, "notes")]
    lines += [f"DECISION: {line}" for line in _text(fields, "decisions").splitlines() if line.strip()]
    lines += [f"ACTION: {line}" for line in _text(fields, "actions").splitlines() if line.strip()]
    held_on = _text(fields, "held_on")
    try:
        held = date.fromisoformat(held_on) if held_on else None
    except ValueError:
        raise FormProblem("held_on", f"“{held_on}” is not a date (YYYY-MM-DD).") from None
    attendees = fields.get("attendees") or []
    if isinstance(attendees, list | tuple):  # picked, or typed as @handles
        attendees = [str(a).strip().lstrip("@") for a in attendees if str(a).strip()]
    return _on_field(
        "notes",
        run_action,
        session,
        name="minutes.draft",
        invocation=_study(invocation, meta),
        text="\n".join(lines),
        meeting=_text(fields, "meeting") or None,
        held_on=held,
        attendee_ids=list(attendees) if isinstance(attendees, list | tuple) else [],
    )


def _minutes_confirm(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
    return run_action(session, name="minutes.post", invocation=invocation, minutes_id=record_id(meta))


def _reschedule(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
    return _on_field(
        "due",
        run_action,
        session,
        name="action.reschedule",
        invocation=invocation,
        item_id=record_id(meta),
        new_date=_text(fields, "due"),
        reason=_text(fields, "reason"),
    )


def _assign(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
    """Needs an owner's picker: the one person picked (Slack gives user ids, Teams handles)."""
    picked = fields.get("owner") or []
    picked = [picked] if isinstance(picked, str) else picked
    people = (
        [str(p).strip().lstrip("@") for p in picked if str(p).strip()] if isinstance(picked, list) else []
    )
    if len(people) != 1:
        raise FormProblem("owner", "Pick one person to own it.")
    return _on_field(
        "owner",
        run_action,
        session,
        name="action.assign",
        invocation=invocation,
        item_id=record_id(meta),
        who=people[0],
    )


def _milestone_update(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
    forecast = _text(fields, "forecast")
    try:
        day = date.fromisoformat(forecast) if forecast else None
    except ValueError:
        raise FormProblem("forecast", f"“{forecast}” is not a date (YYYY-MM-DD).") from None
    return _on_field(
        "text",
        run_action,
        session,
        name="milestone.update",
        invocation=invocation,
        milestone_id=record_id(meta),
        status=_text(fields, "status") or "on-track",
        forecast=day,
        text=_text(fields, "text"),
    )


def _pulse_comment(session: Session, invocation: Invocation, meta: str, fields: dict[str, Any]) -> Any:
    round_id = record_id(meta)
    return _on_field(
        "note",
        run_action,
        session,
        name="pulse.comment",
        invocation=_study(invocation, study_of_round(session, round_id)),
        round_id=round_id,
        text=_text(fields, "note"),
    )


def _on_field(field: str, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call `function`; a problem it reports belongs on `field` of the form."""
    try:
        return function(*args, **kwargs)
    except FormProblem:
        raise
    except CadenceError as error:
        raise FormProblem(field, error.message, error.hint) from None


# A form's name (Slack's callback_id) -> what submitting it does.
FORMS: dict[str, Callable[[Session, Invocation, str, dict[str, Any]], Any]] = {
    "checkin_answer": _checkin_answer,
    "escalation_form": _escalation,
    "escalation_resolve": _noted("escalation.resolve", "issue_id", "note"),
    "escalation_climb": _noted("escalation.climb", "issue_id", "reason"),
    "question_answer": _noted("question.answered", "question_id", "answer"),
    "minutes_form": _minutes,
    "minutes_confirm": _minutes_confirm,
    "action_reschedule": _reschedule,
    "action_assign": _assign,
    "milestone_update": _milestone_update,
    "milestone_changes": _noted("milestone.changes", "milestone_id", "reason"),
    "pulse_comment": _pulse_comment,
}


def submit_form(
    session: Session, *, form: str, meta: str, fields: dict[str, Any], invocation: Invocation
) -> Any:
    """Run what a submitted form asks; a FormProblem names the field that needs another look."""
    submit = FORMS.get(form)
    if submit is None:
        raise CadenceError("That form is no longer in use.", hint="Start again from the command.")
    return submit(session, invocation, meta, fields)
