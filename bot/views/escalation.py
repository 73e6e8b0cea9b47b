"""Escalation: the issue's card, the notices along the path, /escalate's answers and forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m
from bot.escalation import EscalationForm, IssueChanged, IssueHistory, IssueList, snapshot
from bot.views import context, form, message, notice_view, person, reply, section, who

SEVERITIES = {
    "low": ("white_circle", "Low"),
    "medium": ("large_yellow_circle", "Medium"),
    "high": ("large_orange_circle", "High"),
    "critical": ("red_circle", "Critical"),
}
STATES = {"open": "waiting for acknowledgement", "acknowledged": "acknowledged", "resolved": "resolved"}


def severity_line(severity: str) -> m.Line:
    emoji, label = SEVERITIES[severity]
    return (m.Emoji(emoji), m.Text(f" {label}"))


def _people(people: list[dict[str, Any]]) -> m.Line:
    return m.join([(who(p),) for p in people]) or m.line("nobody")


def issue_lines(data: dict[str, Any]) -> tuple[m.Line, ...]:
    """The card's facts: what, how bad, where it stands, who is on it, by when."""
    lines = [
        m.line(
            "*{ref}* · {severity} · {summary}",
            ref=data["ref"],
            severity=severity_line(data["severity"]),
            summary=data["summary"],
        )
    ]
    if data["state"] == "resolved":
        lines.append(
            m.line(
                ":white_check_mark: Resolved by {by}: {note}",
                by=data["resolved_by"] or "",
                note=data["resolution"] or "",
            )
        )
    elif data["state"] == "acknowledged":
        at = m.Time(datetime.fromisoformat(data["acknowledged_at"]))
        lines.append(
            m.line(":raised_hand: Acknowledged by {by} {at}", by=data["acknowledged_by"] or "", at=at)
        )
    else:
        deadline = None
        if data.get("deadline") and data.get("ack_within"):
            due = m.Time(datetime.fromisoformat(data["deadline"]))
            deadline = m.line(" — acknowledge within {within} ({due})", within=data["ack_within"], due=due)
        lines.append(
            m.line(
                "Level {level} of {levels}, *{name}*: {people}{deadline}",
                level=str(data["level"]),
                levels=str(data["levels"]),
                name=data["level_name"],
                people=_people(data["people"]),
                deadline=deadline,
            )
        )
    details = [m.line("Raised by {p}", p=who(data["reporter"]) or m.line("someone"))]
    if data.get("topic"):
        details.append(m.line("topic: {t}", t=data["topic"]))
    lines.append(m.join(details, " · "))
    if data.get("impact"):
        lines.append(m.line("*Impact:* {t}", t=data["impact"]))
    if data.get("tried"):
        lines.append(m.line("*Tried so far:* {t}", t=data["tried"]))
    return tuple(lines)


def _buttons(data: dict[str, Any]) -> m.Actions:
    value, ref = str(data["issue_id"]), data["ref"]
    elements = []
    if data["state"] == "open":
        elements.append(m.Button("esc_ack", value, "Acknowledge", "primary", typed=f"/escalate ack {ref}"))
    elements.append(m.Button("esc_resolve", value, "Resolve", typed=f"/escalate resolve {ref} <note>"))
    if data.get("next_level"):
        elements.append(
            m.Button("esc_climb", value, "Escalate now", "danger", typed=f"/escalate up {ref} <reason>")
        )
    return m.Actions(tuple(elements), id="escalation")


@notice_view("escalation_card")
def _(data: dict[str, Any]) -> m.Message:
    blocks: list[m.Block] = [m.Section(issue_lines(data))]
    if data["state"] != "resolved":
        blocks.append(_buttons(data))
    status = m.line(
        "Status: {state} · the agreed escalation path · /escalate show {ref}",
        state=STATES[data["state"]],
        ref=data["ref"],
    )
    blocks.append(context(status))
    return message(f"{data['ref']} ({data['severity']}): {data['summary']}", *blocks)


@notice_view("escalation_notify")
def _(data: dict[str, Any]) -> m.Message:
    lead = m.line(
        ":rotating_light: *{ref}* is with *{level}* now ({why}). "
        "Per the agreed path, you are asked to pick it up.",
        ref=data["ref"],
        level=data["level_name"],
        why=data["why"],
    )
    blocks: list[m.Block] = [section(lead), m.Section(issue_lines(data)), _buttons(data)]
    if data.get("after_hours"):  # a page: the reader learns why Cadence wrote at this hour
        blocks.insert(1, context(m.line(":crescent_moon: {why}.", why=data["after_hours"])))
    if data.get("history"):
        blocks.append(m.Context((m.line("{h}", h="\n".join(data["history"][-8:])),)))
    return message(f"{data['ref']} needs acknowledging: {data['summary']}", *blocks)


