"""Plain-text rendering of core results for the terminal."""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch
from typing import Any

from bot.away import AwayEnded, AwaySet, AwayShown
from bot.checkins import AnswerSaved, Participation, RoundOpened, RoundStatus, SkipAdded
from bot.commands import HelpShown, NotYetAvailable
from bot.directory import Contact, TopicOwners
from bot.errors import CadenceError
from bot.escalation import EscalationForm, IssueChanged, IssueHistory, IssueList, snapshot
from bot.export import ExportSent
from bot.minutes import ActionChanged, ActionList, DecisionLog, MinutesDraft, MinutesForm, MinutesPosted
from bot.ownership import Cover, NoTopicFound, OwnerFound, OwnershipChanged, TopicsListed
from bot.questions import Asked, ChooseTopic, QuestionClosed, QuestionList, Rerouted
from bot.replies import Notice
from bot.reports import HomeView, ReportRequested
from bot.reviews import HandedOver, TopicsConfirmed
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
        *([_cover_line(topic.owner, result.cover)] if result.cover else []),
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


def _cover_line(owner: Contact, cover: Cover) -> str:
    stand_in = f"ask {mention(cover.person)} meanwhile" if cover.person else "nobody is named to cover"
    return f"  {mention(owner)} is away until {cover.until:%a %d %b}: {stand_in}."


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
            away = result.away.get(owner.handle)
            note = ""
            if away:
                note = f" (away until {away.until:%d %b}" + (
                    f", ask {mention(away.person)})" if away.person else ")"
                )
            lines.append(f"  • {mention(owner)}, {owner.role}{note}: {items}")
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
def _(result: AwaySet) -> str:
    cover = (
        f" {mention(result.cover)} covers for you."
        if result.cover
        else " Your topics' backups cover for you."
    )
    return f"You are away until {result.until:%a %d %b %Y}.{cover} /away off when you are back."


@render.register
def _(result: AwayEnded) -> str:
    return "Welcome back: you are no longer away." if result.was_away else "You were not marked away."


@render.register
def _(result: AwayShown) -> str:
    if result.away is None:
        return "You are not marked away."
    cover = f", covered by {mention(result.cover)}" if result.cover else ""
    return f"You are away until {result.away.until:%a %d %b %Y}{cover}."


@render.register
def _(result: NotYetAvailable) -> str:
    return f"{result.command} is not available yet — meanwhile, {result.meanwhile}."


@render.register
def _(result: RoundOpened) -> str:
    if result.already:
        return (
            f"This week's check-in ({result.week}) is already {result.already}; no second round was opened."
        )
    return (
        f"Opened the check-in for week {result.week}: {len(result.prompted)} people are being asked. "
        f"It closes {result.closes_at:%Y-%m-%d %H:%M} UTC."
    )


@render.register
def _(result: RoundStatus) -> str:
    if result.week is None:
        return "No check-in round has opened yet."
    state = f"open until {result.closes_at:%Y-%m-%d %H:%M} UTC" if result.state == "open" else "closed"
    answered = (
        ", ".join(f"{name} ({STATUS_LABELS[status]})" for name, status in result.answered) or "nobody yet"
    )
    waiting = ", ".join(result.waiting) or "nobody"
    return f"Check-in, week {result.week} ({state})\n  Answered: {answered}\n  Waiting for: {waiting}"


@render.register
def _(result: SkipAdded) -> str:
    return f"No check-in will open on {result.day}." if result.added else f"{result.day} was already skipped."


@render.register
def _(result: AnswerSaved) -> str:
    text = (
        f"Thanks: your check-in for week {result.week} is {'updated' if result.edited else 'in'} "
        f"({STATUS_LABELS[result.status]})."
    )
    return text + (" The round had closed, so it was added under the digest." if result.late else "")


@render.register
def _(result: Participation) -> str:
    if not result.weeks:
        return "No check-in round has opened yet."

    def rate(answered: int, asked: int) -> str:
        return f"{answered}/{asked} ({answered * 100 // asked}%)" if asked else "—"

    lines = [f"Check-in participation, last {len(result.weeks)} round(s)"]
    lines.append("  " + " · ".join(f"{side_label(side)} {rate(a, n)}" for side, a, n in result.sides))
    for p in sorted(result.people, key=lambda p: (p.side, -p.answered / p.asked, p.name)):
        lines.append(f"  • {p.name} ({side_label(p.side)}): {rate(p.answered, p.asked)}, streak {p.streak}")
    return "\n".join(lines)


