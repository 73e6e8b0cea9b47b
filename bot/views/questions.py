"""Routed questions: the question as its answerer sees it, the chases, the asker's news, /ask's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m
from bot.forms import topic_reference
from bot.questions import Asked, ChooseTopic, QuestionClosed, QuestionList, Rerouted
from bot.views import context, message, notice_view, person, reply, section, who


def _who(data: dict[str, Any] | None) -> m.Line:
    found = who(data)
    return (found,) if found else m.line("someone")


def _buttons(data: dict[str, Any]) -> m.Actions:
    value, ref = str(_number(data)), data["ref"]
    return m.Actions(
        (
            m.Button("question_answered", value, "Answered", "primary", typed=f"/ask answered {ref}"),
            m.Button("question_not_mine", value, "Not mine", typed=f"/ask not-mine {ref}"),
        ),
        id="question",
    )


def answer_form(question_id: int) -> m.Form:
    """What Answered opens: the answer's words, which go to the asker."""
    field = m.TextInput(
        "note",
        "The answer",
        multiline=True,
        optional=True,
        hint="It goes to the asker and stays with the question.",
    )
    return m.Form(
        "question_answer", "Answered", "Send", (field,), str(question_id),
        typed=f"/ask answered Q{question_id} <the answer>",
    )  # fmt: skip


def quote(text: str) -> tuple[m.Line, ...]:
    return tuple(m.line("> {line}", line=line) for line in text.splitlines() or [""])


def _number(data: dict[str, Any]) -> int:
    return int(data["ref"].rsplit("-Q", 1)[1])


@notice_view("question")
def _(data: dict[str, Any]) -> m.Message:
    cover = (
        m.line(" (covering for {p}, who is away)", p=_who(data["covering_for"]))
        if data.get("covering_for")
        else None
    )
    passed = " (passed on by the person first asked)" if data.get("reason") == "not mine" else ""
    blocks: list[m.Block] = [
        section(
            m.line(":question: *{ref}* · {topic}", ref=data["ref"], topic=data["topic"]),
            m.line(
                "{to}{cover}, {asker} asks{passed}:",
                to=_who(data["to"]),
                cover=cover,
                asker=_who(data["asker"]),
                passed=passed,
            ),
            *quote(data["text"]),
        )
    ]
    if data.get("answered_by"):
        if data.get("answer"):
            blocks.append(m.Section((m.line("*Answer*"), *quote(data["answer"]))))
        blocks.append(context(m.line(":white_check_mark: Answered — marked by {by}", by=data["answered_by"])))
    elif data.get("passed_on_by"):
        blocks.append(context(m.line(":arrow_right: Passed on by {by}", by=data["passed_on_by"])))
    else:
        blocks.append(_buttons(data))
        due = m.Time(datetime.fromisoformat(data["due_at"]))
        blocks.append(context(m.line("Answer in the thread · expected by {due}", due=due)))
    return message(f"{data['ref']}: a question for {data['to']['name']}", *blocks)


@notice_view("question_answered")
def _(data: dict[str, Any]) -> m.Message:
    if data.get("answer"):
        text = m.line(
            ":white_check_mark: {by} answered your question *{ref}*:", ref=data["ref"], by=data["by"]
        )
        blocks: list[m.Block] = [section(text, *quote(data["answer"]))]
        fallback = f"{data['by']} answered {data['ref']}: {data['answer']}"
    else:
        text = m.line(
            ":white_check_mark: Your question *{ref}* was marked answered by {by}.",
            ref=data["ref"],
            by=data["by"],
        )
        blocks, fallback = [section(text)], f"{data['ref']} answered"
    asked = m.Section((m.line("_You asked:_"), *quote(data["text"])))
    return message(fallback, *blocks, asked)


@notice_view("question_replied")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":speech_balloon: {by} replied to your question *{ref}*. Does that answer it?",
        by=data["by"],
        ref=data["ref"],
    )
    answered = m.Button(
        "question_answered",
        str(data["question_id"]),
        "Yes, it's answered",
        "primary",
        typed=f"/ask answered {data['ref']}",
    )
    return message(
        f"{data['by']} replied to {data['ref']}",
        section(text),
        m.Section(quote(data["text"])),
        m.Actions((answered,), id="question"),
    )


@notice_view("question_reminder")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":bell: *{ref}* ({topic}) from {asker} is waiting for your answer:",
        ref=data["ref"],
        topic=data["topic"],
        asker=_who(data["asker"]),
    )
    return message(
        f"{data['ref']} is waiting for your answer",
        section(text, *quote(data["text"])),
        _buttons(data),
    )


@notice_view("question_backup")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":sos: *{ref}* ({topic}) has had no answer from {assignee}. "
        "As the topic's backup, can you help {asker}?",
        ref=data["ref"],
        topic=data["topic"],
        assignee=_who(data["assignee"]),
        asker=_who(data["asker"]),
    )
    return message(f"{data['ref']} needs the backup", section(text, *quote(data["text"])), _buttons(data))


