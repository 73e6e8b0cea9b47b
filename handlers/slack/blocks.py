"""Block Kit rendering of core results. Every piece of plan or user text is escaped here."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from typing import Any

from bot.checkins import AnswerSaved, Participation, RoundOpened, RoundStatus, SkipAdded
from bot.directory import Contact
from bot.errors import CadenceError
from bot.escalation import EscalationForm, IssueChanged, IssueHistory, IssueList, snapshot
from bot.export import ExportSent
from bot.minutes import ActionChanged, ActionList, DecisionLog, MinutesDraft, MinutesForm, MinutesPosted
from bot.questions import Asked, ChooseTopic, QuestionClosed, QuestionList, Rerouted
from bot.replies import Notice
from bot.reports import HomeView, ReportRequested
from bot.views import form as form_view
from bot.views import has_notice
from bot.views import notice as notice_view
from bot.views import reply as reply_view
from bot.views.general import apology, refusal
from bot.wording import describe_preference, describe_role, side_label
from handlers.slack import layout
from handlers.slack.layout import SECTION_LIMIT, escape, named, section, slack_time


def mention(contact: Contact) -> str:
    return named(contact.name, contact.slack_id, contact.handle)


def context(*texts: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": t[:SECTION_LIMIT]} for t in texts[:10]],
    }


def button(action_id: str, value: str, label: str, style: str | None = None) -> dict[str, Any]:
    """A Block Kit button; `style` is primary or danger."""
    element = {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": label},
    }
    return element | ({"style": style} if style else {})


def message(fallback: str, blocks: list[dict[str, Any]], *, in_channel: bool = False) -> dict[str, Any]:
    """A reply; `fallback` is plain text for notifications, escaped here because Slack parses it too."""
    return {
        "response_type": "in_channel" if in_channel else "ephemeral",
        "text": escape(fallback),
        "blocks": blocks[:50],
    }


def chunked_sections(lines: list[str]) -> list[dict[str, Any]]:
    """Lines in as few sections as Slack's length limit allows."""
    blocks, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SECTION_LIMIT:
            blocks.append(section(current))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        blocks.append(section(current))
    return blocks


def _person_field(label: str, contact: Contact | None) -> dict[str, Any]:
    if contact is None:
        return {"type": "mrkdwn", "text": f"*{label}*\nnobody named yet"}
    details = escape(describe_role(contact))
    return {
        "type": "mrkdwn",
        "text": f"*{label}*\n{mention(contact)}\n{details}\n_{escape(describe_preference(contact))}_",
    }


@singledispatch
def reply(result: Any) -> dict[str, Any]:
    """Render a core result as a Slack message: its view (bot.views) drawn as Block Kit."""
    return layout.message(reply_view(result))


def error_reply(error: CadenceError) -> dict[str, Any]:
    """A friendly ephemeral message for a user-facing error."""
    return layout.message(refusal(error))


def failure_reply(reference: str) -> dict[str, Any]:
    """What a user sees when something unexpected broke: no traceback, a reference for the logs."""
    return layout.message(apology(reference))


# --- notices: what the outbox sends ------------------------------------------------------------

_NOTICES: dict[str, Any] = {}


def notice_renderer(kind: str):
    def register(render: Any) -> Any:
        _NOTICES[kind] = render
        return render

    return register


def render_notice(notice: Notice) -> dict[str, Any]:
    """A Notice as chat.postMessage arguments (`text` and `blocks`)."""
    render = _NOTICES.get(notice.kind)
    if render is None and has_notice(notice.kind):
        render = lambda data: layout.message(notice_view(Notice(notice.kind, data)))  # noqa: E731
    if render is None:
        raise ValueError(f"no Slack rendering for notice '{notice.kind}'")
    reply = render(notice.data)
    return {"text": reply["text"], "blocks": reply["blocks"]}


STATUS_LABELS = {
    "on_track": ":large_green_circle: On track",
    "at_risk": ":large_yellow_circle: At risk",
    "off_track": ":red_circle: Off track",
}


def _checkin_buttons(data: dict[str, Any], *, answered: bool) -> dict[str, Any]:
    value = f"{data['study']}|{data['week']}"
    answer = button("checkin_answer", value, "Edit answer" if answered else "Answer", "primary")
    snooze = button("checkin_snooze", value, "Remind me in 2h")
    return {"type": "actions", "block_id": "checkin", "elements": [answer] if answered else [answer, snooze]}


def _checkin_message(data: dict[str, Any], opening: str) -> dict[str, Any]:
    study = escape(data["study"])
    questions = "\n".join(f"{i}. {escape(q)}" for i, q in enumerate(data["questions"], 1))
    blocks = [section(opening)]
    if questions:
        blocks.append(section(questions))
    answered = data.get("answered")
    if answered:
        blocks.append(
            section(
                f":white_check_mark: Answered: {STATUS_LABELS[answered]}. You can edit it until the "
                "round closes."
            )
        )
    blocks.append(_checkin_buttons(data, answered=bool(answered)))
    blocks.append(
        context(f"{study} · week {data['week']} · the digest goes to the study channel when it closes")
    )
    return message(f"Check-in for {data['study']} (week {data['week']})", blocks)