def _who(who: dict[str, Any] | None) -> str:
    return f"@{who['handle']}" if who else "someone"


def _question_notice(data: dict[str, Any]) -> str:
    cover = f" (covering for {_who(data['covering_for'])}, who is away)" if data.get("covering_for") else ""
    lines = [
        f"{data['ref']} · {data['topic']}: {_who(data['to'])}{cover}, {_who(data['asker'])} asks:",
        f"  > {data['text']}",
    ]
    if data.get("answered_by"):
        lines.append(f"  Answered — marked by {data['answered_by']}")
    elif data.get("passed_on_by"):
        lines.append(f"  Passed on by {data['passed_on_by']}")
    else:
        lines.append(f"  /ask answered {data['ref']}   ·   /ask not-mine {data['ref']}")
    return "\n".join(lines)


@render.register
def _(result: Asked) -> str:
    where = "in the study channel" if result.in_channel else "by direct message, as they prefer"
    cover = f", covering for {mention(result.covering_for)} who is away" if result.covering_for else ""
    return (
        f"Your question {result.ref} went to {mention(result.to)}{cover} ({result.topic}), {where}. "
        f"Expected answer by {result.due_at:%Y-%m-%d %H:%M} UTC."
    )


@render.register
def _(result: ChooseTopic) -> str:
    lead = "fits more than one topic" if result.ambiguous else "fits no topic clearly"
    lines = [f"Your question {result.ref} {lead}. Choose one:"]
    lines += [f"  /ask topic {result.ref} {t.topic}" for t in result.options]
    return "\n".join(lines)


@render.register
def _(result: QuestionClosed) -> str:
    return f"{result.ref} is answered (marked by {result.by}). Chasing stops."


@render.register
def _(result: Rerouted) -> str:
    return f"{result.ref} now goes to {mention(result.to)} ({result.topic})."


@render.register
def _(result: QuestionList) -> str:
    def lines(items, label: str) -> list[str]:
        out = [f"{label}:"] + [
            f"  • {q.ref} {q.text[:80]} — {q.who} ({q.age_hours:.0f}h)" + (" overdue" if q.overdue else "")
            for q in items
        ]
        return out + ([] if items else ["  nothing"])

    return "\n".join(lines(result.mine, "My open questions") + lines(result.waiting_on_me, "Waiting on me"))


@render.register
def _(result: TopicsConfirmed) -> str:
    return "Thanks, confirmed: " + ", ".join(result.topics) + "."


@render.register
def _(result: HandedOver) -> str:
    admins = " and ".join(result.admins) or "the admins"
    return f"Noted: {admins} will name a new owner for {result.topic}. Until then it stays with you."


def _issue_text(d: dict[str, Any]) -> str:
    lines = [f"{d['ref']} [{d['severity']}] {d['summary']}"]
    if d["state"] == "resolved":
        lines.append(f"  Resolved by {d['resolved_by']}: {d['resolution']}")
    elif d["state"] == "acknowledged":
        lines.append(f"  Acknowledged by {d['acknowledged_by']}")
    else:
        people = ", ".join(f"@{p['handle']}" for p in d["people"]) or "nobody"
        within = f" — acknowledge within {d['ack_within']}" if d.get("ack_within") else ""
        lines.append(f"  Level {d['level']} of {d['levels']}, {d['level_name']}: {people}{within}")
    lines.append(
        f"  Raised by @{d['reporter']['handle']}" + (f" · topic: {d['topic']}" if d.get("topic") else "")
    )
    if d["state"] != "resolved":
        lines.append(
            (f"  /escalate ack {d['ref']}   ·   " if d["state"] == "open" else "  ")
            + f"/escalate resolve {d['ref']} <note>"
            + (f"   ·   /escalate up {d['ref']} <reason>" if d.get("next_level") else "")
        )
    return "\n".join(lines)


@render.register
def _(result: EscalationForm) -> str:
    return (
        "Say what the problem is: /escalate [low|medium|high|critical] <summary>, "
        "e.g. /escalate high Temperature excursion on kit shipment 14"
    )


