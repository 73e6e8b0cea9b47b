"""What every command shares: help, refusals, apologies, plain text, and failed deliveries."""

from __future__ import annotations

from typing import Any

from bot import messages as m
from bot.commands import HelpShown, NotYetAvailable
from bot.errors import CadenceError
from bot.views import context, message, notice_view, reply, section


@reply.register
def _(result: HelpShown) -> m.Message:
    blocks: list[m.Block] = [
        section(m.line("*Cadence* keeps the sponsor and the CRO on the communication plan they agreed."))
    ]
    for info in result.commands:
        usage = [(m.Code(u),) for u in info.usage]
        blocks.append(section(m.line("*{name}* — {summary}", name=info.name, summary=info.summary), *usage))
    if result.coming:
        blocks.append(context(m.line("Coming soon: {coming}", coming=", ".join(result.coming))))
    return message("Cadence help", *blocks)


@reply.register
def _(result: NotYetAvailable) -> m.Message:
    text = f"{result.command} is not available yet — meanwhile, {result.meanwhile}."
    return message(text, section(m.line("{text}", text=text)))


def refusal(error: CadenceError) -> m.Message:
    """A friendly answer to a user-facing error: what was wrong, and what to do instead."""
    notes = [m.line("{hint}", hint=error.hint)] if error.hint else []
    notes += [m.line("{key}: {channel}", key=key, channel=m.Channel(c)) for key, c in error.channels.items()]
    blocks: list[m.Block] = [section(m.line(":warning: {text}", text=error.message))]
    if notes:
        blocks.append(context(*notes))
    return message(error.message, *blocks)


def apology(reference: str) -> m.Message:
    """What a user sees when something unexpected broke: no traceback, a reference for the logs."""
    text = (
        "Something went wrong on Cadence's side and nothing was changed. Please try again in a moment; "
        f"if it keeps happening, tell your admin the reference {reference}."
    )
    return message(text, section(m.line(":warning: {text}", text=text)))


@notice_view("text")
def _(data: dict[str, Any]) -> m.Message:
    return message(data["text"], section(m.line("{text}", text=data["text"])))


@notice_view("slack_uninstalled")
def _(data: dict[str, Any]) -> m.Message:
    text = m.line(
        ":warning: Cadence was removed from the Slack workspace {team}. Its people are reached through the "
        "study's other installation until it is installed there again.",
        team=data["team"],
    )
    hint = m.line("To install it again: open Cadence's /slack/install page from that workspace.")
    return message(f"Cadence was removed from {data['team']}", section(text), context(hint))


@notice_view("delivery_failed")
def _(data: dict[str, Any]) -> m.Message:
    text = (
        f"A message from Cadence for {data['study']} could not be delivered to {data['recipient']}: "
        f"{data['reason']}."
    )
    hint = (
        "Check that Cadence is in the channel (in Teams: in the team) and that the person's Slack or "
        "Teams id in the plan is current."
    )
    return message(
        text,
        section(m.line(":warning: {text}", text=text)),
        context(m.line("{hint}", hint=hint), (m.Code(data["key"]),)),
    )


@notice_view("file_not_built")
def _(data: dict[str, Any]) -> m.Message:
    text = f"{data['title']} could not be built, so nothing is coming: {data['reason']}."
    hint = "Please ask again, perhaps for a shorter period; if it fails again, tell your admin the reference."
    return message(text, section(m.line(":warning: {text}", text=text)), context(m.line("{hint}", hint=hint)))
