"""The web pages' sign-in link: the answer to `/cadence dashboard`, and the direct message carrying it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages as m
from bot.views import context, message, notice_view, reply, section
from bot.web_links import LinkSent


@reply.register
def _(result: LinkSent) -> m.Message:
    text = m.line(
        ":incoming_envelope: Cadence has sent you a sign-in link to {study}'s web pages by direct message. "
        "It works once, within {minutes} minutes.",
        study=result.study_key,
        minutes=str(result.minutes),
    )
    return message("A sign-in link is on its way by direct message", section(text))


@notice_view("signin_link")
def _(data: dict[str, Any]) -> m.Message:
    link = m.Link(data["url"], "Open the dashboard")
    until = m.Time(datetime.fromisoformat(data["until"]))
    return message(
        m.line("Your sign-in link to {study}'s web pages", study=data["study"]),
        section(m.line("*{study}* on the web: {link}", study=data["study"], link=link)),
        context(
            m.line(
                "The link works once, until {until} ({minutes} minutes); whoever opens it is signed in "
                "as you, so keep it to yourself. Did not ask for it? Ignore it: it expires by itself.",
                until=until,
                minutes=str(data.get("minutes", 10)),
            )
        ),
    )
