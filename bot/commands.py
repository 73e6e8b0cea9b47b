"""The slash commands, platform-neutral: each adapter hands over the command's text and renders the result.

A command handler's docstring is its help text: its first line is what `/cadence help` shows.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot import away as away_periods
from bot import (
    checkins,
    escalation,
    export,
    kpis,
    mentions,
    milestones,
    minutes,
    ownership,
    partnership,
    pulse,
    questions,
    reports,
    reviews,
    web_links,
)
from bot.errors import BadCommand
from bot.models import utcnow
from bot.studies import Requester, find_requester


@dataclass(frozen=True)
class Invocation:
    """Who sent which command text, from where."""

    platform: str  # "slack", "teams" or "console"
    user_id: str  # the platform's user id (the handle in the console)
    channel_id: str | None = None
    study_key: str | None = None  # set where the adapter knows the study (the console, a button's value)
    now: datetime | None = None  # the adapter's clock; None means the process clock (bot.clock)
    web_url: str | None = (
        None  # where `cadence serve`'s web pages are reached (CADENCE_PUBLIC_URL), if anywhere
    )


@dataclass(frozen=True)
class CommandInfo:
    name: str
    usage: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class HelpShown:
    commands: tuple[CommandInfo, ...]
    coming: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotYetAvailable:
    command: str
    meanwhile: str


@dataclass(frozen=True)
class _Command:
    info: CommandInfo
    handler: Callable[..., Any]
    needs_study: bool | Callable[[str], bool]
    available: bool
    takes_invocation: bool = False  # the handler wants where it was called from (its `invocation=`)


_COMMANDS: dict[str, _Command] = {}


def command(name: str, *usage: str, needs_study: bool | Callable[[str], bool] = True, available: bool = True):
    """Register a command handler under its slash name; its docstring's first line is its summary."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        summary = inspect.getdoc(handler) or ""
        info = CommandInfo(name, usage or (name,), summary.splitlines()[0] if summary else "")
        takes = "invocation" in inspect.signature(handler).parameters
        _COMMANDS[name] = _Command(info, handler, needs_study, available, takes)
        return handler

    return register


def command_names() -> list[str]:
    """Every slash command Cadence answers, in help order."""
    return list(_COMMANDS)


def run_typed(session: Session, *, text: str, invocation: Invocation) -> Any:
    """A command typed as a message, without Slack's command box: `ask …` or `/ask …` (Teams, a Slack
    @mention or direct message), `help` or nothing for the help. Free words ask who owns what they
    name ("who owns temperature excursions?"), else they get the help."""
    word, _, rest = text.strip().partition(" ")
    name = "/" + word.casefold().lstrip("/")
    if not word or name == "/help":
        return help_for()
    if name in _COMMANDS:
        return run_command(session, name=name, text=rest.strip(), invocation=invocation)
    found = run_command(session, name="/who-owns", text=mentions.topic_asked(text), invocation=invocation)
    return found if isinstance(found, ownership.OwnerFound) else help_for()


def run_command(session: Session, *, name: str, text: str, invocation: Invocation) -> Any:
    """Run a slash command for whoever sent it and return its result (a plain dataclass)."""
    entry = _COMMANDS.get(name)
    if entry is None:
        raise BadCommand(f"Cadence has no {name} command.", hint="Try /cadence help.")
    requester = None
    needs_study = entry.needs_study(text or "") if callable(entry.needs_study) else entry.needs_study
    if needs_study:
        requester = find_requester(
            session,
            platform=invocation.platform,
            user_id=invocation.user_id,
            channel_id=invocation.channel_id,
            study_key=invocation.study_key,
        )
    extra = {"invocation": invocation} if entry.takes_invocation else {}
    return entry.handler(session, requester, (text or "").strip(), invocation.now or utcnow(), **extra)


