"""Who owns what: /who-owns answers, changes of owner, and the map's reviews."""

from __future__ import annotations

from typing import Any

from bot import messages as m
from bot.directory import Contact, TopicOwners
from bot.forms import topic_reference
from bot.ownership import (
    Cover,
    NoTopicFound,
    OwnerFound,
    OwnershipChanged,
    PeopleFound,
    PersonsTopics,
    TopicsListed,
)
from bot.reviews import HandedOver, TopicsConfirmed
from bot.views import context, message, notice_view, person, reply, section, who
from bot.wording import describe_match, describe_preference, describe_role, side_label


def person_field(label: str, contact: Contact | None) -> m.Field:
    if contact is None:
        return m.Field((m.line("*{label}*", label=label), m.line("nobody named yet")))
    return m.Field(
        (
            m.line("*{label}*", label=label),
            (person(contact),),
            m.line("{role}", role=describe_role(contact)),
            m.line("_{how}_", how=describe_preference(contact)),
        )
    )


def cover_line(owner: Contact, cover: Cover) -> m.Line:
    stand_in = (
        m.line("ask {p} meanwhile", p=person(cover.person))
        if cover.person
        else m.line("nobody is named to cover")
    )
    return m.line(
        ":palm_tree: {owner} is away until {until}: {stand_in}.",
        owner=person(owner),
        until=f"{cover.until:%a %d %b}",
        stand_in=stand_in,
    )


def _topic_and_owner(topic: TopicOwners) -> m.Line:
    return m.line("*{topic}* ({owner})", topic=topic.topic, owner=person(topic.owner))


@reply.register
def _(result: OwnerFound) -> m.Message:
    topic = result.topic
    blocks: list[m.Block] = [
        section(m.line("*{topic}* is owned by {owner}", topic=topic.topic, owner=person(topic.owner))),
        *([section(cover_line(topic.owner, result.cover))] if result.cover else []),
        m.Section(fields=(person_field("Owner", topic.owner), person_field("Backup", topic.backup))),
    ]
    notes = [m.line("{why}", why=describe_match(result.query, result.matched, topic.topic, result.exact))]
    if topic.answer_within:
        notes.append(m.line("questions answered within {within}", within=str(topic.answer_within)))
    if result.also:
        blocks.append(
            section(m.line("Also fits: {others}", others=m.join([_topic_and_owner(t) for t in result.also])))
        )
    blocks.append(context(m.join(notes, " · ")))
    taught = sorted((w for w, weight in topic.learned.items() if weight > 0), key=lambda w: -topic.learned[w])
    if taught:
        words = ", ".join(taught[:8])
        blocks.append(context(m.line("Words questions taught Cadence for this topic: {words}", words=words)))
    return message(f"{topic.topic}: owner {topic.owner.name}", *blocks)


@reply.register
def _(result: PersonsTopics) -> m.Message:
    who, role = result.person, describe_role(result.person)
    lines = [m.line("*{name}* · {role}", name=person(who), role=role)]
    if result.owns:
        lines.append(m.line("Owns: {topics}", topics=", ".join(t.topic for t in result.owns)))
    if result.backs_up:
        lines.append(m.line("Backup for: {topics}", topics=", ".join(t.topic for t in result.backs_up)))
    if not (result.owns or result.backs_up):
        lines.append(m.line("Owns no topic in the plan and backs up none."))
    blocks: list[m.Block] = [m.Section(tuple(lines))]
    if result.cover:
        blocks.append(section(cover_line(who, result.cover)))
    blocks.append(context(m.line("_{how}_", how=describe_preference(who))))
    return message(f"What {who.name} owns", *blocks)


def _what_they_hold(found: PersonsTopics) -> str:
    held = []
    if found.owns:
        held.append("owns " + ", ".join(t.topic for t in found.owns))
    if found.backs_up:
        held.append("backup for " + ", ".join(t.topic for t in found.backs_up))
    return "; ".join(held) or "owns no topic in the plan and backs up none"


