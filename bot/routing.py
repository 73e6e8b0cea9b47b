"""One Notifier over several chats: each message goes out on the chat its recipient uses.

A study may have people on Slack and people on Teams. A person's messages go where they get Cadence
(bot.directory.person_platform); a channel's go to the chat the channel id belongs to; a thread reply
or an update follows its parent message. The outbox stays one queue with one idempotency key per
message, so a person on either chat gets each message once.
"""

from __future__ import annotations

from bot.directory import Contact, channel_platform, person_platform
from bot.messages import Home, Message
from bot.replies import Notifier, PermanentFailure, Posted


class RoutingNotifier:
    platform = "any"

    def __init__(self, notifiers: dict[str, Notifier]):
        self.notifiers = notifiers

    def _for(self, platform: str | None) -> Notifier:
        notifier = self.notifiers.get(platform or "")
        if notifier is None:
            raise PermanentFailure(f"{platform}_not_configured" if platform else "no_chat_id_in_plan")
        return notifier

    def _for_person(self, person: Contact) -> Notifier:
        return self._for(person_platform(person))

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        return self._for(channel_platform(channel)).post_to_channel(channel, message, key=key)

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        return self._for(channel_platform(channel)).post_in_thread(channel, thread, message, key=key)

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        return self._for_person(person).direct_message(person, message, key=key)

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        return self._for(channel_platform(channel)).update_message(channel, message_id, message)

    def publish_view(self, person: Contact, home: Home) -> None:
        self._for_person(person).publish_view(person, home)

    def upload_file(self, *, channel: str | None, person: Contact | None, **kwargs) -> Posted:
        if channel is not None:
            notifier = self._for(channel_platform(channel))
        elif person is not None:
            notifier = self._for_person(person)
        else:
            raise PermanentFailure("no_destination")
        return notifier.upload_file(channel=channel, person=person, **kwargs)

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        platform = channel_platform(channel) if channel else (person_platform(person) if person else None)
        notifier = self.notifiers.get(platform or "")
        return notifier.find_posted(channel, person, key=key, since=since) if notifier else None