@notice_renderer("checkin_prompt")
def _(data: dict[str, Any]) -> dict[str, Any]:
    first_name = escape(data["name"].split()[0])
    return _checkin_message(
        data, f":wave: Hi {first_name}, it's check-in time for *{escape(data['study'])}*."
    )


@notice_renderer("checkin_reminder")
def _(data: dict[str, Any]) -> dict[str, Any]:
    first_name = escape(data["name"].split()[0])
    return _checkin_message(
        data, f":bell: {first_name}, a reminder: your check-in for *{escape(data['study'])}* is still open."
    )


def _answer_lines(entry: dict[str, Any]) -> str:
    who = named(entry["name"], entry.get("slack_id"), entry.get("handle"))
    late = " _(late)_" if entry.get("late") else ""
    lines = [f"{STATUS_LABELS[entry['status']]} {who}{late}"]
    for question, answer in zip(entry["questions"], entry["answers"], strict=False):
        if answer.strip():
            lines.append(f"> *{escape(question)}* {escape(answer)}")
    return "\n".join(lines)


@notice_renderer("checkin_digest")
def _(data: dict[str, Any]) -> dict[str, Any]:
    blocks = [section(f":memo: *Check-in digest — {escape(data['study'])}, week {data['week']}*")]
    for group in data["groups"]:
        blocks.append(section(f"*{side_label(group['side'])}*"))
        blocks.extend(section(_answer_lines(entry)) for entry in group["entries"])
    if not data["groups"]:
        blocks.append(section("Nobody answered this week."))
    silent = ", ".join(escape(name) for name in data["silent"])
    blocks.append(context(f"No answer from: {silent}" if silent else "Everyone answered. :tada:"))
    if data.get("overdue"):
        overdue = [f"• {escape(i['text'])} — {escape(i['owner'])}, due {i['due']}" for i in data["overdue"]]
        blocks.extend(chunked_sections(["*Overdue action items*", *overdue]))
    answered = len(data["answered"])
    return message(f"Check-in digest for {data['study']}, week {data['week']}: {answered} answered", blocks)


@notice_renderer("checkin_late_answer")
def _(data: dict[str, Any]) -> dict[str, Any]:
    return message(f"Late check-in from {data['name']}", [section(_answer_lines(data | {"late": True}))])


