"""Block Kit rendering of core results. Every piece of plan or user text is escaped here."""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from bot.commands import HelpShown, NotYetAvailable
from bot.directory import Contact, TopicOwners
from bot.errors import CadenceError
from bot.ownership import NoTopicFound, OwnerFound, OwnershipChanged, TopicsListed
from bot.replies import Notice
from bot.wording import describe_match, describe_preference, describe_role, side_label

SECTION_LIMIT = 2900  # Slack allows 3,000 characters in a section's text


def escape(text: str) -> str:
    """Neutralise Slack's control sequences (`<!channel>`, `<@U…>`, links) in text we did not write."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(contact: Contact) -> str:
    return f"<@{contact.slack_id}>" if contact.slack_id else f"*{escape(contact.name)}*"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def context(*texts: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": t[:SECTION_LIMIT]} for t in texts[:10]],
    }


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
    """Render a core result as a Slack message."""
    raise TypeError(f"no Slack rendering for {type(result).__name__}")


@reply.register
def _(result: OwnerFound) -> dict[str, Any]:
    topic = result.topic
    why = escape(describe_match(result.query, result.matched, topic.topic, result.exact))
    blocks = [
        section(f"*{escape(topic.topic)}* is owned by {mention(topic.owner)}"),
        {
            "type": "section",
            "fields": [_person_field("Owner", topic.owner), _person_field("Backup", topic.backup)],
        },
    ]
    notes = [why]
    if topic.answer_within:
        notes.append(f"questions answered within {topic.answer_within}")
    if result.also:
        others = ", ".join(f"*{escape(t.topic)}* ({mention(t.owner)})" for t in result.also)
        blocks.append(section(f"Also fits: {others}"))
    blocks.append(context(" · ".join(notes)))
    return message(f"{topic.topic}: owner {topic.owner.name}", blocks)


@reply.register
def _(result: TopicsListed) -> dict[str, Any]:
    if not result.topics:
        return message(
            "No topics yet",
            [section(f"*{escape(result.study_key)}* has no responsibilities in its plan yet.")],
        )
    blocks = [section(f"*Who owns what in {escape(result.study_key)}*")]
    for side in ("sponsor", "cro"):
        lines = [f"*{side_label(side)}*"]
        by_owner: dict[str, list[TopicOwners]] = {}
        for topic in result.topics:
            if topic.owner.side == side:
                by_owner.setdefault(topic.owner.handle, []).append(topic)
        for topics in by_owner.values():
            owner = topics[0].owner
            items = ", ".join(
                f"{escape(t.topic)}" + (f" (backup {mention(t.backup)})" if t.backup else "") for t in topics
            )
            lines.append(f"• {mention(owner)}, {escape(owner.role)}: {items}")
        if len(lines) > 1:
            blocks.extend(chunked_sections(lines))
    blocks.append(context("Ask about one: `/who-owns <topic or keyword>`"))
    return message(f"Who owns what in {result.study_key}", blocks)


@reply.register
def _(result: NoTopicFound) -> dict[str, Any]:
    blocks = [section(f"No topic matches “{escape(result.query)}”.")]
    if result.closest:
        closest = ", ".join(f"*{escape(t.topic)}* ({mention(t.owner)})" for t in result.closest)
        blocks.append(section(f"Closest topics: {closest}"))
    examples = ", ".join(f"`{escape(k)}`" for k in result.examples)
    tip = f"Try a keyword such as {examples}, or " if examples else "Try "
    blocks.append(context(f"{tip}`/who-owns` alone to see every topic."))
    return message(f"No topic matches “{result.query}”", blocks)


@reply.register
def _(result: OwnershipChanged) -> dict[str, Any]:
    topic, role = result.topic, result.role
    person = topic.owner if role == "owner" else topic.backup
    who, name = (mention(person), person.name) if person else ("Nobody", "Nobody")
    if not result.changed:
        text = f"{who} is already the {role} of *{escape(topic.topic)}*; nothing changed."
        return message(f"{name} is already the {role} of {topic.topic}", [section(text)])
    was = f" (was {mention(result.previous)})" if result.previous else ""
    text = f"{who} is now the {role} of *{escape(topic.topic)}*{was}."
    if result.swapped and topic.backup:
        text += f" {mention(topic.backup)} becomes the backup."
    blocks = [section(text), context("Recorded in the study's audit log.")]
    return message(f"{name} is now the {role} of {topic.topic}", blocks, in_channel=True)


@reply.register
def _(result: HelpShown) -> dict[str, Any]:
    lines = []
    for info in result.commands:
        usage = "\n".join(f"`{escape(u)}`" for u in info.usage)
        lines.append(f"*{info.name}* — {escape(info.summary)}\n{usage}")
    blocks = [section("*Cadence* keeps the sponsor and the CRO on the communication plan they agreed.")]
    blocks.extend(section(line) for line in lines)
    if result.coming:
        blocks.append(context("Coming soon: " + ", ".join(result.coming)))
    return message("Cadence help", blocks)


@reply.register
def _(result: NotYetAvailable) -> dict[str, Any]:
    text = f"{result.command} is not available yet — meanwhile, {result.meanwhile}."
    return message(text, [section(escape(text))])


def error_reply(error: CadenceError) -> dict[str, Any]:
    """A friendly ephemeral message for a user-facing error."""
    blocks = [section(f":warning: {escape(error.message)}")]
    notes = [escape(error.hint)] if error.hint else []
    notes += [f"{escape(key)}: <#{channel}>" for key, channel in error.channels.items()]
    if notes:
        blocks.append(context(*notes))
    return message(error.message, blocks)


def failure_reply(reference: str) -> dict[str, Any]:
    """What a user sees when something unexpected broke: no traceback, a reference for the logs."""
    text = (
        "Something went wrong on Cadence's side and nothing was changed. Please try again in a moment; "
        f"if it keeps happening, tell your admin the reference {reference}."
    )
    return message(text, [section(f":warning: {escape(text)}")])


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
    if render is None:
        raise ValueError(f"no Slack rendering for notice '{notice.kind}'")
    reply = render(notice.data)
    return {"text": reply["text"], "blocks": reply["blocks"]}


@notice_renderer("text")
def _(data: dict[str, Any]) -> dict[str, Any]:
    return message(data["text"], [section(escape(data["text"]))])


@notice_renderer("delivery_failed")
def _(data: dict[str, Any]) -> dict[str, Any]:
    text = (
        f"A message from Cadence for {data['study']} could not be delivered to {data['recipient']}: "
        f"{data['reason']}."
    )
    hint = "Check that Cadence is in the channel and that the person's Slack id in the plan is current."
    return message(
        text, [section(f":warning: {escape(text)}"), context(escape(hint), f"`{escape(data['key'])}`")]
    )


@notice_renderer("checkin_prompt")
def _(data: dict[str, Any]) -> dict[str, Any]:
    first_name = data["name"].split()[0]
    study = escape(data["study"])
    intro = f":wave: Hi {escape(first_name)}, it's check-in time for *{study}* (week {data['week']})."
    questions = "\n".join(f"{i}. {escape(q)}" for i, q in enumerate(data["questions"], 1))
    where = f"<#{data['channel']}>" if data.get("channel") else "the study channel"
    blocks = [section(intro)]
    if questions:
        blocks.append(section(questions))
    blocks.append(context(f"Post your update in {where}, so both sides see it."))
    return message(f"Check-in time for {data['study']} (week {data['week']})", blocks)
