"""The Notifier port on the Bot Connector API (through the Teams SDK's ApiClient), with Teams' errors sorted.

Teams' guidance for bots: on 429, back off with jitter; 412, 502 and 504 (and other 5xx) are worth
another try; anything else is final. The outbox does the waiting and retrying; this only classifies.
The SDK's client is asynchronous and the delivery worker is not: sends run on a private event loop
in a thread of their own, so one connection pool serves every worker thread.

Teams refuses a message over about 28 KB: a longer message goes as several (handlers.teams.cards), and a
report's chart as an image Teams fetches from `cadence serve` (bot.published), not inlined.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from microsoft_teams.api import (
    Account,
    ApiClient,
    CreateConversationParams,
    MessageActivityInput,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import messages as m
from bot import published
from bot.clock import Clock, SystemClock
from bot.db import session_scope
from bot.directory import Contact
from bot.messages import Home, Message
from bot.replies import DeliveryError, PermanentFailure, Posted, RateLimited, TemporaryFailure
from handlers.teams import cards, people
from handlers.teams.service_urls import ServiceUrls

log = logging.getLogger("cadence.teams")
T = TypeVar("T")
RETRYABLE = frozenset({408, 412, 500, 502, 503, 504})
SEND_TIMEOUT = 35.0  # the HTTP client gives up at 30 s
SPLIT_SENDS_KEPT = 1_000  # messages sent in several parts whose parts already sent are remembered


class _LoopThread:
    """An event loop in a daemon thread; synchronous callers run coroutines on it and wait."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="cadence-teams-send", daemon=True).start()

    def run(self, coroutine: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(SEND_TIMEOUT)  # type: ignore[arg-type]


class TeamsNotifier:
    platform = "teams"

    def __init__(
        self,
        engine: Engine,
        api_factory: Callable[[], ApiClient],
        *,
        bot_id: str | None,
        tenant_id: str | None = None,
        clock: Clock | None = None,
        service_urls: ServiceUrls | None = None,
        public_url: str | None = None,
    ):
        self.engine = engine
        self.public_url = public_url  # where Teams fetches charts from (CADENCE_PUBLIC_URL)
        # A message in several parts whose send was interrupted: the parts that went, not sent again.
        self._parts_sent: OrderedDict[str, list[str]] = OrderedDict()
        self._parts_lock = threading.Lock()
        self.bot_id = bot_id
        self.tenant_id = tenant_id
        self.service_urls = service_urls
        self.clock = clock or SystemClock()
        self._loop = _LoopThread()
        self._api = self._loop.run(self._make(api_factory))  # built on the loop that will use it

    @staticmethod
    async def _make(factory: Callable[[], ApiClient]) -> ApiClient:
        return factory()

    # --- the port --------------------------------------------------------------------------------

    def post_to_channel(self, channel: str, message: Message, *, key: str) -> Posted:
        return self._send(channel, message, key=key)

    def post_in_thread(self, channel: str, thread: str, message: Message, *, key: str) -> Posted:
        with Session(self.engine) as session:
            known = people.conversation(session, channel)
        # Channels thread by the root message's id; a chat has no threads, so the reply follows on.
        threaded = (
            f"{channel};messageid={thread}" if known is not None and known.kind == "channel" else channel
        )
        posted = self._send(threaded, message, key=key, service_url=known.service_url if known else None)
        return Posted(channel, posted.message_id)

    def direct_message(self, person: Contact, message: Message, *, key: str) -> Posted:
        conversation_id, service_url = self._personal_chat(person)
        return self._send(conversation_id, message, key=key, service_url=service_url)

    def update_message(self, channel: str, message_id: str, message: Message) -> Posted:
        """An edit replaces one message: what passes Teams' size limit is left out, and the card says so."""
        service_url = self._allowed(self._service_url(channel))
        with Session(self.engine) as session:
            activity = cards.card_activity(cards.cut_card(message, people.resolver(session)))
        conversations = self._api.conversations
        self._call(
            lambda: conversations.update_activity(channel, message_id, activity, service_url=service_url)
        )
        return Posted(channel, message_id)

    def publish_view(self, person: Contact, home: Home) -> None:
        """Teams has no App Home: what waits on someone is `actions`, `ask list` and `checkin` there."""

    def upload_file(
        self,
        *,
        channel: str | None,
        person: Contact | None,
        thread: str | None,
        filename: str,
        content: bytes,
        title: str,
        key: str,
    ) -> Posted:
        """A chart is an image Teams fetches from Cadence (or, with no public address, a line saying where its
        figures are); other files need SharePoint in Teams, so the message says where to get them."""
        if filename.lower().endswith(".png"):
            activity = self._chart(title, content, key)
        else:
            activity = MessageActivityInput(
                text=f"{title}: {filename} is ready. Teams cannot take files from Cadence; "
                "an admin gets it with `cadence export` on the server, or from Cadence in Slack."
            )
        if channel is not None:
            return self._post(channel, activity, self._service_url(channel))
        if person is None:
            raise PermanentFailure("no_destination")
        conversation_id, service_url = self._personal_chat(person)
        return self._post(conversation_id, activity, service_url)

    def find_posted(
        self, channel: str | None, person: Contact | None, *, key: str, since: float
    ) -> Posted | None:
        """The Bot Connector cannot list a conversation's messages: an interrupted send is sent again."""
        return None

    # --- sending ---------------------------------------------------------------------------------

    def _chart(self, title: str, content: bytes, key: str) -> MessageActivityInput:
        """A chart as a card showing it from its unguessable address (inlined, it would pass Teams' limit)."""
        if self.public_url is None:
            said = m.line(
                ":bar_chart: *{title}*: the chart is not shown here, as Teams shows only pictures it can "
                "fetch from Cadence and Cadence has no public address (an admin sets CADENCE_PUBLIC_URL). "
                "The same figures are in the report above.",
                title=title,
            )
            return cards.card_activity(cards.message_card(m.Message(said, (m.Section((said,)),))))
        with session_scope(self.engine) as session:
            token = published.publish(
                session, key=key, content=content, content_type=published.PNG, now=self.clock.now()
            )
        shown = m.Message(
            m.line("{t}", t=title),
            (
                m.Section((m.line("*{t}*", t=title),)),
                m.Image(published.chart_address(self.public_url, token), title),
            ),
        )
        return cards.card_activity(cards.message_card(shown))

    def _send(
        self, conversation_id: str, message: Message, *, key: str, service_url: str | None = None
    ) -> Posted:
        """The message as one activity, or as several in order when it would pass Teams' size limit."""
        service_url = service_url or self._service_url(conversation_id)
        with Session(self.engine) as session:
            drawn = cards.message_cards(message, people.resolver(session))
        if len(drawn) == 1:
            return self._post(conversation_id, cards.card_activity(drawn[0]), service_url)
        with self._parts_lock:
            sent = self._parts_sent.pop(key, [])
        for card in drawn[len(sent) :]:
            try:
                sent.append(self._post(conversation_id, cards.card_activity(card), service_url).message_id)
            except DeliveryError:
                self._remember_parts(key, sent)
                raise
        return Posted(conversation_id.split(";", 1)[0], sent[0])

    def _remember_parts(self, key: str, sent: list[str]) -> None:
        with self._parts_lock:
            self._parts_sent[key] = sent
            while len(self._parts_sent) > SPLIT_SENDS_KEPT:
                self._parts_sent.popitem(last=False)

    def _post(self, conversation_id: str, activity: MessageActivityInput, service_url: str) -> Posted:
        service_url = self._allowed(service_url)
        conversations = self._api.conversations
        sent = self._call(
            lambda: conversations.create_activity(conversation_id, activity, service_url=service_url)
        )
        return Posted(conversation_id.split(";", 1)[0], sent.id)

    def _service_url(self, conversation_id: str) -> str:
        with Session(self.engine) as session:
            known = people.conversation(session, conversation_id)
        if known is None:
            raise PermanentFailure("teams_conversation_unknown: add Cadence to the team or chat first")
        return known.service_url

    def _personal_chat(self, person: Contact) -> tuple[str, str]:
        """The 1:1 chat with a person: the one Teams gave us, or a new one opened with them."""
        with session_scope(self.engine) as session:
            aad_id = people.entra_id(session, person)
            if aad_id is None:
                raise PermanentFailure("teams_person_not_met: they have not used Cadence in Teams yet")
            chat = people.personal_chat(session, aad_id)
            if chat is not None:
                return chat.conversation_id, chat.service_url
            met = people.member(session, aad_id)
            if met is None:
                raise PermanentFailure("teams_person_not_met: add Cadence to a team they are in")
            user_id, service_url, tenant_id = met.user_id, met.service_url, met.tenant_id or self.tenant_id
        params = CreateConversationParams(
            is_group=False,
            bot=Account(id=self.bot_id or ""),
            members=[Account(id=user_id)],
            tenant_id=tenant_id,
        )
        api = self._api.clone(service_url=self._allowed(service_url))
        created = self._call(lambda: api.conversations.create(params))
        with session_scope(self.engine) as session:
            seen = people.Seen(created.id, "personal", service_url, tenant_id, aad_id, user_id, person.name)
            people.remember(session, seen, self.clock.now())
        return created.id, service_url

    def _allowed(self, service_url: str) -> str:
        """The bot's token goes only to the configured cloud's Bot Connector (a reference kept before that
        rule, or written by hand, is not followed)."""
        if self.service_urls is not None and not self.service_urls.allows(service_url):
            raise PermanentFailure("teams_service_url_not_allowed: not the configured cloud's Bot Connector")
        return service_url

    def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        async def call() -> T:
            return await request()

        try:
            return self._loop.run(call())
        except httpx.HTTPStatusError as error:
            raise classify(error.response) from None
        except (httpx.TransportError, OSError, TimeoutError) as error:
            raise TemporaryFailure(f"connection: {type(error).__name__}") from None


def classify(response: httpx.Response) -> DeliveryError:
    status = response.status_code
    code = _error_code(response)
    if status == 429:
        retry_after = response.headers.get("retry-after")
        # Without Retry-After Teams asks for exponential backoff with jitter; the outbox pauses this
        # conversation for a jittered second or two, and the backoff grows with repeated 429s there.
        return RateLimited(
            code or "throttled", float(retry_after) if retry_after else random.uniform(1.0, 3.0)
        )
    if status in RETRYABLE or status >= 500:
        return TemporaryFailure(f"http {status}" + (f" {code}" if code else ""))
    if status == 401:  # an expired or not yet valid token: the SDK fetches a new one next time
        return TemporaryFailure("http 401 unauthorized")
    return PermanentFailure(f"http {status}" + (f" {code}" if code else ""))


def _error_code(response: httpx.Response) -> str | None:
    try:
        body: Any = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None
