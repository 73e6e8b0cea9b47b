"""Weekly check-ins: prompts and reminders, the digest, the Answer form, and /checkin's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m
from bot.checkins import AnswerForm, AnswerSaved, Participation, RoundOpened, RoundStatus, SkipAdded
from bot.dates import in_words
from bot.views import context, form, message, notice_view, reply, section, who
from bot.wording import side_label

STATUSES = {
    "on_track": ("large_green_circle", "On track"),
    "at_risk": ("large_yellow_circle", "At risk"),
    "off_track": ("red_circle", "Off track"),
}


def status_line(status: str) -> m.Line:
    emoji, label = STATUSES[status]
    return (m.Emoji(emoji), m.Text(f" {label}"))


def typed_answer(questions) -> str:
    """How an answer is typed: the status, then one answer a question."""
    answers = "; ".join(f"<answer {n}>" for n in range(1, len(questions) + 1))
    return (
        f"/checkin answer <on track|at risk|off track>; {answers}" if answers else "/checkin answer <status>"
    )


def _buttons(data: dict[str, Any], *, answered: bool) -> m.Actions:
    value = f"{data['study']}|{data['week']}"
    label = "Edit answer" if answered else "Answer"
    answer = m.Button("checkin_answer", value, label, "primary", typed=typed_answer(data["questions"]))
    snooze = m.Button("checkin_snooze", value, "Remind me in 2h")
    return m.Actions((answer,) if answered else (answer, snooze), id="checkin")


def _prompt(data: dict[str, Any], opening: m.Line) -> m.Message:
    blocks: list[m.Block] = [section(opening)]
    questions = [m.line("{n}. {q}", n=str(n), q=q) for n, q in enumerate(data["questions"], 1)]
    if questions:
        blocks.append(section(*questions))
    answered = data.get("answered")
    if answered:
        blocks.append(
            section(
                m.line(
                    ":white_check_mark: Answered: {status}. You can edit it until the round closes.",
                    status=status_line(answered),
                )
            )
        )
    blocks.append(_buttons(data, answered=bool(answered)))
    note = m.line(
        "{study} · week {week} · the digest goes to the study channel when it closes",
        study=data["study"],
        week=data["week"],
    )
    blocks.append(context(note))
    return message(f"Check-in for {data['study']} (week {data['week']})", *blocks)


@notice_view("checkin_prompt")
def _(data: dict[str, Any]) -> m.Message:
    first = data["name"].split()[0]
    return _prompt(
        data, m.line(":wave: Hi {first}, it's check-in time for *{study}*.", first=first, study=data["study"])
    )


@notice_view("checkin_reminder")
def _(data: dict[str, Any]) -> m.Message:
    first = data["name"].split()[0]
    opening = m.line(
        ":bell: {first}, a reminder: your check-in for *{study}* is still open.",
        first=first,
        study=data["study"],
    )
    return _prompt(data, opening)


def answer_lines(entry: dict[str, Any]) -> tuple[m.Line, ...]:
    late = m.line(" _(late)_") if entry.get("late") else None
    lines = [m.line("{status} {who}{late}", status=status_line(entry["status"]), who=who(entry), late=late)]
    for question, answer in zip(entry["questions"], entry["answers"], strict=False):
        if answer.strip():
            lines.append(m.line("> *{q}* {a}", q=question, a=answer))
    return tuple(lines)


@notice_view("checkin_digest")
def _(data: dict[str, Any]) -> m.Message:
    heading = m.line(
        ":memo: *Check-in digest — {study}, week {week}*", study=data["study"], week=data["week"]
    )
    blocks: list[m.Block] = [section(heading)]
    for group in data["groups"]:
        blocks.append(section(m.line("*{side}*", side=side_label(group["side"]))))
        blocks.extend(m.Section(answer_lines(entry)) for entry in group["entries"])
    if not data["groups"]:
        blocks.append(section(m.line("Nobody answered this week.")))
    silent = ", ".join(data["silent"])
    blocks.append(
        context(m.line("No answer from: {s}", s=silent) if silent else m.line("Everyone answered. :tada:"))
    )
    if data.get("overdue"):
        overdue = [
            m.line("• {text} — {owner}, due {due}", text=i["text"], owner=i["owner"], due=i["due"])
            for i in data["overdue"]
        ]
        blocks.append(m.Section((m.line("*Overdue action items*"), *overdue)))
    answered = len(data["answered"])
    return message(f"Check-in digest for {data['study']}, week {data['week']}: {answered} answered", *blocks)


@notice_view("checkin_late_answer")
def _(data: dict[str, Any]) -> m.Message:
    return message(f"Late check-in from {data['name']}", m.Section(answer_lines(data | {"late": True})))


@form.register
def _(result: AnswerForm) -> m.Form:
    options = tuple(m.Option(value, label) for value, (_, label) in STATUSES.items())
    inputs: list[m.Block | m.Input] = [
        m.ChoiceInput("status", "Status", options, initial=result.status, placeholder="How is it going?")
    ]
    for i, question in enumerate(result.questions):
        initial = result.answers[i] if i < len(result.answers) and result.answers[i] else None
        inputs.append(m.TextInput(f"q{i}", question[:2000], multiline=True, initial=initial, optional=True))
    if result.closed:
        inputs.append(context(m.line("This round has closed: your answer is added to the digest's thread.")))
    return m.Form(
        "checkin_answer",
        f"Check-in {result.week}",
        "Send",
        tuple(inputs),
        f"{result.study_key}|{result.week}",
        typed=typed_answer(result.questions),
    )


@reply.register
def _(result: RoundOpened) -> m.Message:
    if result.already:
        text = (
            f"This week's check-in ({result.week}) is already {result.already}; no second round was opened."
        )
        return message(text, section(m.line("{t}", t=text)))
    text = f"Opened the check-in for week {result.week}: {len(result.prompted)} people are being asked."
    closes = m.line("It closes {at}; the digest then goes to the study channel.", at=m.Time(result.closes_at))
    return message(text, section(m.line("{t}", t=text)), context(closes))


@reply.register
def _(result: RoundStatus) -> m.Message:
    if result.week is None:
        return message(
            "No check-in round has opened yet.", section(m.line("No check-in round has opened yet."))
        )
    answered = [
        m.line("• {name}: {status}", name=name, status=status_line(status))
        for name, status in result.answered
    ]
    waiting = ", ".join(result.waiting) or "nobody"
    state = (
        m.line("open until {at}", at=m.Time(result.closes_at)) if result.state == "open" else m.line("closed")
    )
    return message(
        f"Check-in week {result.week}: {len(result.answered)} answered",
        section(m.line("*Check-in, week {week}* ({state})", week=result.week, state=state)),
        section(m.line("*Answered*"), *(answered or [m.line("nobody yet")])),
        section(m.line("*Waiting for*"), m.line("{w}", w=waiting)),
    )


@reply.register
def _(result: SkipAdded) -> m.Message:
    text = (
        f"No check-in will open on {in_words(result.day)}."
        if result.added
        else f"{in_words(result.day)} was already skipped; nothing changed."
    )
    return message(text, section(m.line("{t}", t=text)))


@reply.register
def _(result: AnswerSaved) -> m.Message:
    what = "updated" if result.edited else "in"
    late = " The round had closed, so it was added under the digest." if result.late else ""
    text = m.line(
        "Thanks: your check-in for week {week} is {what} ({status}).{late}",
        week=result.week,
        what=what,
        status=status_line(result.status),
        late=late,
    )
    return message(text, section(text))


@reply.register
def _(result: Participation) -> m.Message:
    if not result.weeks:
        return message(
            "No check-in round has opened yet.", section(m.line("No check-in round has opened yet."))
        )

    def rate(answered: int, asked: int) -> str:
        return f"{answered}/{asked} ({answered * 100 // asked}%)" if asked else "—"

    sides = " · ".join(f"{side_label(side)} {rate(a, n)}" for side, a, n in result.sides)
    people = [
        m.line(
            "• {name} ({side}): {rate}, streak {streak}",
            name=p.name,
            side=side_label(p.side),
            rate=rate(p.answered, p.asked),
            streak=str(p.streak),
        )
        for p in sorted(result.people, key=lambda p: (p.side, -p.answered / p.asked, p.name))
    ]
    return message(
        f"Check-in participation over {len(result.weeks)} rounds",
        section(m.line("*Check-in participation, last {n} round(s)*", n=str(len(result.weeks)))),
        section(m.line("{s}", s=sides)),
        *([m.Section(tuple(people))] if people else []),
    )


def snoozed(at: datetime) -> m.Message:
    """The answer to Remind me in 2h."""
    text = m.line("OK, I'll ask again {at}.", at=m.Time(at))
    return m.Message(text, (section(text),))