@render.register
def _(result: IssueChanged) -> str:
    data = snapshot(result.issue)
    if result.what == "raised":
        lead = f"Raised {result.issue.ref}; {result.issue.level.name} are notified."
    elif result.what == "already":
        lead = f"{result.issue.ref} is {result.issue.state} already; nothing changed."
    else:
        lead = f"{result.issue.ref} {result.what}."
    return f"{lead}\n{_issue_text(data)}"


@render.register
def _(result: IssueList) -> str:
    if not result.issues:
        return "No open issues in this study."
    lines = ["Open issues:"]
    for issue in result.issues:
        age = (result.now - issue.raised_at).total_seconds() / 3600
        people = ", ".join(mention(p) for p in issue.level.people)
        lines.append(
            f"  • {issue.ref} [{issue.severity}] {issue.summary[:80]} — {issue.state}, level "
            f"{issue.level.number} {issue.level.name} ({people}), {age:.0f}h old"
        )
    return "\n".join(lines)


@render.register
def _(result: IssueHistory) -> str:
    history = [f"  {when:%Y-%m-%d %H:%M} UTC · {who}: {what}" for when, who, what in result.events]
    return "\n".join([_issue_text(snapshot(result.issue)), "History:", *history])


def _due_words(due: str | None) -> str:
    return f"due {due}" if due else "no due date"


def _minutes_text(d: dict[str, Any], *, preview: bool) -> str:
    lines = [f"Minutes — {d['meeting']}, {d['held_on']} ({d['ref']})"]
    if d["attendees"]:
        lines.append("  Attendees: " + ", ".join(f"@{a['handle']}" for a in d["attendees"]))
    lines += ["  Decisions:", *(f"    • {x}" for x in d["decisions"])] if d["decisions"] else []
    tracked = [a for a in d["actions"] if a["owner"]]
    if tracked:
        lines.append("  Action items:")
        lines += [f"    • @{a['owner']['handle']} — {a['text']} ({_due_words(a['due'])})" for a in tracked]
    unowned = [a for a in d["actions"] if not a["owner"]]
    lines += ["  Needs an owner:", *(f"    • {a['line']}" for a in unowned)] if unowned else []
    lines += ["  Notes:", *(f"    {n}" for n in d["notes"])] if d["notes"] else []
    if preview and d["problems"]:
        lines += ["  Not fully understood (kept as written):", *(f"    • {p}" for p in d["problems"])]
    lines.append(f"  Note taker: @{d['note_taker']['handle']}")
    return "\n".join(lines)


@render.register
def _(result: MinutesForm) -> str:
    return "Paste the notes after /minutes: lines like ACTION @raj: send the plan by Friday, and DECISION: …"


@render.register
def _(result: MinutesDraft) -> str:
    return (
        f"{_minutes_text(result.data, preview=True)}\nPost them: /minutes post {result.ref}   ·   "
        f"discard: /minutes cancel {result.ref}"
    )


@render.register
def _(result: MinutesPosted) -> str:
    if result.actions == result.decisions == 0 and result.channel is None:
        return f"Discarded the draft {result.ref}."
    return (
        f"Posted {result.ref}: {result.decisions} decision(s), {result.actions} action item(s); "
        "each owner got theirs."
    )


def _action_text(item: Any) -> str:
    due = f"due {item.due_on}" if item.due_on else "no due date"
    return f"A{item.id} {item.text} — {item.owner}, {due}" + (" OVERDUE" if item.overdue else "")


@render.register
def _(result: ActionList) -> str:
    title = "The study's open action items:" if result.everyone else "Your open action items:"
    return (
        "\n".join([title, *(f"  • {_action_text(i)}" for i in result.items)] or [])
        if result.items
        else f"{title} nothing open."
    )


@render.register
def _(result: ActionChanged) -> str:
    return {"done": "Done", "moved": "Moved", "already": "Already done"}[
        result.what
    ] + f": {_action_text(result.item)}"


@render.register
def _(result: DecisionLog) -> str:
    if not result.decisions:
        return "No decisions are recorded yet."
    lines = ["Decisions:"]
    for d in result.decisions:
        note = (f" (superseded by D{d.superseded_by})" if d.superseded_by else "") + (
            f" (supersedes D{d.supersedes})" if d.supersedes else ""
        )
        lines.append(f"  • D{d.id} {d.decided_on}{' — ' + d.meeting if d.meeting else ''}: {d.text}{note}")
    return "\n".join(lines)