def checkin_modal(form: Any) -> dict[str, Any]:
    """The Answer modal: one field per question and the status."""
    status_options = [
        {"text": {"type": "plain_text", "text": label.split(" ", 1)[1]}, "value": value}
        for value, label in STATUS_LABELS.items()
    ]
    status: dict[str, Any] = {
        "type": "static_select",
        "action_id": "value",
        "options": status_options,
        "placeholder": {"type": "plain_text", "text": "How is it going?"},
    }
    if form.status:
        status["initial_option"] = next(o for o in status_options if o["value"] == form.status)
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": "status",
            "label": {"type": "plain_text", "text": "Status"},
            "element": status,
        }
    ]
    for i, question in enumerate(form.questions):
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": True}
        if i < len(form.answers) and form.answers[i]:
            element["initial_value"] = form.answers[i]
        blocks.append(
            {
                "type": "input",
                "block_id": f"q{i}",
                "optional": True,
                "label": {"type": "plain_text", "text": question[:2000]},
                "element": element,
            }
        )
    if form.closed:
        blocks.append(context("This round has closed: your answer is added to the digest's thread."))
    return {
        "type": "modal",
        "callback_id": "checkin_answer",
        "private_metadata": f"{form.study_key}|{form.week}",
        "title": {"type": "plain_text", "text": f"Check-in {form.week}"[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


@reply.register
def _(result: RoundOpened) -> dict[str, Any]:
    closes = slack_time(result.closes_at)
    if result.already:
        text = (
            f"This week's check-in ({result.week}) is already {result.already}; no second round was opened."
        )
        return message(text, [section(text)])
    text = f"Opened the check-in for week {result.week}: {len(result.prompted)} people are being asked."
    return message(
        text, [section(text), context(f"It closes {closes}; the digest then goes to the study channel.")]
    )


@reply.register
def _(result: RoundStatus) -> dict[str, Any]:
    if result.week is None:
        text = "No check-in round has opened yet."
        return message(text, [section(text)])
    answered = (
        "\n".join(f"• {escape(name)}: {STATUS_LABELS[status]}" for name, status in result.answered)
        or "nobody yet"
    )
    waiting = ", ".join(escape(name) for name in result.waiting) or "nobody"
    closes = slack_time(result.closes_at)
    state = f"open until {closes}" if result.state == "open" else "closed"
    blocks = [
        section(f"*Check-in, week {result.week}* ({state})"),
        section(f"*Answered*\n{answered}"),
        section(f"*Waiting for*\n{waiting}"),
    ]
    return message(f"Check-in week {result.week}: {len(result.answered)} answered", blocks)


@reply.register
def _(result: SkipAdded) -> dict[str, Any]:
    text = (
        f"No check-in will open on {result.day}."
        if result.added
        else f"{result.day} was already skipped; nothing changed."
    )
    return message(text, [section(text)])


@reply.register
def _(result: AnswerSaved) -> dict[str, Any]:
    what = "updated" if result.edited else "in"
    text = f"Thanks: your check-in for week {result.week} is {what} ({STATUS_LABELS[result.status]})."
    if result.late:
        text += " The round had closed, so it was added under the digest."
    return message(text, [section(text)])


@reply.register
def _(result: Participation) -> dict[str, Any]:
    if not result.weeks:
        text = "No check-in round has opened yet."
        return message(text, [section(text)])

    def rate(answered: int, asked: int) -> str:
        return f"{answered}/{asked} ({answered * 100 // asked}%)" if asked else "—"

    sides = " · ".join(f"{side_label(side)} {rate(a, n)}" for side, a, n in result.sides)
    people = "\n".join(
        f"• {escape(p.name)} ({side_label(p.side)}): {rate(p.answered, p.asked)}, streak {p.streak}"
        for p in sorted(result.people, key=lambda p: (p.side, -p.answered / p.asked, p.name))
    )
    blocks = [
        section(f"*Check-in participation, last {len(result.weeks)} round(s)*"),
        section(sides),
        *chunked_sections(people.splitlines()),
    ]
    return message(f"Check-in participation over {len(result.weeks)} rounds", blocks)


# --- routed questions ----------------------------------------------------------------------------


def _person_mention(who: dict[str, Any] | None) -> str:
    if not who:
        return "someone"
    return named(who["name"], who.get("slack_id"), who.get("handle"))


def _question_buttons(question_id: int) -> dict[str, Any]:
    value = str(question_id)
    return {
        "type": "actions",
        "block_id": "question",
        "elements": [
            button("question_answered", value, "Answered", "primary"),
            button("question_not_mine", value, "Not mine"),
        ],
    }


def _quote(text: str) -> str:
    return "\n".join(f"> {escape(line)}" for line in text.splitlines() or [""])


@notice_renderer("question")
def _(data: dict[str, Any]) -> dict[str, Any]:
    to = _person_mention(data["to"])
    cover = (
        f" (covering for {_person_mention(data['covering_for'])}, who is away)"
        if data.get("covering_for")
        else ""
    )
    passed = " (passed on by the person first asked)" if data.get("reason") == "not mine" else ""
    blocks = [
        section(
            f":question: *{escape(data['ref'])}* · {escape(data['topic'])}\n{to}{cover}, "
            f"{_person_mention(data['asker'])} asks{passed}:\n{_quote(data['text'])}"
        ),
    ]
    due = datetime.fromisoformat(data["due_at"])
    if data.get("answered_by"):
        blocks.append(context(f":white_check_mark: Answered — marked by {escape(data['answered_by'])}"))
    elif data.get("passed_on_by"):
        blocks.append(context(f":arrow_right: Passed on by {escape(data['passed_on_by'])}"))
    else:
        blocks.append(_question_buttons(data["question_id"]))
        blocks.append(context(f"Answer in the thread · expected by {slack_time(due)}"))
    return message(f"{data['ref']}: a question for {data['to']['name']}", blocks)


@notice_renderer("question_answered")
def _(data: dict[str, Any]) -> dict[str, Any]:
    ref, by = escape(data["ref"]), escape(data["by"])
    text = f":white_check_mark: Your question *{ref}* was marked answered by {by}."
    return message(f"{data['ref']} answered", [section(text), section(_quote(data["text"]))])


@notice_renderer("question_replied")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f":speech_balloon: {escape(data['by'])} replied to your question *{escape(data['ref'])}*. "
        "Does that answer it?"
    )
    answered = button("question_answered", str(data["question_id"]), "Yes, it's answered", "primary")
    blocks = [
        section(text),
        section(_quote(data["text"])),
        {"type": "actions", "block_id": "question", "elements": [answered]},
    ]
    return message(f"{data['by']} replied to {data['ref']}", blocks)


@notice_renderer("question_reminder")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f":bell: *{escape(data['ref'])}* ({escape(data['topic'])}) from {_person_mention(data['asker'])} "
        f"is waiting for your answer:\n{_quote(data['text'])}"
    )
    return message(
        f"{data['ref']} is waiting for your answer",
        [section(text), _question_buttons(_question_number(data))],
    )


@notice_renderer("question_backup")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f":sos: *{escape(data['ref'])}* ({escape(data['topic'])}) has had no answer from "
        f"{_person_mention(data['assignee'])}. As the topic's backup, can you help "
        f"{_person_mention(data['asker'])}?\n{_quote(data['text'])}"
    )
    return message(
        f"{data['ref']} needs the backup", [section(text), _question_buttons(_question_number(data))]
    )


@notice_renderer("question_backup_asker")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f"Your question *{escape(data['ref'])}* has no answer yet from {_person_mention(data['assignee'])}, "
        f"so Cadence asked {_person_mention(data['backup'])}, the topic's backup, too."
    )
    return message(f"{data['ref']}: the backup is asked too", [section(text)])


@notice_renderer("question_unclear")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f":compass: *{escape(data['ref'])}* on *{escape(data['topic'])}* has been routed {data['routes']} "
        "times: who owns this topic looks unclear."
    )
    hint = "An admin can settle it: /who-owns set <topic> owner|backup @person."
    return message(
        f"{data['ref']}: ownership of {data['topic']} looks unclear", [section(text), context(hint)]
    )


def _question_number(data: dict[str, Any]) -> int:
    return int(data["ref"].rsplit("-Q", 1)[1])


