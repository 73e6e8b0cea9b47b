"""Milestones: the list, written updates, slips told to both sides, deliverables accepted."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import messages as m
from bot.dates import in_words
from bot.milestones import (
    STATUSES,
    ChangesRequested,
    MilestoneAccepted,
    MilestoneDone,
    MilestoneLine,
    MilestonesListed,
    MilestoneUpdated,
)
from bot.views import context, message, notice_view, person, reply, section, who
from bot.wording import side_label

_SHOWN = {
    "on-track": "on track",
    "at-risk": "at risk",
    "slipped": "slipped",
    "done": "done",
    "accepted": "accepted",
    "late": "late",
}
# A status's mark is an emoji span, so each chat draws it its own way (Teams and the console: no shortcodes).
_MARK = {"on-track": "large_green_circle", "at-risk": "large_yellow_circle", "slipped": "red_circle",
         "done": "white_check_mark", "accepted": "trophy", "late": "red_circle"}  # fmt: skip


def update_form(milestone_id: int, name: str = "the milestone") -> m.Form:
    """What Update opens: the status, the forecast date when it moved, and what moved in the owner's words."""
    statuses = tuple(m.Option(s, _SHOWN[s]) for s in STATUSES)
    inputs = (
        m.ChoiceInput("status", "Status", statuses, initial="on-track"),
        m.DateInput("forecast", "Forecast date (when it moved)", optional=True),
        m.TextInput("text", "What moved", multiline=True),
    )
    typed = f"/milestones update M{milestone_id} on-track|at-risk|slipped [forecast <date>] <what moved>"
    return m.Form("milestone_update", f"Update {name}"[:24], "Send", inputs, str(milestone_id), typed=typed)


def changes_form(milestone_id: int) -> m.Form:
    field = m.TextInput("note", "What needs to change", multiline=True)
    typed = f"/milestones changes M{milestone_id} <what needs to change>"
    return m.Form("milestone_changes", "Request changes", "Send", (field,), str(milestone_id), typed=typed)


def _update_button(milestone_id: int) -> m.Button:
    return m.Button(
        "milestone_update",
        str(milestone_id),
        "Update",
        "primary",
        typed=f"/milestones update M{milestone_id} …",
    )


def _dates(due: str | None, forecast: str | None) -> m.Line:
    due_words = in_words(date.fromisoformat(due)) if due else "no due date"
    if forecast and forecast != due:
        return m.line("due {due}, forecast {f}", due=due_words, f=in_words(date.fromisoformat(forecast)))
    return m.line("due {due}", due=due_words)


def _line(ms: MilestoneLine) -> m.Line:
    owner = (
        m.line(" — {p} ({side})", p=person(ms.owner), side=side_label(ms.owner.side)) if ms.owner else None
    )
    # Past its due date it is late, whatever its owner last said; what they said is kept beside it.
    late = m.line(" :hourglass: (last said: {s})", s=_SHOWN.get(ms.status, ms.status)) if ms.overdue else None
    last = (
        m.line(
            " · last update {at} by {by}: “{text}”",
            at=m.Time(ms.last.at),
            by=ms.last.by,
            text=ms.last.text[:120],
        )
        if ms.last
        else m.line(" · no written update yet")
    )
    accepted = m.line(" by {who}", who=ms.accepted_by) if ms.accepted_by else None
    return m.line(
        "{mark} *M{id} {name}*{owner}: {status}{accepted}, {dates}{late}{last}",
        mark=m.Emoji(_MARK[ms.standing]) if ms.standing in _MARK else None,
        id=str(ms.id),
        name=ms.name,
        owner=owner,
        status=_SHOWN.get(ms.standing, ms.standing),
        accepted=accepted,
        dates=_dates(
            ms.due.isoformat() if ms.due else None, ms.forecast.isoformat() if ms.forecast else None
        ),
        late=late,
        last=last,
    )


@reply.register
def _(result: MilestonesListed) -> m.Message:
    if not result.lines:
        return message(
            "No milestones", section(m.line("*{s}* has no milestones in its plan.", s=result.study_key))
        )
    lines = tuple(_line(ms) for ms in result.lines)
    hint = m.line(
        "Owners: /milestones update <milestone> on-track|at-risk|slipped [forecast <date>] <what moved>"
    )
    return message(
        f"Milestones of {result.study_key}",
        section(m.line("*Milestones of {s}*", s=result.study_key)),
        m.Section(lines),
        context(hint),
    )


@reply.register
def _(result: MilestoneUpdated) -> m.Message:
    told = " It is told in the study channel and to the admins." if result.slipped else ""
    text = m.line(":memo: Update recorded.{told}", told=told)
    return message(f"{result.line.name}: update recorded", section(text), section(_line(result.line)))


