"""The Teams app: the Teams SDK's App, serving Bot Framework activities at /api/messages.

Commands are messages to the bot (`who-owns SAE`, with or without a leading slash, @-mentioning
Cadence in a channel); answers are Adaptive Cards; buttons are Action.Submit and come back as
messages carrying a value; forms are cards with inputs. Every activity's conversation reference is
kept (handlers.teams.people) so that the outbox can reach people later.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from microsoft_teams.api import ActivityTypeAdapter, ApiClient
from microsoft_teams.api.auth.cloud_environment import from_name, with_overrides
from microsoft_teams.apps import App
from microsoft_teams.apps.auth import InboundActivityTokenValidator
from microsoft_teams.apps.events import CoreActivity
from microsoft_teams.apps.http.adapter import HttpMethod, HttpRequest, HttpResponse, HttpRouteHandler
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import directory, forms, outbox, views
from bot import messages as m
from bot.clock import Clock, SystemClock
from bot.commands import HelpShown, Invocation, run_typed
from bot.config import Settings
from bot.errors import CadenceError
from bot.minutes import MinutesDraft
from bot.received import AlreadyTakenIn, Once
from bot.views.buttons import form_for_button
from bot.views.checkins import snoozed
from bot.views.general import apology, refusal
from bot.views.minutes import draft_form
from handlers.teams import cards, people, service_urls
from handlers.teams.service_urls import ServiceUrls

log = logging.getLogger("cadence.teams")
T = TypeVar("T")
MESSAGES_PATH = "/api/messages"
KNOWN_REFERENCES = 10_000  # (conversation, sender) pairs remembered in memory, to skip rewriting them
RECENT_ACTIVITIES = 10_000  # activity ids remembered, to answer an activity Teams delivers again once
_FORM_KEYS = {"cadence", "form", "meta"}
# The activity being answered: its first change claims it, so a copy Teams sends again changes nothing.
_ANSWERING: ContextVar[Once | None] = ContextVar("answering", default=None)
TEAMS_HOW_TO = (
    "In Teams, write the command to Cadence in a chat, with or without the slash (`who-owns SAE`), "
    "or @Cadence in the study's channel. Name people with @mentions."
)


class Routes:
    """The SDK's HTTP server adapter, kept by our ASGI app: the SDK registers its route, we serve it.

    In front of the SDK, an activity is taken only when its Bot Framework token holds (unless in
    development mode), its shape is one the SDK reads (an activity type Cadence does not handle gets an
    empty 200, fields of the wrong types a 400), its service URL is the configured cloud's Bot Connector
    (service_urls), and this process has not answered it already (Teams delivers an activity again when
    the answer was slow): nothing else reaches the handlers, so nothing else is stored or sent.
    """

    def __init__(
        self,
        *,
        validator: InboundActivityTokenValidator | None = None,
        allow_unauthenticated: bool = False,
        service_urls: ServiceUrls | None = None,
    ) -> None:
        self.handlers: dict[str, HttpRouteHandler] = {}
        self.validator = validator
        self.allow_unauthenticated = allow_unauthenticated
        self.service_urls = service_urls or ServiceUrls(())
        self._taken: OrderedDict[tuple[str, str], None] = OrderedDict()  # recent (conversation, activity)

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        self.handlers[path] = handler

    def serve_static(self, path: str, directory: str) -> None:
        """Cadence serves no static files."""

    async def start(self, port: int) -> None:
        raise NotImplementedError("Cadence serves Teams from its own ASGI app (cadence serve)")

    async def stop(self) -> None:
        """The ASGI server stops with the process."""

    async def handle(self, body: dict[str, Any], headers: dict[str, str]) -> HttpResponse:
        refused = await self._authenticate(body, headers)
        refused = refused or _refuse_shape(body) or self._refuse_elsewhere(body)
        if refused is not None:
            return refused
        if self._answered_before(body):
            log.info("Teams delivered activity %r again: answered once", body.get("id"))
            return HttpResponse(status=200, body=None)
        return await self.handlers[MESSAGES_PATH](HttpRequest(body=body, headers=headers))

    async def _authenticate(self, body: dict[str, Any], headers: dict[str, str]) -> HttpResponse | None:
        if self.allow_unauthenticated:
            return None
        authorization = headers.get("authorization") or ""
        if self.validator is None or not authorization.startswith("Bearer "):
            return HttpResponse(status=401, body={"error": "Unauthorized"})
        service_url = body.get("serviceUrl")
        try:
            await self.validator.validate_token(
                authorization.removeprefix("Bearer "), service_url if isinstance(service_url, str) else None
            )
        except Exception as error:  # any token the validator cannot take is no token
            log.warning("refused a Teams activity: its token does not hold (%s)", type(error).__name__)
            return HttpResponse(status=401, body={"error": "Unauthorized"})
        return None

    def _refuse_elsewhere(self, body: dict[str, Any]) -> HttpResponse | None:
        if self.service_urls.allows(body.get("serviceUrl")):
            return None
        log.warning(
            "refused a Teams activity naming a service URL outside the Bot Connector's (%.200r): nothing "
            "is sent there",
            body.get("serviceUrl"),
        )
        return HttpResponse(status=403, body={"error": "service URL not allowed"})

    def _answered_before(self, body: dict[str, Any]) -> bool:
        activity_id = body.get("id")
        if not isinstance(activity_id, str) or not activity_id:
            return False
        conversation = body.get("conversation")
        conversation_id = conversation.get("id") if isinstance(conversation, dict) else None
        key = (str(conversation_id).split(";", 1)[0], activity_id)
        if key in self._taken:
            return True
        self._taken[key] = None
        if len(self._taken) > RECENT_ACTIVITIES:
            self._taken.popitem(last=False)
        return False


# The activity types Cadence's handlers take; their fields are checked beyond what the SDK checks.
_HANDLED = {"message", "conversationUpdate", "installationUpdate"}


def _refuse_shape(body: dict[str, Any]) -> HttpResponse | None:
    """A 400 for an activity Cadence handles in a shape Teams never sends; an empty 200 for another type
    the SDK cannot read (endOfConversation, trace, an event without a name): Cadence handles none."""
    handled = isinstance(body.get("type"), str) and body["type"] in _HANDLED
    try:
        core = CoreActivity.model_validate(body)
        ActivityTypeAdapter.validate_python(core.model_dump(by_alias=True, exclude_none=True))
    except ValidationError:
        if not handled:
            log.info("ignored a Teams activity of type %.100r", body.get("type"))
            return HttpResponse(status=200, body=None)
        log.info("refused a Teams activity of a shape Teams never sends")
        return HttpResponse(status=400, body={"error": "not an activity Cadence can read"})
    conversation, sender = body.get("conversation") or {}, body.get("from") or {}
    if handled and not (
        isinstance(conversation.get("id"), str) and conversation["id"] and isinstance(sender.get("id"), str)
    ):
        log.info("refused a Teams activity without a conversation or a sender")
        return HttpResponse(status=400, body={"error": "not an activity Cadence can read"})
    return None


class TeamsBot:
    """Turns activities into core calls and core results into cards."""

    def __init__(
        self,
        engine: Engine,
        wake_delivery: Callable[[], None],
        clock: Clock,
        tenants: tuple[str, ...] = (),
        web_url: str | None = None,
    ):
        self.engine = engine
        self.web_url = web_url  # where the web pages are (CADENCE_PUBLIC_URL): `cadence dashboard`'s links
        self.wake_delivery = wake_delivery
        self.clock = clock
        self.tenants = tenants  # TEAMS_TENANT_ID: every side's tenants where the plan names none
        self._known: set[tuple] = set()  # references already stored by this process

    async def db(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        """`function` in a worker thread, in a session of its own; a change it makes claims the activity
        being answered (received.AlreadyTakenIn when a copy of it claimed it first)."""
        return await asyncio.to_thread(
            outbox.run_then_wake, self.engine, self.wake_delivery, function, _ANSWERING.get(), **kwargs
        )

    # --- who and where ---------------------------------------------------------------------------

    async def note_reference(self, ctx: Any) -> str:
        """Take in an activity: keep its conversation reference and sender, and tell the id the plan knows
        the sender by, looking their e-mail up once where the plan may know them by it. In one trip to
        the database; in none for a sender in the plan by id whose conversation this process keeps."""
        activity = ctx.activity
        sender = activity.from_
        seen = people.Seen(
            conversation_id=activity.conversation.id.split(";", 1)[0],
            kind=activity.conversation.conversation_type or "personal",
            service_url=activity.service_url or ctx.api.service_url,
            tenant_id=activity.conversation.tenant_id or _tenant(activity),
            aad_id=getattr(sender, "aad_object_id", None),
            user_id=sender.id if sender else None,
            name=getattr(sender, "name", None),
        )
        sender_id = seen.aad_id or seen.user_id or ""
        view = directory.fresh(self.engine)
        if seen in self._known and view is not None and view.memberships("teams", sender_id):
            return sender_id
        taken = await self.db(
            people.take_in,
            seen=seen if seen not in self._known else None,
            sender=sender_id,
            now=self.clock.now(),
            tenants=self.tenants,
        )
        if len(self._known) >= KNOWN_REFERENCES:
            self._known.clear()
        self._known.add(seen)
        user_id, needs_email = taken
        if needs_email and seen.aad_id:
            await self._look_up_email(ctx, seen)
            user_id, _ = await self.db(people.recognise, aad_id=seen.aad_id, tenants=self.tenants)
        return user_id

    async def _look_up_email(self, ctx: Any, seen: people.Seen) -> None:
        try:
            account = await ctx.api.conversations.get_member_by_id(seen.conversation_id, seen.user_id)
        except Exception as error:  # no roster access (a guest, a chat the bot left): identify by id only
            log.info("could not look up a Teams member's e-mail: %s", type(error).__name__)
            return
        await self._remember_accounts([account], seen.service_url, seen.tenant_id, how="member lookup")

    async def _remember_accounts(
        self, accounts: list[Any], service_url: str, tenant_id: str | None, *, how: str
    ) -> None:
        """Keep the members a roster showed; one the plan names by e-mail alone is bound to them where
        Teams shows them in that person's side's tenant (the conversation's: what Microsoft vouches for)."""
        for account in accounts:
            aad_id = getattr(account, "aad_object_id", None)
            if not aad_id:
                continue
            email = getattr(account, "email", None) or getattr(account, "user_principal_name", None)
            met = people.Met(aad_id, account.id, getattr(account, "name", None), email)
            await self.db(
                people.meet,
                met=met,
                service_url=service_url,
                tenant_id=tenant_id,
                now=self.clock.now(),
                how=how,
                tenants=self.tenants,
            )

    async def command_text(self, activity: Any) -> str:
        """What was typed: the @Cadence mention dropped, other people's mentions as the @handles the
        commands take (`away until 2026-12-04 backup @ben`)."""
        text = activity.text or ""
        bot_id = activity.recipient.id if activity.recipient else None
        for tag, user_id, name in _mentions(activity):
            if user_id == bot_id:
                text = text.replace(tag, " ")
            else:
                handle = await self.db(people.handle_for, user_id=user_id)
                text = text.replace(tag, f"@{handle}" if handle else name)
        return _collapse(text)

    def invocation(self, ctx: Any, user_id: str) -> Invocation:
        activity = ctx.activity
        kind = activity.conversation.conversation_type or "personal"
        channel = None if kind == "personal" else activity.conversation.id.split(";", 1)[0]
        return Invocation(
            platform="teams", user_id=user_id, channel_id=channel, now=self.clock.now(), web_url=self.web_url
        )

    # --- messages --------------------------------------------------------------------------------

    async def on_message(self, ctx: Any) -> None:
        user_id = await self.note_reference(ctx)
        answering = _ANSWERING.set(people.once(ctx.activity.id, self.clock.now()))
        try:
            invocation = self.invocation(ctx, user_id)
            value = ctx.activity.value
            if isinstance(value, dict) and value.get("cadence") == "button":
                await self.press(ctx, invocation, value.get("action_id", ""), str(value.get("value", "")))
            elif isinstance(value, dict) and value.get("cadence") == "form":
                await self.submit(ctx, invocation, value)
            else:
                await self.command(ctx, invocation, await self.command_text(ctx.activity))
        except AlreadyTakenIn:  # a copy of this activity (Teams sends one when an answer is slow) made it
            log.info("Teams delivered activity %r again (a slow answer): answered once", ctx.activity.id)
        except CadenceError as error:
            log.info("refused a Teams message: %s", error.message)
            refused = refusal(error)
            await self.show(ctx, lambda: refused)
        except Exception:
            reference = secrets.token_hex(3)
            log.exception("failed a Teams message (reference %s)", reference)
            await self.apologise(ctx, reference)
        finally:
            _ANSWERING.reset(answering)

    async def apologise(self, ctx: Any, reference: str) -> None:
        """Say something broke, without details; if even that cannot be sent, the log has it."""
        try:
            await self.show(ctx, lambda: apology(reference))
        except Exception as error:
            log.warning("could not tell a Teams user about failure %s: %s", reference, type(error).__name__)

    async def command(self, ctx: Any, invocation: Invocation, text: str) -> None:
        await self.respond(ctx, lambda session: run_typed(session, text=text, invocation=invocation))

    async def press(self, ctx: Any, invocation: Invocation, action_id: str, value: str) -> None:
        """A card's button: the same action ids as Slack's, so the same core actions."""
        base = forms.button_base(action_id)
        if base in forms.BUTTONS:
            await self.respond(
                ctx,
                lambda session: forms.press_button(
                    session, action_id=action_id, value=value, invocation=invocation
                ),
            )
        elif base == "checkin_answer":  # the form, prefilled with the answer so far
            await self.respond(
                ctx,
                lambda session: forms.checkin_button(
                    session, name="checkin.form", value=value, invocation=invocation
                ),
                present=lambda form: (views.form(form), True),
            )
        elif base == "checkin_snooze":  # the prompt comes again in 2h, unless answered by then
            token = ctx.activity.reply_to_id or ctx.activity.id or value
            await self.respond(
                ctx,
                lambda session: forms.checkin_button(
                    session, name="checkin.snooze", value=value, invocation=invocation, token=token
                ),
                present=lambda at: (snoozed(at), False),
            )
        elif base in forms.FORM_BUTTONS:  # Resolve, Escalate now, Can't make it
            await self.show(ctx, lambda: form_for_button(base, value), form=True)
        else:
            raise CadenceError("That button is no longer in use.", hint="Type help to see what Cadence does.")

    async def submit(self, ctx: Any, invocation: Invocation, value: dict[str, Any]) -> None:
        fields = {k: v for k, v in value.items() if k not in _FORM_KEYS}
        if isinstance(fields.get("attendees"), str):  # the people picker answers "id1,id2"
            fields["attendees"] = [a for a in fields["attendees"].split(",") if a]
        form, meta = str(value.get("form", "")), str(value.get("meta", ""))
        try:
            await self.respond(
                ctx,
                lambda session: forms.submit_form(
                    session, form=form, meta=meta, fields=fields, invocation=invocation
                ),
                present=_present_submitted,
            )
        except forms.FormProblem as problem:  # the card keeps what was typed: fix it and send again
            text = " ".join(filter(None, [problem.message, problem.hint]))
            await self.show(ctx, lambda: _said(m.line(":warning: {text}", text=text)))

    async def respond(
        self,
        ctx: Any,
        core: Callable[[Session], Any],
        present: Callable[[Any], tuple[m.Message | m.Form, bool]] | None = None,
    ) -> None:
        """Run a core call and draw its answer in one trip to a worker thread, then send the card (or the
        cards, in order, of an answer too long for one Teams message)."""
        drawn = await self.db(_act_and_draw, core=core, present=present or _present)
        for content in drawn:
            await ctx.send(cards.card_activity(content))

    async def show(self, ctx: Any, layout: Callable[[], m.Message | m.Form], *, form: bool = False) -> None:
        """Send a message or a form as an Adaptive Card in the conversation it answers."""
        await self.respond(ctx, lambda session: None, present=lambda _none: (layout(), form))

    # --- installation ----------------------------------------------------------------------------

    async def on_conversation_update(self, ctx: Any) -> None:
        try:
            await self.added(ctx)
        except Exception:
            log.exception("could not take in being added to a Teams conversation")

    async def added(self, ctx: Any) -> None:
        """Added to a team or a chat: keep the reference, learn the roster, and say how to connect it."""
        activity = ctx.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if not any(m.id == bot_id for m in (activity.members_added or [])):
            return
        await self.note_reference(ctx)
        conversation_id = activity.conversation.id.split(";", 1)[0]
        try:
            roster = await ctx.api.conversations.get_members(conversation_id)
        except Exception as error:
            log.info("could not read a Teams roster: %s", type(error).__name__)
            roster = []
        tenant_id = activity.conversation.tenant_id or _tenant(activity)
        await self._remember_accounts(list(roster), activity.service_url, tenant_id, how="roster")
        await self.welcome(ctx, conversation_id, activity.conversation.conversation_type or "personal")

    async def on_install(self, ctx: Any) -> None:
        """Installed: keep the reference. Teams follows with a conversationUpdate, which says hello."""
        try:
            await self.note_reference(ctx)
        except Exception:
            log.exception("could not take in an installation in Teams")

    async def welcome(self, ctx: Any, conversation_id: str, kind: str | None) -> None:
        lines = [
            m.line(":wave: *Cadence* keeps the sponsor and the CRO on the communication plan they agreed.")
        ]
        if kind and kind != "personal":
            lines.append(
                m.line(
                    "To connect this conversation to a study, an admin sets `{setting}` in the plan "
                    "and applies it.",
                    setting=f"study.channel: {conversation_id}",
                )
            )
        lines.append(m.line("Type *help* (or @Cadence help in a channel) to see the commands."))
        await self.show(ctx, lambda: m.Message(lines[0], (m.Section(tuple(lines)),)))


def _tenant(activity: Any) -> str | None:
    data = activity.channel_data
    tenant = getattr(data, "tenant", None) if data else None
    return getattr(tenant, "id", None)


def _mentions(activity: Any) -> list[tuple[str, str, str]]:
    """The @-mentions in a message: (the tag in the text, the mentioned user's id, their name)."""
    found = []
    for entity in activity.entities or []:
        mentioned = getattr(entity, "mentioned", None)
        if (
            getattr(entity, "type", None) == "mention"
            and mentioned is not None
            and getattr(entity, "text", None)
        ):
            found.append((entity.text, mentioned.id, mentioned.name or ""))
    return found


def _collapse(text: str) -> str:
    """Spaces tidied line by line; the lines stay (pasted minutes are read line by line)."""
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return "\n".join(lines).strip()


def _said(text: m.Line) -> m.Message:
    return m.Message(text, (m.Section((text,)),))


def _result_layout(result: Any) -> m.Message:
    if result is None:  # a form that closed with nothing more to show: confirm it went through
        return _said(m.line(":white_check_mark: Done."))
    shown = views.reply(result)
    if isinstance(result, HelpShown):
        shown = m.Message(shown.fallback, (*shown.blocks, m.Context((m.line(TEAMS_HOW_TO),))))
    return shown


def _present(result: Any) -> tuple[m.Message | m.Form, bool]:
    """A result as a message, or as a form where it asks for one (escalate alone)."""
    asked = views.form(result) if result is not None else None
    return (asked, True) if asked is not None else (_result_layout(result), False)


def _present_submitted(result: Any) -> tuple[m.Message | m.Form, bool]:
    """After a form: the minutes form goes on to its next page, what was read, to confirm."""
    if isinstance(result, MinutesDraft):
        return draft_form(result), True
    return _present(result)


def _act_and_draw(
    session: Session,
    *,
    core: Callable[[Session], Any],
    present: Callable[[Any], tuple[m.Message | m.Form, bool]],
) -> list[dict[str, Any]]:
    """The core call, then its answer's view drawn as a card (a message past Teams' size limit as several),
    naming people as Teams mentions; all in the one session."""
    result = core(session)
    resolve = people.resolver(session)
    shown, is_form = present(result)
    if is_form:
        with cards.drawing(resolve) as mentions:
            return [cards.form_card(shown, mentions)]
    return cards.message_cards(shown, resolve)


def build_teams_app(
    settings: Settings,
    engine: Engine,
    *,
    wake_delivery: Callable[[], None] = lambda: None,
    clock: Clock | None = None,
    token: Callable[..., Any] | None = None,
) -> tuple[App, Routes]:
    """The Teams SDK app with Cadence's handlers, and the route our ASGI app serves it through.

    Bot Framework tokens are validated unless TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED is set for
    local development (Agents Playground). `token` replaces the client secret with another source
    of app tokens (the SDK's token credentials), as a managed identity would.
    """
    cloud = from_name(settings.teams_cloud)
    if settings.teams_openid_url:
        cloud = with_overrides(cloud, openid_metadata_url=settings.teams_openid_url)
    routes = Routes(
        validator=InboundActivityTokenValidator(settings.teams_client_id, cloud=cloud)
        if settings.teams_client_id
        else None,
        allow_unauthenticated=settings.teams_allow_unauthenticated,
        service_urls=service_urls.for_settings(settings),
    )
    options: dict[str, Any] = {
        "client_id": settings.teams_client_id,
        "tenant_id": settings.teams_home_tenant,
        "http_server_adapter": routes,
        "cloud": cloud,
        "dangerously_allow_unauthenticated_requests": settings.teams_allow_unauthenticated,
    }
    if token is not None:
        options["token"] = token
    else:
        options["client_secret"] = settings.teams_client_secret
    if settings.teams_allow_unauthenticated:
        log.warning(
            "TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED is set: %s accepts requests WITHOUT a Bot Framework "
            "token. Use this only on a development machine (Agents Playground), never in production.",
            MESSAGES_PATH,
        )
    app = App(**options)
    bot = TeamsBot(
        engine,
        wake_delivery,
        clock or SystemClock(),
        tenants=settings.teams_tenants,
        web_url=settings.public_url,
    )
    app.on_message(bot.on_message)
    app.on_conversation_update(bot.on_conversation_update)
    app.on_install_add(bot.on_install)
    return app, routes


DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams"


def teams_notifier(app: App, engine: Engine, settings: Settings, clock: Clock | None = None):
    """The outbox's way into Teams: the Bot Connector API with the app's own tokens."""
    from handlers.teams.notifier import TeamsNotifier

    def api() -> ApiClient:
        return ApiClient(DEFAULT_SERVICE_URL, cloud=app.cloud, token_provider=app.token_provider)

    if not settings.public_url:
        log.warning(
            "CADENCE_PUBLIC_URL is not set: Teams shows report charts only from Cadence's public address, so "
            "they are left out (set it to the https:// address the messaging endpoint is on)."
        )

    return TeamsNotifier(
        engine,
        api,
        bot_id=app.id,
        tenant_id=settings.teams_home_tenant,
        clock=clock,
        service_urls=service_urls.for_settings(settings),
        public_url=settings.public_url,
    )