@reply.register
def _(result: Asked) -> dict[str, Any]:
    where = f"in <#{result.in_channel}>" if result.in_channel else "by direct message, as they prefer"
    cover = f", covering for {mention(result.covering_for)} who is away" if result.covering_for else ""
    text = (
        f":incoming_envelope: Your question *{escape(result.ref)}* went to {mention(result.to)}{cover} "
        f"({escape(result.topic)}), {where}."
    )
    note = (
        f"Expected answer by {slack_time(result.due_at)}; Cadence chases it until then. /ask list shows it."
    )
    return message(f"{result.ref} went to {result.to.name}", [section(text), context(note)])


@reply.register
def _(result: ChooseTopic) -> dict[str, Any]:
    if result.ambiguous:
        text = f"Your question *{escape(result.ref)}* fits more than one topic. Which is it about?"
    else:
        text = f"No topic fits your question *{escape(result.ref)}* clearly. Which is it about?"
    options = [(t.topic, f"{result.question_id}|{t.topic}") for t in result.options]
    if len(options) <= 5:
        elements = [
            button(f"question_topic_{i}", value, topic[:75]) for i, (topic, value) in enumerate(options)
        ]
    else:
        elements = [
            {
                "type": "static_select",
                "action_id": "question_topic_select",
                "placeholder": {"type": "plain_text", "text": "Choose a topic"},
                "options": [
                    {"text": {"type": "plain_text", "text": topic[:75]}, "value": value[:150]}
                    for topic, value in options[:100]
                ],
            }
        ]
    blocks = [
        section(text),
        section(_quote(result.text)),
        {"type": "actions", "block_id": "question_topic", "elements": elements},
    ]
    return message(f"Which topic is {result.ref} about?", blocks)


@reply.register
def _(result: QuestionClosed) -> dict[str, Any]:
    ref, by = escape(result.ref), escape(result.by)
    text = f":white_check_mark: *{ref}* is answered (marked by {by}). No more chasing."
    return message(f"{result.ref} answered", [section(text)])


@reply.register
def _(result: Rerouted) -> dict[str, Any]:
    text = f":arrow_right: *{escape(result.ref)}* now goes to {mention(result.to)} ({escape(result.topic)})."
    return message(f"{result.ref} passed to {result.to.name}", [section(text)])


@reply.register
def _(result: QuestionList) -> dict[str, Any]:
    def lines(items, label: str) -> list[str]:
        out = [f"*{label}*"]
        for q in items:
            late = " :hourglass: overdue" if q.overdue else ""
            out.append(
                f"• *{escape(q.ref)}* {escape(q.text[:80])} — {escape(q.who)} ({q.age_hours:.0f}h){late}"
            )
        return out + ([] if items else ["nothing"])

    blocks = chunked_sections(lines(result.mine, "My open questions")) + chunked_sections(
        lines(result.waiting_on_me, "Waiting on me")
    )
    return message(f"{len(result.mine)} open, {len(result.waiting_on_me)} waiting on you", blocks)


# --- owners confirm the map -----------------------------------------------------------------------


# --- escalation -----------------------------------------------------------------------------------

SEVERITY_LABELS = {
    "low": ":white_circle: Low",
    "medium": ":large_yellow_circle: Medium",
    "high": ":large_orange_circle: High",
    "critical": ":red_circle: Critical",
}
STATE_LABELS = {"open": "waiting for acknowledgement", "acknowledged": "acknowledged", "resolved": "resolved"}


def _people(people: list[dict[str, Any]]) -> str:
    return ", ".join(_person_mention(p) for p in people) or "nobody"


def _issue_lines(data: dict[str, Any]) -> list[str]:
    """The card's facts: what, how bad, where it stands, who is on it, by when."""
    lines = [f"*{escape(data['ref'])}* · {SEVERITY_LABELS[data['severity']]} · {escape(data['summary'])}"]
    if data["state"] == "resolved":
        lines.append(
            f":white_check_mark: Resolved by {escape(data['resolved_by'] or '')}: "
            f"{escape(data['resolution'] or '')}"
        )
    elif data["state"] == "acknowledged":
        at = datetime.fromisoformat(data["acknowledged_at"])
        lines.append(
            f":raised_hand: Acknowledged by {escape(data['acknowledged_by'] or '')} {slack_time(at)}"
        )
    else:
        deadline = ""
        if data.get("deadline") and data.get("ack_within"):
            due = slack_time(datetime.fromisoformat(data["deadline"]))
            deadline = f" — acknowledge within {data['ack_within']} ({due})"
        lines.append(
            f"Level {data['level']} of {data['levels']}, *{escape(data['level_name'])}*: "
            f"{_people(data['people'])}{deadline}"
        )
    details = [f"Raised by {_person_mention(data['reporter'])}"]
    if data.get("topic"):
        details.append(f"topic: {escape(data['topic'])}")
    lines.append(" · ".join(details))
    if data.get("impact"):
        lines.append(f"*Impact:* {escape(data['impact'])}")
    if data.get("tried"):
        lines.append(f"*Tried so far:* {escape(data['tried'])}")
    return lines


def _issue_buttons(data: dict[str, Any]) -> dict[str, Any]:
    value = str(data["issue_id"])
    elements = []
    if data["state"] == "open":
        elements.append(button("esc_ack", value, "Acknowledge", "primary"))
    elements.append(button("esc_resolve", value, "Resolve"))
    if data.get("next_level"):
        elements.append(button("esc_climb", value, "Escalate now", "danger"))
    return {"type": "actions", "block_id": "escalation", "elements": elements}


