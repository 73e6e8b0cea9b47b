"""Minutes, action items and decisions: the posted minutes, each owner's items, reminders, chases,
/minutes' draft and forms, /actions and /decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m
from bot.dates import in_words
from bot.minutes import ActionChanged, ActionList, DecisionLog, MinutesDraft, MinutesForm, MinutesPosted
from bot.views import context, form, left_out, message, notice_view, person, reply, section, who
from bot.wording import side_label

MESSAGE_ACTIONS = 20  # action items listed in one message, each with its buttons


def date_label(iso: str) -> str:
    return in_words(datetime.fromisoformat(iso)) if "T" not in iso else iso


def _due(due: str | None) -> str:
    return f"due {date_label(due)}" if due else "no due date"


def _listed(title: str, lines: list[m.Line]) -> m.Section:
    return m.Section((m.line(title), *lines))


def minutes_blocks(data: dict[str, Any], *, preview: bool) -> list[m.Block]:
    head = m.line(
        ":spiral_note_pad: *Minutes — {meeting}, {held}*",
        meeting=data["meeting"],
        held=date_label(data["held_on"]),
    )
    by_side: dict[str, list[m.Line]] = {}
    for attendee in data["attendees"]:
        by_side.setdefault(attendee["side"], []).append((who(attendee),))
    attendees = m.join(
        [m.line("{side}: {names}", side=side_label(s), names=m.join(n)) for s, n in by_side.items()], " · "
    )
    blocks: list[m.Block] = [section(head)]
    if data.get("corrects"):
        blocks.append(context(m.line(":pencil2: A correction: supersedes {ref}", ref=data["corrects"])))
    if data.get("changes"):
        blocks.append(_listed("*Changes*", [m.line("• {c}", c=c) for c in data["changes"]]))
    if attendees:
        blocks.append(context(m.line("Attendees — {a}", a=attendees)))
    if data["decisions"]:
        blocks.append(_listed("*Decisions*", [m.line("• {d}", d=d) for d in data["decisions"]]))
    tracked = [a for a in data["actions"] if a["owner"]]
    if tracked:
        lines = [
            m.line("• {owner} — {text} ({due})", owner=who(a["owner"]), text=a["text"], due=_due(a["due"]))
            for a in tracked
        ]
        blocks.append(_listed("*Action items*", lines))
    unowned = [a for a in data["actions"] if not a["owner"] and a["text"]]
    if unowned:
        blocks.append(_listed("*Needs an owner*", [_unowned_line(a) for a in unowned]))
        blocks += [assign_button(a["id"]) for a in unowned[:MESSAGE_ACTIONS] if a.get("id")]
    if data["notes"]:
        blocks.append(_listed("*Notes*", [m.line("{n}", n=n) for n in data["notes"]]))
    if preview and data["problems"]:
        problems = [m.line("• {p}", p=p) for p in data["problems"]]
        blocks.append(_listed(":warning: *Not fully understood* (kept as written)", problems))
    if preview and data.get("guesses"):
        blocks.append(context(*(m.line(":calendar: {g}", g=g) for g in data["guesses"])))
    note_taker = who(data["note_taker"]) or m.line("someone")
    blocks.append(context(m.line("Note taker: {who} · {ref}", who=note_taker, ref=data["ref"])))
    return blocks


@notice_view("minutes")
def _(data: dict[str, Any]) -> m.Message:
    return message(f"Minutes: {data['meeting']}, {data['held_on']}", *minutes_blocks(data, preview=False))


def _unowned_line(action: dict[str, Any]) -> m.Line:
    ref = f"*A{action['id']}* " if action.get("id") else ""
    return m.line("• {ref}{t} ({due})", ref=ref, t=action["text"], due=_due(action["due"]))


def assign_button(item_id: int) -> m.Actions:
    """Needs an owner: Assign opens a person picker."""
    value = str(item_id)
    assign = m.Button("action_assign", value, f"Assign A{item_id}", typed=f"/actions assign A{item_id} @who")
    return m.Actions((assign,), id=f"assign_{item_id}")


def assign_form(item_id: int) -> m.Form:
    inputs = (m.PeopleInput("owner", "Who owns it?"),)
    typed = f"/actions assign A{item_id} @who"
    return m.Form("action_assign", f"Assign A{item_id}", "Assign", inputs, str(item_id), typed=typed)


def item_buttons(item_id: int, block_id: str = "action") -> m.Actions:
    """Done, or Can't make it (which asks for a new date)."""
    value = str(item_id)
    done = m.Button("action_done", value, "Done", "primary", typed=f"/actions done A{item_id}")
    cant = m.Button(
        "action_cant", value, "Can't make it", typed=f"/actions move A{item_id} <new date> <reason>"
    )
    return m.Actions((done, cant), id=block_id)


