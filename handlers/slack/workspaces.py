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
        channel = self._instead_of_a_dm(person)
        if channel is not None:
            return self._home().post_to_channel(channel, _for(person, message), key=key)
        return self._of(person).direct_message(person, message, key=key)

    def publish_view(self, person: Contact, home: Home) -> None:
        if self._instead_of_a_dm(person) is None:  # no Cadence in their workspace: no Home tab to publish
            self._of(person).publish_view(person, home)

    def upload_file(self, *, channel: str | None, person: Contact | None, **rest: Any) -> Posted:
        through = self._of(person) if channel is None and person is not None else self._home()
        return through.upload_file(channel=channel, person=person, **rest)

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        if channel is None and person is not None:
            instead = self._instead_of_a_dm(person)  # a DM posted in the channel is looked for there
            if instead is not None:
                return self._home().find_posted(instead, None, key=key, since=since)
            return self._of(person).find_posted(None, person, key=key, since=since)
        return self._home().find_posted(channel, person, key=key, since=since)

    def _instead_of_a_dm(self, person: Contact) -> str | None:
        """The study channel, when the person is of another workspace than the home one and theirs has no
        installation: Cadence cannot write to them directly, so it mentions them where both sides read."""
        return run_in_session(self.engine, _channel_for_outsider, box=self.box, person=person)

    def _of(self, person: Contact) -> SlackNotifier:
        """A person's own workspace's installation; the home one until theirs is known or installed."""
        own = run_in_session(self.engine, installations.find, box=self.box, team_id=person.slack_team)
        return self._through(own) if own is not None else self._home()

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


def _channel_for_outsider(session: Session, *, box: TokenBox, person: Contact) -> str | None:
    if not person.slack_team or installations.find(session, box=box, team_id=person.slack_team):
        return None
    home = installations.home(session, box=box)
    if home is None or home.team_id == person.slack_team:
        return None
    study = next((s for s in directory.current(session).studies.values() if s.person(person.id)), None)
    return study.channel if study is not None and study.channel else None


def _for(person: Contact, message: Message) -> Message:
    """A direct message posted in the channel instead: it starts by naming whom it is for."""
    to = m.Section(
        (m.line("{p}, this is for you:", p=m.Person(person.name, person.handle, person.slack_id)),)
    )
    return replace(message, blocks=(to, *message.blocks))