@notice_renderer("escalation_card")
def _(data: dict[str, Any]) -> dict[str, Any]:
    blocks = [section("\n".join(_issue_lines(data)))]
    if data["state"] != "resolved":
        blocks.append(_issue_buttons(data))
    blocks.append(
        context(
            f"Status: {STATE_LABELS[data['state']]} · the agreed escalation path · "
            f"/escalate show {escape(data['ref'])}"
        )
    )
    return message(f"{data['ref']} ({data['severity']}): {data['summary']}", blocks)


@notice_renderer("escalation_notify")
def _(data: dict[str, Any]) -> dict[str, Any]:
    lead = (
        f":rotating_light: *{escape(data['ref'])}* is with *{escape(data['level_name'])}* now "
        f"({escape(data['why'])}). Per the agreed path, you are asked to pick it up."
    )
    blocks = [section(lead), section("\n".join(_issue_lines(data))), _issue_buttons(data)]
    if data.get("history"):
        blocks.append(context("\n".join(escape(h) for h in data["history"][-8:])))
    return message(f"{data['ref']} needs acknowledging: {data['summary']}", blocks)


@notice_renderer("escalation_moved")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f":arrow_up: *{escape(data['ref'])}* moved from {escape(data['from_level'])} to "
        f"*{escape(data['level_name'])}* ({escape(data['why'])}), as the path agreed at kickoff says."
    )
    return message(f"{data['ref']} moved to {data['level_name']}", [section(text)])


@notice_renderer("escalation_reporter")
def _(data: dict[str, Any]) -> dict[str, Any]:
    event = data["event"]
    ref = escape(data["ref"])
    if event == "acknowledged":
        text = f":raised_hand: *{ref}* was acknowledged by {escape(data['acknowledged_by'] or '')}."
    elif event == "resolved":
        text = (
            f":white_check_mark: *{ref}* was resolved by {escape(data['resolved_by'] or '')}: "
            f"{escape(data['resolution'] or '')}"
        )
    else:
        text = f":arrow_up: *{ref}* is now with *{escape(data['level_name'])}*: {_people(data['people'])}."
    return message(f"{data['ref']}: {event}", [section(text)])


@reply.register
def _(result: IssueChanged) -> dict[str, Any]:
    data = _issue_data(result.issue)
    if result.what == "raised":
        nxt = (
            f" If nobody acknowledges in time, it goes to {escape(result.issue.next_level.name)}."
            if result.issue.next_level
            else ""
        )
        text = (
            f":white_check_mark: Raised *{escape(result.issue.ref)}*. {escape(result.issue.level.name)} "
            f"({_people(data['people'])}) are notified and the card is in the study channel.{nxt}"
        )
    elif result.what == "already":
        text = f"*{escape(result.issue.ref)}* is {STATE_LABELS[result.issue.state]} already; nothing changed."
    else:
        text = f"*{escape(result.issue.ref)}* {result.what}."
    return message(
        f"{result.issue.ref}: {result.what}", [section(text), section("\n".join(_issue_lines(data)))]
    )


@reply.register
def _(result: IssueList) -> dict[str, Any]:
    if not result.issues:
        return message("No open issues", [section("No open issues in this study. :tada:")])
    lines = ["*Open issues*"]
    for issue in result.issues:
        age = (result.now - issue.raised_at).total_seconds() / 3600
        lines.append(
            f"• *{escape(issue.ref)}* {SEVERITY_LABELS[issue.severity]} {escape(issue.summary[:80])} — "
            f"{STATE_LABELS[issue.state]}, level {issue.level.number} {escape(issue.level.name)} "
            f"({', '.join(mention(p) for p in issue.level.people)}), {age:.0f}h old"
        )
    return message(f"{len(result.issues)} open issues", chunked_sections(lines))


@reply.register
def _(result: IssueHistory) -> dict[str, Any]:
    data = _issue_data(result.issue)
    history = [f"{slack_time(when)} · {escape(who)}: {escape(what)}" for when, who, what in result.events]
    return message(
        f"{result.issue.ref} and its history",
        [section("\n".join(_issue_lines(data))), *chunked_sections(history)],
    )


def _issue_data(issue: Any) -> dict[str, Any]:
    return snapshot(issue)  # the same plain data the notices carry


@singledispatch
def modal_for(result: Any) -> dict[str, Any] | None:
    """A result that asks for a form is shown as a modal instead of a message."""
    form = form_view(result)
    return layout.modal(form) if form is not None else None