@reply.register
def _(result: MilestoneDone) -> m.Message:
    if result.asked:
        text = m.line(
            ":white_check_mark: *{n}* is done; {who} {verb} asked to accept it.",
            n=result.line.name,
            who=" and ".join(result.asked),
            verb="is" if len(result.asked) == 1 else "are",
        )
    else:
        text = m.line(":white_check_mark: *{n}* is done.", n=result.line.name)
    return message(f"{result.line.name} is done", section(text))


@reply.register
def _(result: MilestoneAccepted) -> m.Message:
    if result.already:
        text = m.line(
            "*{n}* was accepted already, by {by}; nothing changed.", n=result.line.name, by=result.by
        )
    else:
        text = m.line(
            ":trophy: You accepted *{n}*. Recorded, and told in the study channel.", n=result.line.name
        )
    return message(f"{result.line.name} accepted", section(text))


@reply.register
def _(result: ChangesRequested) -> m.Message:
    text = m.line("*{n}* goes back to its owner with your reason; it is open again.", n=result.line.name)
    return message(f"Changes requested to {result.line.name}", section(text))


@notice_view("milestone_update")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":memo: *{name}* — {status}, {dates}. {by}: “{words}”",
        name=data["name"],
        status=_SHOWN.get(data["status"], data["status"]),
        dates=_dates(data["due"], data["forecast"]),
        by=data["by"],
        words=data["text"],
    )
    return message(f"{data['name']}: {_SHOWN.get(data['status'], data['status'])}", section(text))


@notice_view("milestone_slip")
def _(data: dict[str, Any]) -> m.Message:
    previous = data.get("previous")
    moved = m.line(
        "Due {due}; forecast was {was}, now {now}.",
        due=_words(data["due"]),
        was=_words(previous),
        now=_words(data["forecast"] or previous),
    )
    text = m.line(
        ":warning: *{name}* is {status} ({study}). {by}: “{words}”",
        name=data["name"],
        status=_SHOWN.get(data["status"], data["status"]),
        study=data["study"],
        by=data["by"],
        words=data["text"],
    )
    return message(
        f"{data['name']} is {_SHOWN.get(data['status'], data['status'])}", section(text), section(moved)
    )


@notice_view("milestone_ask")
def _(data: dict[str, Any]) -> m.Message:
    owner = who(data["owner"])
    greeting = (
        m.line("Hi {o}, a reminder: ", o=owner.name)
        if data.get("reminder") and owner
        else (m.line("Hi {o}, ", o=owner.name) if owner else None)
    )
    text = m.line(
        ":spiral_calendar_pad: {hi}a written update on *{name}* ({dates}) is due. How is it going?",
        hi=greeting,
        name=data["name"],
        dates=_dates(data["due"], data["forecast"]),
    )
    return message(
        f"An update on {data['name']} is due", section(text), m.Actions((_update_button(data["id"]),))
    )


@notice_view("milestone_silent")
def _(data: dict[str, Any]) -> m.Message:
    owner = who(data["owner"])
    text = m.line(
        ":hourglass: *{name}* in {study} has had no written update for two periods; its owner is {o}.",
        name=data["name"],
        study=data["study"],
        o=(owner,) if owner else m.line("nobody"),
    )
    return message(f"No update on {data['name']}", section(text))


@notice_view("milestone_done")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(":white_check_mark: *{name}* is done, says {by}.", name=data["name"], by=data["by"])
    return message(f"{data['name']} is done", section(text))


@notice_view("milestone_accept")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":inbox_tray: {by} says the deliverable *{name}* ({study}) is done. Do you accept it?",
        by=data["by"],
        name=data["name"],
        study=data["study"],
    )
    buttons = (
        m.Button(
            "milestone_accept",
            str(data["id"]),
            "Accept",
            "primary",
            typed=f"/milestones accept M{data['id']}",
        ),
        m.Button(
            "milestone_changes",
            str(data["id"]),
            "Request changes",
            typed=f"/milestones changes M{data['id']} <what>",
        ),
    )
    return message(f"Accept {data['name']}?", section(text), m.Actions(buttons))


@notice_view("milestone_accepted")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(":trophy: *{name}* is accepted by {by}.", name=data["name"], by=data["by"])
    return message(f"{data['name']} accepted", section(text))


@notice_view("milestone_changes")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":leftwards_arrow_with_hook: {by} asks for changes to *{name}*: “{reason}”. It is open again.",
        by=data["by"],
        name=data["name"],
        reason=data["reason"],
    )
    return message(
        f"Changes requested to {data['name']}", section(text), m.Actions((_update_button(data["id"]),))
    )


def _words(day: str | None) -> str:
    return in_words(date.fromisoformat(day)) if day else "not set"
