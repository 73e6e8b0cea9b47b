"""Slack's names for people, turned into Cadence's: `<@U02MEI|mei>` in what someone typed becomes the
`@mei` the core reads (people are known by their handles there, never by a chat's ids)."""

from __future__ import annotations

import re

from sqlmodel import Session

from bot import directory

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")


def with_handles(session: Session, text: str) -> str:
    """`text` with each Slack mention of someone in a plan as their @handle; a mention of anyone else
    (Cadence itself, say) as the name Slack gave with it, or nothing."""
    if "<@" not in text:
        return text
    handles = {
        person.slack_id: person.handle
        for study in directory.current(session).studies.values()
        for person in study.people.values()
        if person.slack_id
    }

    def handle(found: re.Match) -> str:
        known = handles.get(found.group(1))
        if known:
            return f"@{known}"
        return f"@{found.group(2)}" if found.group(2) else ""

    return _MENTION.sub(handle, text).strip()


def conversation(channel_id: str | None) -> str | None:
    """The channel a request came from, or None for a direct message with Cadence (Slack's `D…` ids)."""
    return None if not channel_id or channel_id.startswith("D") else channel_id