@modal_for.register
def _(result: EscalationForm) -> dict[str, Any]:
    def option(text: str, value: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text[:75]}, "value": value[:150]}

    def text_input(block_id: str, label: str, *, optional: bool, multiline: bool = False) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "optional": optional,
            "label": {"type": "plain_text", "text": label},
            "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline},
        }

    severity = {
        "type": "static_select",
        "action_id": "value",
        "initial_option": option("Medium", "medium"),
        "options": [option(s.capitalize(), s) for s in result.severities],
    }
    blocks = [
        text_input("summary", "What is the problem?", optional=False),
        {
            "type": "input",
            "block_id": "severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": severity,
        },
    ]
    if result.topics:
        blocks.append(
            {
                "type": "input",
                "block_id": "topic",
                "optional": True,
                "label": {"type": "plain_text", "text": "Topic"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": [option(t, t) for t in result.topics[:100]],
                },
            }
        )
    blocks += [
        text_input("impact", "Impact", optional=True, multiline=True),
        text_input("tried", "What has been tried", optional=True, multiline=True),
    ]
    return {
        "type": "modal",
        "callback_id": "escalation_form",
        "private_metadata": result.study_key,
        "title": {"type": "plain_text", "text": "Escalate"},
        "submit": {"type": "plain_text", "text": "Raise"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def form_for_button(action_id: str, value: str) -> dict[str, Any]:
    """The form a button opens: Resolve asks for a resolution note, Escalate now for a reason, Can't
    make it for a new date."""
    number = int(value)
    return {
        "esc_resolve": lambda: note_modal("escalation_resolve", number, "Resolve", "Resolution note"),
        "esc_climb": lambda: note_modal("escalation_climb", number, "Escalate now", "Why now?"),
        "action_cant": lambda: reschedule_modal(number),
    }[action_id]()


def note_modal(callback_id: str, issue_id: int, title: str, label: str) -> dict[str, Any]:
    """A one-field modal: the resolution note, or the reason to escalate now."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": str(issue_id),
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": label},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            }
        ],
    }


# --- minutes, actions, decisions ------------------------------------------------------------------


def _due(due: str | None) -> str:
    return f"due {date_label(due)}" if due else "no due date"


def date_label(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%a %d %b %Y") if "T" not in iso else iso


def _minutes_blocks(data: dict[str, Any], *, preview: bool) -> list[dict[str, Any]]:
    head = f":spiral_note_pad: *Minutes — {escape(data['meeting'])}, {date_label(data['held_on'])}*"
    by_side: dict[str, list[str]] = {}
    for person in data["attendees"]:
        by_side.setdefault(person["side"], []).append(_person_mention(person))
    attendees = " · ".join(f"{side_label(side)}: {', '.join(names)}" for side, names in by_side.items())
    blocks = [section(head)]
    if attendees:
        blocks.append(context(f"Attendees — {attendees}"))
    if data["decisions"]:
        blocks.extend(chunked_sections(["*Decisions*", *(f"• {escape(d)}" for d in data["decisions"])]))
    tracked = [a for a in data["actions"] if a["owner"]]
    if tracked:
        lines = ["*Action items*"] + [
            f"• {_person_mention(a['owner'])} — {escape(a['text'])} ({_due(a['due'])})" for a in tracked
        ]
        blocks.extend(chunked_sections(lines))
    unowned = [a for a in data["actions"] if not a["owner"]]
    if unowned:
        blocks.extend(chunked_sections(["*Needs an owner*", *(f"• {escape(a['line'])}" for a in unowned)]))
    if data["notes"]:
        blocks.extend(chunked_sections(["*Notes*", *(escape(n) for n in data["notes"])]))
    if preview and data["problems"]:
        blocks.extend(
            chunked_sections(
                [
                    ":warning: *Not fully understood* (kept as written)",
                    *(f"• {escape(p)}" for p in data["problems"]),
                ]
            )
        )
    blocks.append(context(f"Note taker: {_person_mention(data['note_taker'])} · {escape(data['ref'])}"))
    return blocks


@notice_renderer("minutes")
def _(data: dict[str, Any]) -> dict[str, Any]:
    return message(f"Minutes: {data['meeting']}, {data['held_on']}", _minutes_blocks(data, preview=False))


@notice_renderer("minutes_actions")
def _(data: dict[str, Any]) -> dict[str, Any]:
    blocks = [
        section(
            f":spiral_note_pad: From the minutes of *{escape(data['meeting'])}* "
            f"({date_label(data['held_on'])}), your action items:"
        )
    ]
    for action in data["actions"]:
        blocks.append(section(f"• {escape(action['text'])} ({_due(action['due'])})"))
        blocks.append(_action_item_buttons(f"action_{action['id']}", action["id"]))
    return message(f"Your action items from {data['meeting']}", blocks)


@notice_renderer("action_done")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = f":white_check_mark: Done: {escape(data['text'])} ({escape(data['owner'])})"
    return message(f"Done: {data['text']}", [section(text)])


@notice_renderer("action_reminder")
def _(data: dict[str, Any]) -> dict[str, Any]:
    when = {"before": "is due tomorrow", "due": "is due today"}.get(data["kind"], "is overdue")
    text = f":alarm_clock: Your action item {when} ({date_label(data['due'])}): {escape(data['text'])}"
    buttons = _action_item_buttons("action", data["id"])
    return message(f"Action item {when}", [section(text), context(escape(data["meeting"])), buttons])


def _action_item_buttons(block_id: str, item_id: int) -> dict[str, Any]:
    """Done, or Can't make it (which asks for a new date)."""
    value = str(item_id)
    elements = [
        button("action_done", value, "Done", "primary"),
        button("action_cant", value, "Can't make it"),
    ]
    return {"type": "actions", "block_id": block_id, "elements": elements}


@notice_renderer("minutes_chase")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f":spiral_note_pad: The minutes of *{escape(data['meeting'])}* ({date_label(data['held_on'])}) are "
        "not posted yet. Paste your notes with /minutes, or open the form with /minutes alone."
    )
    return message(f"Minutes of {data['meeting']} are due", [section(text)])


@notice_renderer("minutes_chase_admins")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f":spiral_note_pad: The minutes of *{escape(data['meeting'])}* ({date_label(data['held_on'])}) are "
        f"still not posted; {escape(data['note_taker'])} takes the notes for it."
    )
    return message(f"Minutes of {data['meeting']} are late", [section(text)])