@reply.register
def _(result: PeopleFound) -> m.Message:
    side = side_label(result.side) if result.side else None
    if result.role:
        heading = f"{result.role} · {side}" if side else result.role
    elif side:
        heading = f"The {side}'s people"
    else:
        heading = f"People whose role fits “{result.query}”"
    lines = [m.line("*{heading}*", heading=heading)]
    for found in result.people:
        away = m.line(" _(away until {until})_", until=f"{found.cover.until:%d %b}") if found.cover else None
        lines.append(
            m.line(
                "• {who}, {role}{away}: {held}",
                who=person(found.person),
                role=describe_role(found.person),
                away=away,
                held=_what_they_hold(found),
            )
        )
    hint = context(
        m.line("Ask about one of them: `/who-owns <name>`; a topic: `/who-owns <topic or keyword>`")
    )
    return message(heading, m.Section(tuple(lines)), hint)


@reply.register
def _(result: TopicsListed) -> m.Message:
    if not result.topics:
        return message(
            "No topics yet",
            section(m.line("*{study}* has no responsibilities in its plan yet.", study=result.study_key)),
        )
    blocks: list[m.Block] = [section(m.line("*Who owns what in {study}*", study=result.study_key))]
    for side in ("sponsor", "cro"):
        lines = [m.line("*{side}*", side=side_label(side))]
        by_owner: dict[str, list[TopicOwners]] = {}
        for topic in result.topics:
            if topic.owner.side == side:
                by_owner.setdefault(topic.owner.handle, []).append(topic)
        for topics in by_owner.values():
            owner = topics[0].owner
            items = m.join(
                [
                    m.line(
                        "{topic}{backup}",
                        topic=t.topic,
                        backup=m.line(" (backup {b})", b=person(t.backup)) if t.backup else None,
                    )
                    for t in topics
                ]
            )
            away = result.away.get(owner.handle)
            note = None
            if away:
                ask = m.line(", ask {p}", p=person(away.person)) if away.person else None
                note = m.line(" _(away until {until}{ask})_", until=f"{away.until:%d %b}", ask=ask)
            lines.append(
                m.line(
                    "• {owner}, {role}{note}: {items}",
                    owner=person(owner),
                    role=owner.role,
                    note=note,
                    items=items,
                )
            )
        if len(lines) > 1:
            blocks.append(m.Section(tuple(lines)))
    blocks.append(context(m.line("Ask about one: `/who-owns <topic or keyword>`")))
    return message(f"Who owns what in {result.study_key}", *blocks)


@reply.register
def _(result: NoTopicFound) -> m.Message:
    blocks: list[m.Block] = [section(m.line("No topic matches “{query}”.", query=result.query))]
    if result.closest:
        blocks.append(
            section(
                m.line(
                    "Closest topics: {closest}", closest=m.join([_topic_and_owner(t) for t in result.closest])
                )
            )
        )
    examples = m.join([(m.Code(k),) for k in result.examples])
    tip = (
        m.line("Try a keyword such as {examples}, or ", examples=examples)
        if result.examples
        else m.line("Try ")
    )
    blocks.append(context(m.line("{tip}`/who-owns` alone to see every topic.", tip=tip)))
    return message(f"No topic matches “{result.query}”", *blocks)


@reply.register
def _(result: OwnershipChanged) -> m.Message:
    topic, role = result.topic, result.role
    changed = topic.owner if role == "owner" else topic.backup
    placed = person(changed) if changed else None
    if not result.changed:
        text = m.line(
            "{who} is already the {role} of *{topic}*; nothing changed.",
            who=(placed,) if placed else m.line("Nobody"),
            role=role,
            topic=topic.topic,
        )
        return message(f"{_name(placed)} is already the {role} of {topic.topic}", section(text))
    previous = person(result.previous) if result.previous else None
    backup = person(topic.backup) if result.swapped and topic.backup else None
    where = "Posted in the study channel and recorded" if result.posted else "Recorded"
    return message(
        f"{_name(placed)} is now the {role} of {topic.topic}",
        section(_now_line(placed, role, topic.topic, previous, backup)),
        context(m.line("{where} in the study's audit log.", where=where)),
        in_channel=not result.posted,  # the channel sees it once: the post, not also this answer
    )


