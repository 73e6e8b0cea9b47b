"""The Notifier port when Cadence is installed in several workspaces: what goes to a person (a DM, their
App Home, a file for them) through the installation of their own workspace, what goes to a channel
through the home installation (the first workspace to install Cadence, whose channel the study's
usually is). The token is looked up for every send, so a workspace that uninstalled is never sent
through again, on any instance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import directory, installations
from bot import messages as m
from bot.db import run_in_session
from bot.directory import Contact
from bot.installations import Installed, TokenBox
from bot.messages import Home, Message
from bot.replies import Posted, TemporaryFailure
from handlers.slack.notifier import SlackNotifier


class WorkspaceNotifier:
    platform = "slack"

    def __init__(self, engine: Engine, box: TokenBox, client_for: Callable[[str], WebClient]):
        self.engine, self.box, self.client_for = engine, box, client_for
        self._notifiers: dict[str, SlackNotifier] = {}  # by token: one Web API client each

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        return self._home().post_to_channel(channel, message, key=key)

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        return self._home().post_in_thread(channel, thread, message, key=key)

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        return self._home().update_message(channel, message_id, message)

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        through, channel = self._reach(person)
        if channel is not None:
            return through.post_to_channel(channel, _for(person, message), key=key)
        return through.direct_message(person, message, key=key)

    def publish_view(self, person: Contact, home: Home) -> None:
        through, channel = self._reach(person)
        if channel is None:  # with Cadence not in their workspace, they have no Home tab to publish
            through.publish_view(person, home)

    def upload_file(self, *, channel: str | None, person: Contact | None, **rest: Any) -> Posted:
        through = self._reach(person)[0] if channel is None and person is not None else self._home()
        return through.upload_file(channel=channel, person=person, **rest)

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        if channel is None and person is not None:
            through, instead = self._reach(person)  # a DM posted in the channel is looked for there
            return through.find_posted(instead, None if instead else person, key=key, since=since)
        return self._home().find_posted(channel, person, key=key, since=since)

    def _reach(self, person: Contact) -> tuple[SlackNotifier, str | None]:
        """Through which installation a person is reached, and the channel to mention them in instead of
        a DM when their workspace has none: one lookup a send."""
        installed, channel = run_in_session(self.engine, _reach, box=self.box, person=person)
        return self._through(installed), channel

    def _home(self) -> SlackNotifier:
        return self._through(run_in_session(self.engine, installations.home, box=self.box))

    def _through(self, installed: Installed | None) -> SlackNotifier:
        if installed is None:
            raise TemporaryFailure("not_installed_yet")  # kept, and sent once a workspace installs Cadence
        notifier = self._notifiers.get(installed.bot_token)
        if notifier is None:
            notifier = self._notifiers[installed.bot_token] = SlackNotifier(
                self.client_for(installed.bot_token)
            )
        return notifier


def _reach(session: Session, *, box: TokenBox, person: Contact) -> tuple[Installed | None, str | None]:
    """The person's own workspace's installation; else the home one, with the study channel when they are
    of another workspace (Cadence cannot write to them directly, so it mentions them where both sides
    read)."""
    own = installations.find(session, box=box, team_id=person.slack_team)
    if own is not None:
        return own, None
    home = installations.home(session, box=box)
    if home is None or not person.slack_team or home.team_id == person.slack_team:
        return home, None
    study = next((s for s in directory.current(session).studies.values() if s.person(person.id)), None)
    return home, (study.channel if study is not None and study.channel else None)


def _for(person: Contact, message: Message) -> Message:
    """A direct message posted in the channel instead: it starts by naming whom it is for."""
    to = m.Section(
        (m.line("{p}, this is for you:", p=m.Person(person.name, person.handle, person.slack_id)),)
    )
    return replace(message, blocks=(to, *message.blocks))