@notice_view("minutes_actions")
def _(data: dict[str, Any]) -> m.Message:
    intro = m.line(
        ":spiral_note_pad: From the minutes of *{meeting}* ({held}), your action items:",
        meeting=data["meeting"],
        held=date_label(data["held_on"]),
    )
    blocks: list[m.Block] = [section(intro)]
    for action in data["actions"][:MESSAGE_ACTIONS]:
        blocks.append(section(m.line("• {t} ({due})", t=action["text"], due=_due(action["due"]))))
        blocks.append(item_buttons(action["id"], f"action_{action['id']}"))
    if len(data["actions"]) > MESSAGE_ACTIONS:
        blocks.append(left_out(len(data["actions"]) - MESSAGE_ACTIONS, "/actions"))
    return message(f"Your action items from {data['meeting']}", *blocks)


@notice_view("minutes_corrected")
def _(data: dict[str, Any]) -> m.Message:
    intro = m.line(
        ":pencil2: The minutes of *{meeting}* ({held}) were corrected ({ref} supersedes {old}). "
        "What changed for you:",
        meeting=data["meeting"],
        held=date_label(data["held_on"]),
        ref=data["ref"],
        old=data["supersedes"],
    )
    blocks: list[m.Block] = [section(intro, *(m.line("• {c}", c=c) for c in data["changes"]))]
    for action in data["actions"][:MESSAGE_ACTIONS]:
        blocks.append(section(m.line("• {t} ({due})", t=action["text"], due=_due(action["due"]))))
        blocks.append(item_buttons(action["id"], f"action_{action['id']}"))
    return message(f"Minutes of {data['meeting']} corrected", *blocks)


@notice_view("action_done")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(":white_check_mark: Done: {t} ({owner})", t=data["text"], owner=data["owner"])
    return message(f"Done: {data['text']}", section(text))


@notice_view("action_reminder")
def _(data: dict[str, Any]) -> m.Message:
    when = {"before": "is due tomorrow", "due": "is due today"}.get(data["kind"], "is overdue")
    text = m.line(
        ":alarm_clock: Your action item {when} ({due}): {t}",
        when=when,
        due=date_label(data["due"]),
        t=data["text"],
    )
    return message(
        f"Action item {when}",
        section(text),
        context(m.line("{m}", m=data["meeting"])),
        item_buttons(data["id"]),
    )


def _late_minutes(data: dict[str, Any], state: m.Line, fallback: str) -> m.Message:
    text = m.line(
        ":spiral_note_pad: The minutes of *{meeting}* ({held}) are {state}",
        meeting=data["meeting"],
        held=date_label(data["held_on"]),
        state=state,
    )
    return message(f"Minutes of {data['meeting']} are {fallback}", section(text))


@notice_view("minutes_chase")
def _(data: dict[str, Any]) -> m.Message:
    state = m.line("not posted yet. Paste your notes with /minutes, or open the form with /minutes alone.")
    return _late_minutes(data, state, "due")


@notice_view("minutes_chase_admins")
def _(data: dict[str, Any]) -> m.Message:
    state = m.line("still not posted; {who} takes the notes for it.", who=data["note_taker"])
    return _late_minutes(data, state, "late")


@reply.register
def _(result: MinutesDraft) -> m.Message:
    intro = section(m.line("Here is what Cadence read. Post *{ref}* to the study channel?", ref=result.ref))
    value = str(result.minutes_id)
    buttons = m.Actions(
        (
            m.Button("minutes_post", value, "Post minutes", "primary", typed=f"/minutes post {result.ref}"),
            m.Button("minutes_cancel", value, "Discard", typed=f"/minutes cancel {result.ref}"),
        ),
        id="minutes",
    )
    return message(
        f"Confirm the minutes {result.ref}", intro, *minutes_blocks(result.data, preview=True), buttons
    )


@reply.register
def _(result: MinutesPosted) -> m.Message:
    if result.actions == result.decisions == 0 and result.channel is None:
        text = m.line("Discarded the draft {ref}.", ref=result.ref)
    else:
        where = (
            m.line("{c}", c=m.Channel(result.channel)) if result.channel else m.line("your direct messages")
        )
        text = m.line(
            ":white_check_mark: Posted *{ref}* in {where}: {d} decision(s), {a} action item(s); "
            "each owner got theirs.",
            ref=result.ref,
            where=where,
            d=str(result.decisions),
            a=str(result.actions),
        )
        if result.unowned:
            need = m.line(
                " {n} need(s) an owner: /actions all lists them, with a person picker.", n=str(result.unowned)
            )
            text = (*text, *need)
    return message(result.ref, section(text))


def _action_line(item: Any) -> m.Line:
    due = f"due {in_words(item.due_on)}" if item.due_on else "no due date"
    late = m.line(" :hourglass: *overdue*") if item.overdue else None
    return m.line(
        "*A{id}* {text} — {owner}, {due}{late}",
        id=str(item.id),
        text=item.text,
        owner=item.owner or "needs an owner",
        due=due,
        late=late,
    )