@notice_view("ownership_changed")
def _(data: dict[str, Any]) -> m.Message:
    placed, role, topic = who(data["person"]), data["role"], data["topic"]
    text = _now_line(placed, role, topic, who(data["previous"]), who(data["backup"]))
    by = m.line("Changed by {by}: ask {who} from now on.", by=data["by"], who=_name(placed))
    return message(f"{_name(placed)} is now the {role} of {topic}", section(text), context(by))


def _name(placed: m.Person | None) -> str:
    return placed.name if placed else "Nobody"


def _now_line(
    placed: m.Person | None, role: str, topic: str, previous: m.Person | None, backup: m.Person | None
) -> m.Line:
    """Who now holds the role, who held it, and who became the backup when owner and backup swapped."""
    return m.line(
        ":arrows_counterclockwise: {who} is now the {role} of *{topic}*{was}.{swapped}",
        who=(placed,) if placed else m.line("Nobody"),
        role=role,
        topic=topic,
        was=m.line(" (was {p})", p=previous) if previous else None,
        swapped=m.line(" {b} becomes the backup.", b=backup) if backup else None,
    )


# --- reviews of the map -----------------------------------------------------------------------------


@notice_view("ownership_review")
def _(data: dict[str, Any]) -> m.Message:
    topics = [m.line("• {t}", t=t) for t in data["topics"]]
    confirm = m.Button(
        "ownership_confirm", data["study"], "Yes, still mine", "primary", typed="/who-owns confirm"
    )
    # A button names its topic by id (a name may be longer than a value can be); reviews queued before
    # ids were carried name it by its name.
    ids = data.get("topic_ids") or [None] * len(data["topics"])
    handovers = [
        m.Button(
            f"ownership_handover_{i}",
            f"{data['study']}|{topic_reference(topic_id) if topic_id else t}"[:150],
            f"Hand over {t}"[:75],
            typed=f"/who-owns handover {t}",
        )
        for i, (t, topic_id) in enumerate(zip(data["topics"][:4], ids, strict=False))
    ]
    heading = m.line(
        ":clipboard: A check of the {study} responsibilities map: are these still yours?", study=data["study"]
    )
    return message(
        f"Are these {data['study']} topics still yours?",
        section(heading, *topics),
        m.Actions((confirm, *handovers), id="ownership"),
        context(m.line("Unconfirmed topics are flagged to the plan's admins after a week.")),
    )


@notice_view("ownership_unconfirmed")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":hourglass: {owner} has not confirmed owning {topics} in {study}.",
        owner=data["owner"],
        topics=", ".join(data["topics"]),
        study=data["study"],
    )
    hint = m.line("Check with them, or name a new owner: /who-owns set <topic> owner @person.")
    return message(f"{data['owner']} has not confirmed their topics", section(text), context(hint))


@notice_view("ownership_handover")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":arrows_counterclockwise: {owner} hands over *{topic}* in {study}. Name a new owner: `{command}`.",
        owner=data["owner"],
        topic=data["topic"],
        study=data["study"],
        command=f"/who-owns set {data['topic']} owner @person",
    )
    return message(f"{data['owner']} hands over {data['topic']}", section(text))


@reply.register
def _(result: TopicsConfirmed) -> m.Message:
    text = m.line(":white_check_mark: Thanks, confirmed: {topics}.", topics=", ".join(result.topics))
    return message("Topics confirmed", section(text))


@reply.register
def _(result: HandedOver) -> m.Message:
    admins = " and ".join(result.admins) or "the admins"
    text = m.line(
        "Noted: {admins} will name a new owner for *{topic}*. Until then it stays with you.",
        admins=admins,
        topic=result.topic,
    )
    return message(f"Handing over {result.topic}", section(text))