def _home_text(d: dict[str, Any]) -> str:
    lines = [f"{d['study']} — what waits on you, {d['name']}"]
    if d.get("away_until"):
        lines.append(
            f"  You are away until {d['away_until']}" + (f"; {d['cover']} covers" if d.get("cover") else "")
        )
    lines.append("  Your open action items:")
    lines += [
        f"    • A{a['id']} {a['text']} — {'due ' + a['due'] if a['due'] else 'no due date'}"
        + (" OVERDUE" if a["overdue"] else "")
        for a in d["actions"]
    ] or ["    nothing open"]
    lines.append("  Questions waiting on you:")
    lines += [f"    • {r} {t[:80]} — from {a}" for r, t, a in d["questions"]] or ["    none"]
    lines.append("  Escalations with your level:")
    lines += [f"    • {r} [{s}] {t[:80]} — {level}" for r, s, t, level in d["escalations"]] or ["    none"]
    if d.get("next_checkin"):
        lines.append(f"  Next check-in: {d['next_checkin'][:16].replace('T', ' ')}")
    if d["milestones"]:
        lines.append("  Milestones: " + "; ".join(f"{n} {due} ({o})" for n, due, o in d["milestones"]))
    return "\n".join(lines)


def _figure(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:g} {unit}"


def _report_text(d: dict[str, Any]) -> str:
    cur = d["current"]
    sides = (
        ", ".join(f"{side_label(s)} {r['percent']}%" for s, r in cur["response_by_side"].items())
        or "no rounds"
    )
    return "\n".join(
        [
            f"Cadence report — {d['study']}, {d['from']} to {d['to']}",
            f"  Check-ins answered: {sides}",
            f"  Median time to answer questions: {_figure(cur['median_hours_to_answer'], 'h')}; "
            f"to acknowledge escalations: {_figure(cur['median_minutes_to_acknowledge'], 'min')}",
            f"  Action items due: {cur['actions_on_time']} on time, {cur['actions_late']} late; "
            f"{cur['actions_open']} open and not yet due",
        ]
    )


@render.register
def _(result: HomeView) -> str:
    return _home_text(result.as_data())


@render.register
def _(result: ReportRequested) -> str:
    return f"The cadence report for the last {result.weeks} week(s) is on its way."


@render.register
def _(result: ExportSent) -> str:
    return f"The export ({result.files} files, zipped) is on its way to you by direct message."


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


STATUS_LABELS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}


def _checkin_message(data: dict[str, Any], opening: str) -> str:
    lines = [opening]
    lines += [f"  {i}. {q}" for i, q in enumerate(data["questions"], 1)]
    if data.get("answered"):
        lines.append(
            f"  Answered: {STATUS_LABELS[data['answered']]}. You can edit it until the round closes."
        )
    else:
        lines.append("  Answer: /checkin answer <on track|at risk|off track>; <answer 1>; <answer 2>; …")
    return "\n".join(lines)


def _answer_lines(entry: dict[str, Any]) -> list[str]:
    late = " (late)" if entry.get("late") else ""
    lines = [f"  [{STATUS_LABELS[entry['status']]}] @{entry['handle']} {entry['name']}{late}"]
    lines += [
        f"      {q} {a}" for q, a in zip(entry["questions"], entry["answers"], strict=False) if a.strip()
    ]
    return lines


def _digest(data: dict[str, Any]) -> str:
    lines = [f"Check-in digest — {data['study']}, week {data['week']}"]
    for group in data["groups"]:
        lines.append(f" {side_label(group['side'])}:")
        for entry in group["entries"]:
            lines += _answer_lines(entry)
    if not data["groups"]:
        lines.append("  Nobody answered this week.")
    lines.append(
        f"  No answer from: {', '.join(data['silent'])}" if data["silent"] else "  Everyone answered."
    )
    return "\n".join(lines)


