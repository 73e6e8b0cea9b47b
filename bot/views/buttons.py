"""The forms buttons open: Resolve asks for a resolution note, Escalate now for a reason, Can't make it
for a new date, Assign for an owner."""

from __future__ import annotations

from bot import messages as m
from bot.forms import record_id
from bot.views.escalation import note_form
from bot.views.milestones import changes_form, update_form
from bot.views.minutes import assign_form, reschedule_form
from bot.views.partnership import comment_form
from bot.views.questions import answer_form


def form_for_button(action_id: str, value: str) -> m.Form:
    """The form the button `action_id` opens, for the issue or item numbered `value`."""
    number = record_id(value)
    return {
        "esc_resolve": lambda: note_form(
            "escalation_resolve", number, "Resolve", "Resolution note", f"/escalate resolve E{number} <note>"
        ),
        "esc_climb": lambda: note_form(
            "escalation_climb", number, "Escalate now", "Why now?", f"/escalate up E{number} <reason>"
        ),
        "action_cant": lambda: reschedule_form(number),
        "action_assign": lambda: assign_form(number),
        "question_answered": lambda: answer_form(number),
        "milestone_update": lambda: update_form(number),
        "milestone_changes": lambda: changes_form(number),
        "pulse_comment": lambda: comment_form(number),
    }[action_id]()