@reply.register
def _(result: MinutesDraft) -> dict[str, Any]:
    intro = section(f"Here is what Cadence read. Post *{escape(result.ref)}* to the study channel?")
    buttons = {
        "type": "actions",
        "block_id": "minutes",
        "elements": [
            button("minutes_post", str(result.minutes_id), "Post minutes", "primary"),
            button("minutes_cancel", str(result.minutes_id), "Discard"),
        ],
    }
    return message(
        f"Confirm the minutes {result.ref}", [intro, *_minutes_blocks(result.data, preview=True), buttons]
    )


@reply.register
def _(result: MinutesPosted) -> dict[str, Any]:
    if result.actions == result.decisions == 0 and result.channel is None:
        text = f"Discarded the draft {escape(result.ref)}."
    else:
        where = f"<#{result.channel}>" if result.channel else "your direct messages"
        text = (
            f":white_check_mark: Posted *{escape(result.ref)}* in {where}: {result.decisions} decision(s), "
            f"{result.actions} action item(s); each owner got theirs."
        )
    return message(f"{result.ref}", [section(text)])


def _action_line(item: Any) -> str:
    due = f"due {item.due_on:%a %d %b}" if item.due_on else "no due date"
    late = " :hourglass: *overdue*" if item.overdue else ""
    return f"• *A{item.id}* {escape(item.text)} — {escape(item.owner)}, {due}{late}"


@reply.register
def _(result: ActionList) -> dict[str, Any]:
    title = "*The study's open action items*" if result.everyone else "*Your open action items*"
    if not result.items:
        return message("No open action items", [section(f"{title}\nnothing open. :tada:")])
    return message(
        f"{len(result.items)} open action items",
        chunked_sections([title, *(_action_line(i) for i in result.items)]),
    )


@reply.register
def _(result: ActionChanged) -> dict[str, Any]:
    text = {"done": ":white_check_mark: Done", "moved": ":calendar: Moved", "already": "Already done"}[
        result.what
    ]
    return message(f"{text}: {result.item.text}", [section(f"{text}: {_action_line(result.item)[2:]}")])


@reply.register
def _(result: DecisionLog) -> dict[str, Any]:
    if not result.decisions:
        return message("No decisions yet", [section("No decisions are recorded yet.")])
    lines = ["*Decisions*"]
    for d in result.decisions:
        where = f" — {escape(d.meeting)}" if d.meeting else ""
        note = f" _(superseded by D{d.superseded_by})_" if d.superseded_by else ""
        note += f" _(supersedes D{d.supersedes})_" if d.supersedes else ""
        lines.append(f"• *D{d.id}* {d.decided_on:%d %b %Y}{where}: {escape(d.text)}{note}")
    return message(f"{len(result.decisions)} decisions", chunked_sections(lines))