@reply.register
def _(result: ActionList) -> m.Message:
    title = "*The study's open action items*" if result.everyone else "*Your open action items*"
    owned = [i for i in result.items if i.owner]
    unowned = [i for i in result.items if not i.owner]
    if not result.items:
        return message("No open action items", section(m.line(title), m.line("nothing open. :tada:")))
    blocks: list[m.Block] = []
    if owned:
        blocks.append(_listed(title, [m.line("• {item}", item=_action_line(i)) for i in owned]))
    if unowned:
        lines = [m.line("• {item}", item=_action_line(i)) for i in unowned]
        blocks.append(_listed("*Needs an owner*", lines))
        blocks += [assign_button(i.id) for i in unowned[:MESSAGE_ACTIONS]]
        if len(unowned) > MESSAGE_ACTIONS:
            blocks.append(left_out(len(unowned) - MESSAGE_ACTIONS, "/actions assign <id> @who"))
    return message(f"{len(result.items)} open action items", *blocks)


@reply.register
def _(result: ActionChanged) -> m.Message:
    what, label = {
        "done": (":white_check_mark: Done", "Done"),
        "moved": (":calendar: Moved", "Moved"),
        "already": ("Already done", "Already done"),
        "added": (":memo: Added", "Added"),
        "assigned": (":handshake: Assigned", "Assigned"),
        "already-owned": ("Already theirs, nothing changed", "Already theirs"),
    }[result.what]
    blocks: list[m.Block] = [section(m.line(what + ": {item}", item=_action_line(result.item)))]
    if result.before:
        blocks.append(context(m.line("It was {who}'s; both are told.", who=result.before)))
    if result.note:
        blocks.append(context(m.line(":calendar: {n}", n=result.note)))
    return message(f"{label}: {result.item.text}", *blocks)


@notice_view("action_assigned")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":handshake: {by} gave you an action item: {t} ({due})",
        by=data["by"],
        t=data["text"],
        due=_due(data["due"]),
    )
    blocks: list[m.Block] = [section(text)]
    if data.get("meeting"):
        blocks.append(context(m.line("From {m}", m=data["meeting"])))
    return message(f"New action item: {data['text']}", *blocks, item_buttons(data["id"]))


@notice_view("action_unassigned")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        "{by} gave your action item to {owner}: {t}. It is no longer on your list.",
        by=data["by"],
        owner=data["owner"],
        t=data["text"],
    )
    return message(f"Action item now {data['owner']}'s: {data['text']}", section(text))


@reply.register
def _(result: DecisionLog) -> m.Message:
    if not result.decisions:
        return message("No decisions yet", section(m.line("No decisions are recorded yet.")))
    lines = []
    for d in result.decisions:
        note = m.join(
            [
                *([m.line(" _(superseded by D{n})_", n=str(d.superseded_by))] if d.superseded_by else []),
                *([m.line(" _(supersedes D{n})_", n=str(d.supersedes))] if d.supersedes else []),
            ],
            "",
        )
        lines.append(
            m.line(
                "• *D{id}* {on}{where}: {text}{note}",
                id=str(d.id),
                on=f"{d.decided_on:%d %b %Y}",
                where=f" — {d.meeting}" if d.meeting else "",
                text=d.text,
                note=note,
            )
        )
    return message(f"{len(result.decisions)} decisions", _listed("*Decisions*", lines))


@form.register
def _(result: MinutesForm) -> m.Form:
    meetings = tuple(m.Option(name[:150], name) for name in result.meetings)
    inputs: tuple[m.Input, ...] = (
        m.ChoiceInput("meeting", "Meeting", meetings, initial=meetings[0].value if meetings else None),
        m.DateInput("held_on", "Date", initial=result.today.isoformat()),
        m.PeopleInput(
            "attendees", "Attendees", optional=True, choices=tuple(person(p) for p in result.people)
        ),
        m.TextInput(
            "notes",
            "Paste notes",
            multiline=True,
            optional=True,
            hint="Lines like ACTION @raj: … by Friday and DECISION: … are recognised.",
        ),
        m.TextInput("decisions", "Decisions", multiline=True, optional=True, hint="One per line."),
        m.TextInput(
            "actions",
            "Action items",
            multiline=True,
            optional=True,
            hint="One per line: owner, what, by when — e.g. Omar to close the queries by Dec 5",
        ),
    )
    typed = "/minutes <pasted notes>: lines like ACTION @raj: send the plan by Friday, and DECISION: …"
    return m.Form("minutes_form", "Minutes", "Preview", inputs, result.study_key, typed=typed)


def draft_form(result: MinutesDraft) -> m.Form:
    """The form's second page: what Cadence read, to confirm before posting."""
    blocks = tuple(minutes_blocks(result.data, preview=True))
    return m.Form(
        "minutes_confirm",
        "Confirm minutes",
        "Post",
        blocks,
        str(result.minutes_id),
        close="Discard",
        tell_on_close=True,
    )


def reschedule_form(item_id: int) -> m.Form:
    inputs = (m.DateInput("due", "New date"), m.TextInput("reason", "Why", multiline=True))
    typed = f"/actions move A{item_id} <new date> <reason>"
    return m.Form("action_reschedule", "Can't make it", "Save", inputs, str(item_id), typed=typed)
