"""@Cadence in a channel: answer in the thread — who owns what was asked, or how to ask."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from bot import outbox, ownership
from bot.errors import CadenceError
from bot.replies import Notice
from bot.studies import find_requester
from bot.wording import describe_role

_FILLER = re.compile(r"^\s*(who\s+(owns|handles|is\s+responsible\s+for)|owner\s+of)\s+", re.I)
HOW_TO = "Ask me with /who-owns <topic>, or see everything I do with /cadence help."


def answer_mention(
    session: Session,
    *,
    platform: str,
    user_id: str,
    channel: str,
    message_id: str,
    text: str,
    key: str,
    now: datetime,
) -> bool:
    """Reply once per mention, in the thread of the message `message_id` (the chat's id for it; `key` is
    the event's id); False when this mention was answered already. People in `text` are @handles."""
    question = topic_asked(text)
    study_id = None
    try:
        requester = find_requester(session, platform=platform, user_id=user_id, channel_id=channel)
        study_id = requester.study_id
        found = ownership.find_owner(session, requester=requester, query=question) if question else None
        reply = _describe(found) if isinstance(found, ownership.OwnerFound) else HOW_TO
    except CadenceError as error:
        reply = " ".join(filter(None, [error.message, error.hint]))
    return outbox.enqueue(
        session,
        key=key,
        to=outbox.Destination.reply(channel, message_id),
        notice=Notice("text", {"text": reply}),
        now=now,
        study_id=study_id,
        platform=platform,
    )


def topic_asked(text: str) -> str:
    """What someone asked about in free words: "who owns SAE reporting?" -> "SAE reporting"."""
    return _FILLER.sub("", text).strip(" ?!.")


def _describe(found: ownership.OwnerFound) -> str:
    topic = found.topic
    text = f"{topic.topic} is owned by {topic.owner.name} ({describe_role(topic.owner)})"
    if topic.backup:
        text += f"; the backup is {topic.backup.name} ({describe_role(topic.backup)})"
    return text + ". /who-owns shows how to reach them."