@notice_view("escalation_moved")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":arrow_up: *{ref}* moved from {before} to *{level}* ({why}), as the path agreed at kickoff says.",
        ref=data["ref"],
        before=data["from_level"],
        level=data["level_name"],
        why=data["why"],
    )
    return message(f"{data['ref']} moved to {data['level_name']}", section(text))


@notice_view("escalation_reporter")
def _(data: dict[str, Any]) -> m.Message:
    event, ref = data["event"], data["ref"]
    if event == "acknowledged":
        text = m.line(
            ":raised_hand: *{ref}* was acknowledged by {by}.", ref=ref, by=data["acknowledged_by"] or ""
        )
    elif event == "resolved":
        text = m.line(
            ":white_check_mark: *{ref}* was resolved by {by}: {note}",
            ref=ref,
            by=data["resolved_by"] or "",
            note=data["resolution"] or "",
        )
    else:
        text = m.line(
            ":arrow_up: *{ref}* is now with *{level}*: {people}.",
            ref=ref,
            level=data["level_name"],
            people=_people(data["people"]),
        )
    return message(f"{data['ref']}: {event}", section(text))


@reply.register
def _(result: IssueChanged) -> m.Message:
    data, issue = snapshot(result.issue), result.issue
    if result.what == "raised":
        nxt = (
            m.line(" If nobody acknowledges in time, it goes to {n}.", n=issue.next_level.name)
            if issue.next_level
            else None
        )
        text = m.line(
            ":white_check_mark: Raised *{ref}*. {level} ({people}) are notified "
            "and the card is in the study channel.{nxt}",
            ref=issue.ref,
            level=issue.level.name,
            people=_people(data["people"]),
            nxt=nxt,
        )
    elif result.what == "already":
        text = m.line(
            "*{ref}* is {state} already; nothing changed.", ref=issue.ref, state=STATES[issue.state]
        )
    else:
        text = m.line("*{ref}* {what}.", ref=issue.ref, what=result.what)
    return message(f"{issue.ref}: {result.what}", section(text), m.Section(issue_lines(data)))


@reply.register
def _(result: IssueList) -> m.Message:
    if not result.issues:
        return message("No open issues", section(m.line("No open issues in this study. :tada:")))
    lines = [m.line("*Open issues*")]
    for issue in result.issues:
        age = (result.now - issue.raised_at).total_seconds() / 3600
        lines.append(
            m.line(
                "• *{ref}* {severity} {summary} — {state}, level {number} {name} ({people}), {age}h old",
                ref=issue.ref,
                severity=severity_line(issue.severity),
                summary=issue.summary[:80],
                state=STATES[issue.state],
                number=str(issue.level.number),
                name=issue.level.name,
                people=m.join([(person(p),) for p in issue.level.people]),
                age=f"{age:.0f}",
            )
        )
    return message(f"{len(result.issues)} open issues", m.Section(tuple(lines)))


@reply.register
def _(result: IssueHistory) -> m.Message:
    history = tuple(
        m.line("{when} · {who}: {what}", when=m.Time(when), who=name, what=what)
        for when, name, what in result.events
    )
    blocks: list[m.Block] = [m.Section(issue_lines(snapshot(result.issue)))]
    if history:
        blocks.append(m.Section(history))
    return message(f"{result.issue.ref} and its history", *blocks)


@form.register
def _(result: EscalationForm) -> m.Form:
    severities = tuple(m.Option(s, s.capitalize()) for s in result.severities)
    inputs: list[m.Block | m.Input] = [
        m.TextInput("summary", "What is the problem?"),
        m.ChoiceInput("severity", "Severity", severities, initial="medium"),
    ]
    if result.topics:
        inputs.append(
            m.ChoiceInput(
                "topic", "Topic", tuple(m.Option(t[:150], t) for t in result.topics[:100]), optional=True
            )
        )
    inputs += [
        m.TextInput("impact", "Impact", multiline=True, optional=True),
        m.TextInput("tried", "What has been tried", multiline=True, optional=True),
    ]
    typed = "/escalate [low|medium|high|critical] <summary>, e.g. /escalate high Kit shipment 14 too warm"
    return m.Form("escalation_form", "Escalate", "Raise", tuple(inputs), result.study_key, typed=typed)


def note_form(form_id: str, issue_id: int, title: str, label: str, typed: str) -> m.Form:
    """A one-field form: the resolution note, or the reason to escalate now."""
    return m.Form(
        form_id, title, "Send", (m.TextInput("note", label, multiline=True),), str(issue_id), typed=typed
    )