@notice_view("question_backup_asker")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        "Your question *{ref}* has no answer yet from {assignee}, "
        "so Cadence asked {backup}, the topic's backup, too.",
        ref=data["ref"],
        assignee=_who(data["assignee"]),
        backup=_who(data["backup"]),
    )
    return message(f"{data['ref']}: the backup is asked too", section(text))


@notice_view("question_unclear")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":compass: *{ref}* on *{topic}* has been routed {routes} times: who owns this topic looks unclear.",
        ref=data["ref"],
        topic=data["topic"],
        routes=str(data["routes"]),
    )
    hint = m.line("An admin can settle it: /who-owns set <topic> owner|backup @person.")
    return message(f"{data['ref']}: ownership of {data['topic']} looks unclear", section(text), context(hint))


@reply.register
def _(result: Asked) -> m.Message:
    where = (
        m.line("in {channel}", channel=m.Channel(result.in_channel))
        if result.in_channel
        else m.line("by direct message, as they prefer")
    )
    cover = (
        m.line(", covering for {p} who is away", p=person(result.covering_for))
        if result.covering_for
        else None
    )
    template = ":incoming_envelope: Your question *{ref}* went to {to}{cover} ({topic}), {where}."
    if result.own_topic:  # never to the asker: the topic's other person has it
        template = (
            ":incoming_envelope: *{ref}* is about {topic}, which you look after yourself, "
            "so it went to {to}, {where}."
        )
    text = m.line(
        template, ref=result.ref, to=person(result.to), cover=cover, topic=result.topic, where=where
    )
    note = m.line(
        "Expected answer by {due}; Cadence chases it until then. /ask list shows it.",
        due=m.Time(result.due_at),
    )
    return message(f"{result.ref} went to {result.to.name}", section(text), context(note))


MENU_OPTIONS = 100  # a Slack menu's options, or a group's


@reply.register
def _(result: ChooseTopic) -> m.Message:
    if result.ambiguous:
        text = m.line("Your question *{ref}* fits more than one topic. Which is it about?", ref=result.ref)
    else:
        text = m.line("No topic fits your question *{ref}* clearly. Which is it about?", ref=result.ref)
    # A choice names its topic by id: a topic's name may be longer than a menu value can be.
    options = [
        (t.topic, f"{result.question_id}|{topic_reference(t.id)}", f"/ask topic {result.ref} {t.topic}")
        for t in result.options
    ]
    elements: tuple[m.Button | m.Select, ...]
    if len(options) <= 5:
        elements = tuple(
            m.Button(f"question_topic_{i}", value, topic[:75], typed=typed)
            for i, (topic, value, typed) in enumerate(options)
        )
    else:
        choices = tuple(m.Option(value, topic, typed=typed) for topic, value, typed in options)
        if len(choices) <= MENU_OPTIONS:
            elements = (m.Select("question_topic_select", choices, "Choose a topic"),)
        else:  # every topic, in groups of what a Slack menu holds
            groups = tuple(
                (f"Topics {at + 1}–{at + len(part)}", part)
                for at in range(0, len(choices), MENU_OPTIONS)
                if (part := choices[at : at + MENU_OPTIONS])
            )
            elements = (m.Select("question_topic_select", (), "Choose a topic", groups=groups),)
    return message(
        f"Which topic is {result.ref} about?",
        section(text),
        m.Section(quote(result.text)),
        m.Actions(elements, id="question_topic"),
    )


@reply.register
def _(result: QuestionClosed) -> m.Message:
    text = m.line(
        ":white_check_mark: *{ref}* is answered (marked by {by}). No more chasing.",
        ref=result.ref,
        by=result.by,
    )
    return message(f"{result.ref} answered", section(text))


@reply.register
def _(result: Rerouted) -> m.Message:
    text = m.line(
        ":arrow_right: *{ref}* now goes to {to} ({topic}).",
        ref=result.ref,
        to=person(result.to),
        topic=result.topic,
    )
    return message(f"{result.ref} passed to {result.to.name}", section(text))


@reply.register
def _(result: QuestionList) -> m.Message:
    def lines(items, label: str) -> m.Section:
        out = [m.line("*{label}*", label=label)]
        for q in items:
            late = m.line(" :hourglass: overdue") if q.overdue else None
            out.append(
                m.line(
                    "• *{ref}* {text} — {who} ({age}h){late}",
                    ref=q.ref,
                    text=q.text[:80],
                    who=q.who,
                    age=f"{q.age_hours:.0f}",
                    late=late,
                )
            )
        return m.Section(tuple(out + ([] if items else [m.line("nothing")])))

    blocks = [lines(result.mine, "My open questions"), lines(result.waiting_on_me, "Waiting on me")]
    if result.answered:
        answered = [m.line("*Answered lately*")]
        for a in result.answered:
            words = m.line(": “{answer}”", answer=a.answer[:300]) if a.answer else None
            answered.append(
                m.line(
                    "• *{ref}* {text} — {by}, {when}{words}",
                    ref=a.ref,
                    text=a.text[:80],
                    by=a.by,
                    when=m.Time(a.answered_at),
                    words=words,
                )
            )
        blocks.append(m.Section(tuple(answered)))
    return message(f"{len(result.mine)} open, {len(result.waiting_on_me)} waiting on you", *blocks)
