"""Plain-text rendering of core results for the terminal."""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch
from typing import Any

from bot.commands import HelpShown, NotYetAvailable
from bot.directory import Contact, TopicOwners
from bot.errors import CadenceError
from bot.ownership import NoTopicFound, OwnerFound, OwnershipChanged, TopicsListed
from bot.replies import Notice
from bot.wording import describe_match, describe_preference, describe_role, side_label


def mention(contact: Contact) -> str:
    return f"@{contact.handle}"


def _person_line(label: str, contact: Contact | None) -> str:
    if contact is None:
        return f"  {label}: nobody named yet"
    return (
        f"  {label}: {mention(contact)} {contact.name} ({describe_role(contact)}), "
        f"{describe_preference(contact)}"
    )


@singledispatch
def render(result: Any) -> str:
    """Render a core result as terminal text."""
    raise TypeError(f"no console rendering for {type(result).__name__}")


@render.register
def _(result: OwnerFound) -> str:
    topic = result.topic
    lines = [
        f"{topic.topic} is owned by {mention(topic.owner)}",
        _person_line("Owner", topic.owner),
        _person_line("Backup", topic.backup),
    ]
    if result.also:
        lines.append("  Also fits: " + ", ".join(f"{t.topic} ({mention(t.owner)})" for t in result.also))
    note = describe_match(result.query, result.matched, topic.topic, result.exact)
    if topic.answer_within:
        note += f" · questions answered within {topic.answer_within}"
    lines.append(f"  ({note})")
    return "\n".join(lines)


@render.register
def _(result: TopicsListed) -> str:
    if not result.topics:
        return f"{result.study_key} has no responsibilities in its plan yet."
    lines = [f"Who owns what in {result.study_key}"]
    for side in ("sponsor", "cro"):
        by_owner: dict[str, list[TopicOwners]] = {}
        for topic in result.topics:
            if topic.owner.side == side:
                by_owner.setdefault(topic.owner.handle, []).append(topic)
        if by_owner:
            lines.append(f"{side_label(side)}:")
        for topics in by_owner.values():
            owner = topics[0].owner
            items = ", ".join(
                t.topic + (f" (backup {mention(t.backup)})" if t.backup else "") for t in topics
            )
            lines.append(f"  • {mention(owner)}, {owner.role}: {items}")
    lines.append("Ask about one: /who-owns <topic or keyword>")
    return "\n".join(lines)


@render.register
def _(result: NoTopicFound) -> str:
    lines = [f"No topic matches “{result.query}”."]
    if result.closest:
        lines.append(
            "Closest topics: " + ", ".join(f"{t.topic} ({mention(t.owner)})" for t in result.closest)
        )
    examples = ", ".join(result.examples)
    lines.append(
        (f"Try a keyword such as {examples}, or " if examples else "Try ")
        + "/who-owns alone to see every topic."
    )
    return "\n".join(lines)


@render.register
def _(result: OwnershipChanged) -> str:
    topic, role = result.topic, result.role
    person = topic.owner if role == "owner" else topic.backup
    who = mention(person) if person else "Nobody"
    if not result.changed:
        return f"{who} is already the {role} of {topic.topic}; nothing changed."
    was = f" (was {mention(result.previous)})" if result.previous else ""
    text = f"{who} is now the {role} of {topic.topic}{was}."
    if result.swapped and topic.backup:
        text += f" {mention(topic.backup)} becomes the backup."
    return text + " Recorded in the study's audit log."


@render.register
def _(result: HelpShown) -> str:
    lines = ["Cadence keeps the sponsor and the CRO on the communication plan they agreed."]
    for info in result.commands:
        lines.append(f"{info.name} — {info.summary}")
        lines.extend(f"    {usage}" for usage in info.usage)
    if result.coming:
        lines.append("Coming soon: " + ", ".join(result.coming))
    return "\n".join(lines)


@render.register
def _(result: NotYetAvailable) -> str:
    return f"{result.command} is not available yet — meanwhile, {result.meanwhile}."


def render_error(error: CadenceError) -> str:
    lines = [f"! {error.message}"]
    if error.hint:
        lines.append(f"  {error.hint}")
    lines.extend(f"  {key}: channel {channel}" for key, channel in error.channels.items())
    return "\n".join(lines)


_NOTICES: dict[str, Callable[[dict[str, Any]], str]] = {
    "text": lambda data: data["text"],
    "delivery_failed": lambda data: (
        f"! A message for {data['study']} could not be delivered to {data['recipient']}: {data['reason']}."
    ),
}


def _checkin_prompt(data: dict[str, Any]) -> str:
    lines = [f"Hi {data['name'].split()[0]}, it's check-in time for {data['study']} (week {data['week']})."]
    lines += [f"  {i}. {q}" for i, q in enumerate(data["questions"], 1)]
    lines.append("  Post your update in the study channel, so both sides see it.")
    return "\n".join(lines)


_NOTICES["checkin_prompt"] = _checkin_prompt


def notice_renderer(kind: str):
    def register(render: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
        _NOTICES[kind] = render
        return render

    return register


def render_notice(notice: Notice) -> str:
    return _NOTICES[notice.kind](notice.data)