# What buttons and forms do, by name: each takes the requester and the form's values.
_ACTIONS: dict[str, Callable[..., Any]] = {
    "checkin.form": checkins.answer_form,
    "checkin.save": checkins.save_answer,
    "checkin.snooze": checkins.snooze,
    "question.answered": questions.mark_answered,
    "question.not_mine": questions.not_mine,
    "question.topic": questions.choose_topic,
    "escalation.raise": escalation.raise_issue,
    "escalation.acknowledge": escalation.acknowledge,
    "escalation.resolve": escalation.resolve,
    "escalation.climb": escalation.escalate_now,
    "minutes.draft": minutes.draft_minutes,
    "minutes.post": minutes.post_minutes,
    "minutes.cancel": minutes.cancel_minutes,
    "action.done": minutes.complete_action,
    "action.reschedule": minutes.reschedule_action,
    "action.assign": minutes.assign_action,
    "home": reports.home_for,
    "milestone.update": milestones.record_update,
    "milestone.accept": milestones.accept,
    "milestone.changes": milestones.request_changes,
    "ownership.confirm": reviews.confirm_topics,
    "ownership.handover": reviews.hand_over,
    "pulse.rate": pulse.rate,
    "pulse.comment": pulse.comment,
    "web.link": web_links.send_link,
}


def run_action(session: Session, *, name: str, invocation: Invocation, **values: Any) -> Any:
    """Run a button's or a form's action for whoever pressed or sent it."""
    requester = find_requester(
        session,
        platform=invocation.platform,
        user_id=invocation.user_id,
        channel_id=invocation.channel_id,
        study_key=invocation.study_key,
    )
    action = _ACTIONS[name]
    parameters = inspect.signature(action).parameters
    if "now" in parameters:
        values["now"] = invocation.now or utcnow()
    if "web_url" in parameters:
        values["web_url"] = invocation.web_url
    return action(session, requester=requester, **values)


def help_for(names: list[str] | None = None) -> HelpShown:
    """The help of the available commands (or of the named ones), and the commands still to come."""
    chosen = [c for c in _COMMANDS.values() if c.available and (names is None or c.info.name in names)]
    coming = tuple(c.info.name for c in _COMMANDS.values() if not c.available) if names is None else ()
    return HelpShown(tuple(c.info for c in chosen), coming)


_SET_OWNER = re.compile(r"^set\s+(?P<topic>.+?)\s+(?P<role>owner|backup)\s+(?P<person>\S.*)$", re.I | re.S)