_NOTICES["checkin_prompt"] = lambda d: _checkin_message(
    d, f"Hi {d['name'].split()[0]}, it's check-in time for {d['study']} (week {d['week']})."
)
_NOTICES["checkin_reminder"] = lambda d: _checkin_message(
    d, f"{d['name'].split()[0]}, a reminder: your check-in for {d['study']} (week {d['week']}) is still open."
)
_NOTICES["checkin_digest"] = _digest
_NOTICES["checkin_late_answer"] = lambda d: "\n".join(["Late check-in:", *_answer_lines(d | {"late": True})])


def notice_renderer(kind: str):
    def register(render: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
        _NOTICES[kind] = render
        return render

    return register


def render_notice(notice: Notice) -> str:
    return _NOTICES[notice.kind](notice.data)


def _question_reminder(d: dict[str, Any]) -> str:
    return (
        f"{d['ref']} ({d['topic']}) from {_who(d['asker'])} is waiting for your answer:\n  > {d['text']}\n"
        f"  /ask answered {d['ref']}   ·   /ask not-mine {d['ref']}"
    )


def _question_backup(d: dict[str, Any]) -> str:
    return (
        f"{d['ref']} ({d['topic']}) has had no answer from {_who(d['assignee'])}; as the backup, "
        f"can you help {_who(d['asker'])}?\n  > {d['text']}"
    )


def _question_backup_asker(d: dict[str, Any]) -> str:
    return (
        f"Your question {d['ref']} has no answer yet from {_who(d['assignee'])}, "
        f"so Cadence asked {_who(d['backup'])}, the topic's backup, too."
    )


def _question_unclear(d: dict[str, Any]) -> str:
    return (
        f"{d['ref']} on {d['topic']} has been routed {d['routes']} times: who owns this topic looks unclear."
    )


_NOTICES.update(
    {
        "question": _question_notice,
        "question_answered": lambda d: f"Your question {d['ref']} was marked answered by {d['by']}.",
        "question_reminder": _question_reminder,
        "question_replied": lambda d: (
            f"{d['by']} replied to your question {d['ref']}. Answered? /ask answered {d['ref']}"
        ),
        "question_backup": _question_backup,
        "question_backup_asker": _question_backup_asker,
        "question_unclear": _question_unclear,
    }
)


_NOTICES.update(
    {
        "ownership_review": lambda d: (
            f"Are these {d['study']} topics still yours? "
            + ", ".join(d["topics"])
            + "\n  /who-owns confirm   ·   /who-owns handover <topic>"
        ),
        "ownership_unconfirmed": lambda d: (
            f"{d['owner']} has not confirmed owning " + ", ".join(d["topics"]) + "."
        ),
        "ownership_handover": lambda d: (
            f"{d['owner']} hands over {d['topic']}: name a new owner with "
            f"/who-owns set {d['topic']} owner @person."
        ),
    }
)


_NOTICES.update(
    {
        "escalation_card": _issue_text,
        "escalation_notify": lambda d: (
            f"{d['ref']} is with {d['level_name']} now ({d['why']}); per the agreed "
            f"path you are asked to pick it up.\n{_issue_text(d)}"
        ),
        "escalation_moved": lambda d: (
            f"{d['ref']} moved from {d['from_level']} to {d['level_name']} ({d['why']})."
        ),
        "escalation_reporter": lambda d: f"{d['ref']}: {d['event']}.\n{_issue_text(d)}",
    }
)


_NOTICES.update(
    {
        "minutes": lambda d: _minutes_text(d, preview=False),
        "minutes_actions": lambda d: (
            "Your action items from "
            + d["meeting"]
            + ":\n"
            + "\n".join(
                f"  • {a['text']} ({_due_words(a['due'])})   /actions done A{a['id']}" for a in d["actions"]
            )
        ),
        "action_done": lambda d: f"Done: {d['text']} ({d['owner']})",
        "action_reminder": lambda d: (
            f"Your action item A{d['id']} is "
            + {"before": "due tomorrow", "due": "due today"}.get(d["kind"], "overdue")
            + f": {d['text']}"
        ),
        "minutes_chase": lambda d: (
            f"The minutes of {d['meeting']} ({d['held_on']}) are not posted yet: /minutes"
        ),
        "minutes_chase_admins": lambda d: (
            f"The minutes of {d['meeting']} ({d['held_on']}) are still not posted; "
            f"{d['note_taker']} takes the notes for it."
        ),
    }
)


_NOTICES.update({"home": _home_text, "report": _report_text})