@modal_for.register
def _(result: MinutesForm) -> dict[str, Any]:
    def option(text: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text[:75]}, "value": text[:150]}

    def area(block_id: str, label: str, hint: str) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "optional": True,
            "label": {"type": "plain_text", "text": label},
            "hint": {"type": "plain_text", "text": hint},
            "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
        }

    blocks = [
        {
            "type": "input",
            "block_id": "meeting",
            "label": {"type": "plain_text", "text": "Meeting"},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "initial_option": option(result.meetings[0]),
                "options": [option(m) for m in result.meetings],
            },
        },
        {
            "type": "input",
            "block_id": "held_on",
            "label": {"type": "plain_text", "text": "Date"},
            "element": {"type": "datepicker", "action_id": "value", "initial_date": result.today.isoformat()},
        },
        {
            "type": "input",
            "block_id": "attendees",
            "optional": True,
            "label": {"type": "plain_text", "text": "Attendees"},
            "element": {"type": "multi_users_select", "action_id": "value"},
        },
        area("notes", "Paste notes", "Lines like ACTION @raj: … by Friday and DECISION: … are recognised."),
        area("decisions", "Decisions", "One per line."),
        area(
            "actions",
            "Action items",
            "One per line: owner, what, by when — e.g. Omar to close the queries by Dec 5",
        ),
    ]
    return {
        "type": "modal",
        "callback_id": "minutes_form",
        "private_metadata": result.study_key,
        "title": {"type": "plain_text", "text": "Minutes"},
        "submit": {"type": "plain_text", "text": "Preview"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def draft_modal(result: MinutesDraft) -> dict[str, Any]:
    """The form's second page: what Cadence read, to confirm before posting."""
    return {
        "type": "modal",
        "callback_id": "minutes_confirm",
        "private_metadata": str(result.minutes_id),
        "title": {"type": "plain_text", "text": "Confirm minutes"},
        "submit": {"type": "plain_text", "text": "Post"},
        "close": {"type": "plain_text", "text": "Discard"},
        "notify_on_close": True,
        "blocks": _minutes_blocks(result.data, preview=True)[:100],
    }


def reschedule_modal(item_id: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "action_reschedule",
        "private_metadata": str(item_id),
        "title": {"type": "plain_text", "text": "Can't make it"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "due",
                "label": {"type": "plain_text", "text": "New date"},
                "element": {"type": "datepicker", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why"},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            },
        ],
    }


# --- visibility: App Home and the cadence report ---------------------------------------------------


def _home_blocks(data: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        section(f"*{escape(data['study'])}* — what waits on you, {escape(data['name'])}")
    ]
    if data.get("away_until"):
        cover = f"; {escape(data['cover'])} covers" if data.get("cover") else ""
        blocks.append(context(f":palm_tree: You are away until {date_label(data['away_until'])}{cover}."))
    if data["actions"]:
        blocks.append(section("*Your open action items*"))
        for item in data["actions"][:15]:
            due = f"due {date_label(item['due'])}" if item["due"] else "no due date"
            late = " :hourglass: *overdue*" if item["overdue"] else ""
            blocks.append(
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": f"{escape(item['text'])} — {due}{late}"},
                    "accessory": button("action_done", str(item["id"]), "Done"),
                }
            )
    else:
        blocks.append(section("*Your open action items*\nnothing open. :tada:"))
    questions = [f"• *{escape(r)}* {escape(t[:80])} — from {escape(a)}" for r, t, a in data["questions"]]
    blocks.extend(chunked_sections(["*Questions waiting on you*", *(questions or ["none"])]))
    issues = [
        f"• *{escape(r)}* {SEVERITY_LABELS[s]} {escape(t[:80])} — {escape(level)}"
        for r, s, t, level in data["escalations"]
    ]
    blocks.extend(chunked_sections(["*Escalations with your level*", *(issues or ["none"])]))
    if data.get("next_checkin"):
        last = {True: "You answered the last one.", False: "You did not answer the last one.", None: ""}[
            data["answered_last"]
        ]
        blocks.append(
            section(f"*Next check-in* {slack_time(datetime.fromisoformat(data['next_checkin']))}. {last}")
        )
    if data["milestones"]:
        blocks.extend(
            chunked_sections(
                [
                    "*Milestones*",
                    *(f"• {escape(n)} — {date_label(d)}, {escape(o)}" for n, d, o in data["milestones"]),
                ]
            )
        )
    return blocks[:100]


def home_view(data: dict[str, Any]) -> dict[str, Any]:
    """The App Home tab (views.publish)."""
    return {"type": "home", "blocks": _home_blocks(data)}


@reply.register
def _(result: HomeView) -> dict[str, Any]:
    return message(f"What waits on you in {result.study_key}", _home_blocks(result.as_data())[:50])


@reply.register
def _(result: ReportRequested) -> dict[str, Any]:
    where = f"<#{result.channel}>" if result.channel else "your direct messages"
    text = f":bar_chart: The cadence report for the last {result.weeks} week(s) is on its way to {where}."
    return message("The cadence report is on its way", [section(text)])


def _percent(rate: dict[str, Any] | None) -> str:
    if not rate or rate.get("percent") is None:
        return "—"
    return f"{rate['percent']}% ({rate['answered']}/{rate['asked']})"


def _trend(now: float | None, before: float | None, unit: str, lower_is_better: bool = True) -> str:
    if now is None:
        return "—"
    if before is None:
        return f"{now:g} {unit}"
    arrow = "→" if now == before else ("↓" if now < before else "↑")
    good = (now < before) == lower_is_better if now != before else None
    mark = {True: " :white_check_mark:", False: " :warning:", None: ""}[good]
    return f"{now:g} {unit} ({arrow} from {before:g}){mark}"


@notice_renderer("report")
def _(data: dict[str, Any]) -> dict[str, Any]:
    cur, prev = data["current"], data["previous"]
    sides = " · ".join(
        f"{side_label(side)} {_percent(rate)}" for side, rate in cur["response_by_side"].items()
    )
    people = ", ".join(f"{escape(name)} {_percent(rate)}" for name, rate in cur["response_by_person"].items())
    lines = [
        f":bar_chart: *Cadence report — {escape(data['study'])}, {date_label(data['from'])} to "
        f"{date_label(data['to'])}* ({data['weeks']} week(s))",
        f"*Check-ins answered:* {sides or 'no rounds'}",
        f"*Time to answer routed questions (median):* "
        f"{_trend(cur['median_hours_to_answer'], prev['median_hours_to_answer'], 'h')}",
        f"*Time to acknowledge escalations (median):* "
        f"{_trend(cur['median_minutes_to_acknowledge'], prev['median_minutes_to_acknowledge'], 'min')}",
        f"*Action items due:* {cur['actions_on_time']} on time, {cur['actions_late']} late; "
        f"{cur['actions_open']} open and not yet due",
    ]
    blocks = [section("\n".join(lines))]
    if people:
        blocks.append(context(f"By person: {people}"))
    if data["milestones"]:
        blocks.append(
            section(
                "*Milestones ahead:* "
                + "; ".join(
                    f"{escape(m['name'])} {date_label(m['due'])} ({escape(m['owner'])})"
                    for m in data["milestones"]
                )
            )
        )
    return message(f"Cadence report for {data['study']}", blocks)


@reply.register
def _(result: ExportSent) -> dict[str, Any]:
    text = f":file_folder: The export ({result.files} files, zipped) is on its way to you by direct message."
    return message("The export is on its way", [section(text)])