@command(
    "/who-owns",
    "/who-owns <topic or keyword>",
    "/who-owns <person, role or side>   (what does Arjun own? · who is the CRO project manager? · CRO)",
    "/who-owns   (every topic and its owner)",
    "/who-owns set <topic> owner|backup @person   (admins)",
    "/who-owns confirm   ·   /who-owns handover <topic>   (owners)",
)
def who_owns(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """Find who owns a topic: owner, backup, their side, role and preferred contact."""
    if text.casefold() == "help":
        return help_for(["/who-owns"])
    if text.casefold() == "confirm":
        return reviews.confirm_topics(session, requester=requester, now=now)
    if text.casefold().startswith("handover "):
        return reviews.hand_over(session, requester=requester, topic=text[len("handover ") :], now=now)
    if text.casefold() == "set" or text.casefold().startswith("set "):
        match = _SET_OWNER.match(text)
        if not match:
            raise BadCommand(
                "To change ownership, name the topic, the role and the person.",
                hint="For example: /who-owns set Safety reporting backup @omar",
            )
        return ownership.change_ownership(
            session,
            requester=requester,
            topic_query=match["topic"],
            role=match["role"].lower(),
            person_reference=match["person"],
            now=now,
        )
    return ownership.find_owner(session, requester=requester, query=text, now=now)


@command(
    "/checkin",
    "/checkin   (who has answered this week's check-in)",
    "/checkin answer <on track|at risk|off track>; <answer 1>; <answer 2>; …",
    "/checkin stats [weeks]   (response rate and streaks per person and side)",
    "/checkin now   ·   /checkin skip <YYYY-MM-DD>   (admins)",
)
def checkin(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """Weekly check-ins: answer, see who has answered, participation; admins open or skip a round."""
    verb, _, rest = text.partition(" ")
    verb = verb.casefold()
    if verb in {"", "status"}:
        return checkins.round_status(session, requester=requester)
    if verb == "now":
        return checkins.open_round_now(session, requester=requester, now=now)
    if verb == "skip":
        if not rest.strip():
            raise BadCommand(
                "Which date should have no check-in?", hint="For example: /checkin skip 2026-12-28"
            )
        return checkins.add_skip(session, requester=requester, text=rest, now=now)
    if verb == "stats":
        weeks = _count(rest, 8, "/checkin stats 4   (the last four weeks; 8 when left out)")
        return checkins.participation(session, requester=requester, weeks=max(1, min(weeks, 52)))
    if verb == "answer":
        status, *answers = [part.strip() for part in rest.split(";")]
        if not status:
            raise BadCommand(
                "Start the answer with your status.",
                hint="For example: /checkin answer on track; site 3 activated; SIV at site 4; none",
            )
        return checkins.save_answer(session, requester=requester, status=status, answers=answers, now=now)
    if verb == "help":
        return help_for(["/checkin"])
    raise BadCommand(f"/checkin does not know '{verb}'.", hint="Try /checkin help.")


@command(
    "/ask",
    "/ask <question>   (goes to the topic's owner, or their cover)",
    "/ask list   (my open questions, and those waiting on me)",
    "/ask answered <id> [the answer]   ·   /ask not-mine <id>   ·   /ask topic <id> <topic>",
)
def ask(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """Ask the owner of a topic: Cadence routes the question, and chases it until it is answered."""
    verb, _, rest = text.partition(" ")
    verb = verb.casefold()
    if verb in {"list", "help"} and not rest.strip():
        if verb == "help":
            return help_for(["/ask"])
        return questions.list_questions(session, requester=requester, now=now)
    if verb in {"answered", "not-mine", "topic"} and rest.strip():
        ref, _, topic = rest.strip().partition(" ")
        question_id = _number(ref, "Q")
        if question_id is not None:
            if verb == "answered":  # what follows the id is the answer, for the asker
                return questions.mark_answered(
                    session, requester=requester, question_id=question_id, now=now, answer=topic
                )
            if verb == "not-mine":
                return questions.not_mine(session, requester=requester, question_id=question_id, now=now)
            if topic.strip():
                return questions.choose_topic(
                    session, requester=requester, question_id=question_id, topic=topic, now=now
                )
    return questions.ask(session, requester=requester, text=text, now=now)


@command(
    "/escalate",
    "/escalate [low|medium|high|critical] <summary>   (alone: asks for the details)",
    "   also as people say it: urgent, HIGH:, sev1–sev4, P1–P4, blocker, minor, and the plan's own words",
    "/escalate list   ·   /escalate show <id>",
    "/escalate ack <id>   ·   /escalate resolve <id> <note>   ·   /escalate up <id> <reason>",
)
def escalate(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """Raise a problem along the agreed escalation path; it climbs until someone acknowledges it."""
    verb, _, rest = text.partition(" ")
    verb = verb.casefold()
    if not text:
        return escalation.escalation_form(session, requester=requester)
    if verb == "help" and not rest:
        return help_for(["/escalate"])
    if verb == "list" and not rest:
        return escalation.list_open(session, requester=requester, now=now)
    if verb in {"show", "ack", "resolve", "up"}:
        ref, _, words = rest.strip().partition(" ")
        issue_id = _number(ref, "E")
        if issue_id is None:
            raise BadCommand(f"Which issue? Give its id after {verb}.", hint="/escalate list shows them.")
        if verb == "show":
            return escalation.show(session, requester=requester, issue_id=issue_id)
        if verb == "ack":
            return escalation.acknowledge(session, requester=requester, issue_id=issue_id, now=now)
        if verb == "resolve":
            return escalation.resolve(session, requester=requester, issue_id=issue_id, note=words, now=now)
        return escalation.escalate_now(session, requester=requester, issue_id=issue_id, reason=words, now=now)
    severity, summary = escalation.read_escalation(session, requester=requester, text=text)
    return escalation.raise_issue(session, requester=requester, severity=severity, summary=summary, now=now)


@command(
    "/minutes",
    "/minutes <pasted notes>   (alone: asks for them)",
    "   lines like ACTION @raj: send the plan by Friday · DECISION: screening window 21 days",
    "/minutes post <id>   ·   /minutes cancel <id>",
    "/minutes correct <id> <the whole corrected notes>   (supersedes them; whom a change concerns is told)",
)
def minutes_command(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """Post meeting minutes: decisions and action items with owners and due dates, reminded until done."""
    if not text:
        return minutes.minutes_form(session, requester=requester, now=now)
    verb, _, rest = text.partition(" ")
    if verb.casefold() == "correct":
        which, _, notes = rest.strip().partition(" ")
        if (number := _number(which, "M")) is None or not notes.strip():
            raise BadCommand(
                "Which minutes, and what do they say now?",
                hint="/minutes correct M3 <the whole corrected notes>: they supersede M3 once posted.",
            )
        return minutes.draft_minutes(session, requester=requester, text=notes, now=now, corrects=number)
    if verb.casefold() in {"post", "cancel"} and (number := _number(rest, "M")) is not None:
        action = minutes.post_minutes if verb.casefold() == "post" else minutes.cancel_minutes
        return action(session, requester=requester, minutes_id=number, now=now)
    if verb.casefold() == "help" and not rest:
        return help_for(["/minutes"])
    return minutes.draft_minutes(session, requester=requester, text=text, now=now)


@command(
    "/actions",
    "/actions   (mine)   ·   /actions all   (the study's, overdue first, and those that need an owner)",
    "/actions done <id>   ·   /actions move <id> <new date> <reason>   (15.12., Dec 15, EOW, next Friday)",
    "/actions add @who <what> by <when>   ·   /actions assign <id> @who   ·   /actions reassign <id> @who",
)
def actions_command(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """Open action items, yours or everyone's: close them, move their date, add them, give them an owner."""
    verb, _, rest = text.partition(" ")
    verb = verb.casefold()
    if verb in {"", "all", "mine"} and not rest:
        return minutes.list_actions(session, requester=requester, everyone=verb == "all", now=now)
    if verb == "add":
        return minutes.add_action(session, requester=requester, text=rest.strip(), now=now)
    if verb in {"assign", "reassign", "give"}:
        item, _, who = rest.strip().partition(" ")
        number = _number(item, "A")
        if number is None:
            raise BadCommand(
                f"Which action? Give its id after {verb}.", hint=f"/actions {verb} A3 @who   ·   /actions all"
            )
        return minutes.assign_action(session, requester=requester, item_id=number, who=who, now=now)
    if verb == "done" and (number := _number(rest, "A")) is not None:
        return minutes.complete_action(session, requester=requester, item_id=number, now=now)
    if verb in {"done", "move"} and not rest.strip():
        raise _which_action(session, requester, verb, now)
    if verb == "move":
        item, _, remainder = rest.strip().partition(" ")
        number = _number(item, "A")
        if number is not None and remainder.strip():
            return minutes.move_action(session, requester=requester, item_id=number, words=remainder, now=now)
        if number is not None:
            raise BadCommand(
                "To when, and why?", hint=f"For example: /actions move {item} next friday waiting for the IRB"
            )
    if verb == "help":
        return help_for(["/actions"])
    raise BadCommand(f"/actions does not know '{text}'.", hint="Try /actions help.")


@command(
    "/milestones",
    "/milestones   (every milestone: owner, due date, status, forecast, last update)",
    "/milestones update <milestone> on-track|at-risk|slipped [forecast <date>] <what moved>   (owners)",
    "/milestones done <milestone>   (owners)   ·   /milestones accept <milestone>   (acceptors)",
    "/milestones changes <milestone> <what needs to change>   (acceptors)",
)
def milestones_command(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """Milestones and deliverables: written updates from their owners, slips told, deliverables accepted."""
    verb, _, rest = text.partition(" ")
    verb = verb.casefold()
    if not verb or verb == "list":
        return milestones.list_milestones(session, requester=requester, now=now)
    if verb == "help":
        return help_for(["/milestones"])
    if verb == "update":
        return milestones.update_typed(session, requester=requester, text=rest, now=now)
    if verb in {"done", "accept"} and rest.strip():
        act = milestones.mark_done if verb == "done" else milestones.accept
        named = milestones.named(session, requester, rest, now)
        return act(session, requester=requester, milestone_id=named, now=now)
    if verb == "changes" and rest.strip():
        named, reason = milestones.named_and_rest(session, requester, rest, now)
        return milestones.request_changes(
            session, requester=requester, milestone_id=named, reason=reason, now=now
        )
    raise BadCommand(f"/milestones does not know '{text}'.", hint="Try /milestones help.")


@command("/decisions", "/decisions   ·   /decisions change <id> <the new decision>   (admins)")
def decisions_command(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """The study's decisions with their meeting and date; a change supersedes, never edits."""
    verb, _, rest = text.partition(" ")
    if not text:
        return minutes.decision_log(session, requester=requester)
    if verb.casefold() == "change":
        item, _, new_text = rest.strip().partition(" ")
        number = _number(item, "D")
        if number is not None:
            return minutes.supersede_decision(
                session, requester=requester, decision_id=number, text=new_text, now=now
            )
    if verb.casefold() == "help":
        return help_for(["/decisions"])
    raise BadCommand(f"/decisions does not know '{text}'.", hint="Try /decisions help.")


def _which_action(session: Session, requester: Requester, verb: str, now: datetime) -> BadCommand:
    """`/actions done` without an id: name the asker's own open actions to choose from."""
    mine = minutes.list_actions(session, requester=requester, everyone=False, now=now).items
    if not mine:
        return BadCommand("You have no open action items.", hint="/actions all lists the study's.")
    example = f"A{mine[0].id}"
    usage = f"/actions done {example}" if verb == "done" else f"/actions move {example} next friday <reason>"
    listed = "; ".join(f"A{a.id} {a.text}" for a in mine[:5])
    return BadCommand(f"Which action? Say its id: {usage}", hint=f"Your open actions: {listed}.")


_LISTS = {"Q": "/ask list", "E": "/escalate list", "M": "/minutes", "A": "/actions all", "D": "/decisions"}


def _number(ref: str, letter: str) -> int | None:
    """The number in a reference as people type it: ACME-201-E7, E7 or 7 (ASCII digits only)."""
    match = re.fullmatch(rf"(?:.*-)?{letter}?([0-9]+)", ref.strip(), re.I)
    if match is None:
        return None
    if len(match.group(1)) > 9:  # no id Cadence gives is that long, and the database takes none
        raise BadCommand(
            f"'{ref.strip()[:40]}' is not an id Cadence gave.", hint=f"{_LISTS[letter]} shows the ids."
        )
    return int(match.group(1))


def _count(text: str, default: int, usage: str) -> int:
    """A number of weeks as typed ("2", "2 weeks", "2w"), `default` when nothing is; anything else is
    refused with the usage rather than silently read as the default."""
    text = text.strip().casefold()
    if not text:
        return default
    match = re.fullmatch(r"([0-9]{1,4})\s*(?:w|wk|wks|week|weeks)?", text)
    if match is None:
        raise BadCommand(f"'{text}' is not a number of weeks.", hint=f"For example: {usage}")
    return int(match.group(1))


@command(
    "/away",
    "/away until <YYYY-MM-DD> [backup @person]",
    "/away off   ·   /away   (where things stand)",
)
def away(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    """Mark yourself away and name who covers: /who-owns points to them, check-ins skip you."""
    if text.casefold() == "help":
        return help_for(["/away"])
    return away_periods.handle_away(session, requester=requester, text=text, now=now)


@command(
    "/cadence",
    "/cadence help",
    "/cadence report [weeks]   (check-ins, answer and acknowledgement times, actions; with a chart)",
    "/cadence home   (what waits on you)",
    "/cadence export [from] [to]   (admins: the Trial Master File files, by direct message)",
    "/cadence kpis [weeks]   (each side against the agreed targets, with the trend)",
    "/cadence pulse   (how each side rates the other)   ·   /cadence pulse now   (admins)",
    "/cadence pulse answer [q2] <1-5> [comment]   (what the rating buttons do)",
    "/cadence review [from] [to]   (what went well and what to improve; the whole study by default)",
    "/cadence dashboard   (a sign-in link to the study's web pages, by direct message)",
    needs_study=lambda text: (
        text.strip().casefold().split(" ")[0]
        in {"report", "home", "export", "kpis", "pulse", "review", "dashboard"}
    ),
)
def cadence(
    session: Session,
    requester: Requester | None,
    text: str,
    now: datetime,
    invocation: Invocation | None = None,
) -> Any:
    """Show what Cadence can do and how to ask it; the report, KPIs, pulse and review; what waits on you."""
    verb, _, rest = text.partition(" ")
    verb = verb.casefold()
    if verb in {"", "help", "?"}:
        return help_for()
    if verb == "dashboard" and not rest.strip():
        web_url = invocation.web_url if invocation else None
        return web_links.send_link(session, requester=requester, now=now, web_url=web_url)
    if verb == "report":
        weeks = _count(rest, 4, "/cadence report 2   (the last two weeks; 4 when left out)")
        return reports.request_report(session, requester=requester, weeks=max(1, min(weeks, 26)), now=now)
    if verb == "home":
        return reports.home_for(session, requester=requester, now=now)
    if verb == "export":
        return export.export_for_admin(session, requester=requester, text=rest, now=now)
    if verb == "kpis":
        weeks = _count(rest, 4, "/cadence kpis 8   (the last eight weeks; 4 when left out)")
        return kpis.show(session, requester=requester, weeks=max(1, min(weeks, 52)), now=now)
    if verb == "pulse":
        return _pulse(session, requester, rest.strip(), now)
    if verb == "review":
        return partnership.review_for(session, requester=requester, text=rest, now=now)
    raise BadCommand(f"/cadence does not know '{text}'.", hint="Try /cadence help.")


def _pulse(session: Session, requester: Requester, text: str, now: datetime) -> Any:
    verb, _, rest = text.partition(" ")
    if not verb:
        return pulse.summary(session, requester=requester)
    if verb.casefold() == "now" and not rest:
        return pulse.start_now(session, requester=requester, now=now)
    if verb.casefold() == "answer":
        return pulse.answer_typed(session, requester=requester, text=rest, now=now)
    raise BadCommand(
        f"/cadence pulse does not know '{text[:40]}'.", hint="/cadence pulse, pulse now or pulse answer 4"
    )


def _coming(name: str, usage: str, meanwhile: str) -> None:
    def not_yet(session: Session, requester: Requester | None, text: str, now: datetime) -> NotYetAvailable:
        return NotYetAvailable(name, meanwhile)

    info = CommandInfo(name, (usage,), f"{name} is not available yet.")
    _COMMANDS[name] = _Command(info, not_yet, needs_study=False, available=False)
