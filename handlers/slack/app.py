"""The Bolt app: built by a factory, listeners registered by kind, one error handler."""

from __future__ import annotations

import json
import logging
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import Engine

from bot import received
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.errors import CadenceError, DatabaseBusy
from bot.installations import TokenBox
from bot.received import AlreadyTakenIn
from handlers.slack import actions, blocks, commands, events, views
from handlers.slack.auth import BotIdentity
from handlers.slack.identify import recognise_writers
from handlers.slack.installs import (
    DatabaseInstallations,
    DatabaseStates,
    InstallFlow,
    exchange_client,
    install_pages,
)
from handlers.slack.middleware import Database, inject_services

log = logging.getLogger("cadence.slack")
NOT_INSTALLED = (
    "Cadence is not installed in your workspace yet: an admin of your workspace can add it from Cadence's "
    "/slack/install page. Meanwhile, write @Cadence <command> in the study channel, e.g. @Cadence ask …"
)
# What an install asks each workspace for: the manifest's bot scopes (a test keeps the two the same).
BOT_SCOPES = (
    "commands", "chat:write", "chat:write.public", "im:write", "im:history", "channels:history",
    "groups:history", "users:read", "users:read.email", "files:write", "app_mentions:read",
)  # fmt: skip


def build_app(
    settings: Settings,
    engine: Engine,
    *,
    wake_delivery: Callable[[], None] = lambda: None,
    clock: Clock | None = None,
) -> AsyncApp:
    """Create the Bolt app for `settings`, talking to the Web API at SLACK_API_URL.

    `wake_delivery` is called after a request enqueued messages, so they go out now, not at the next tick.
    """
    identity = BotIdentity(AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url))
    how: dict[str, Any] = (
        {
            "oauth_flow": InstallFlow(
                client=exchange_client(settings.slack_api_url), settings=oauth_settings(settings, engine)
            ),
            "user_facing_authorize_error_message": NOT_INSTALLED,
        }
        if settings.slack_oauth
        else {"authorize": lambda: identity.authorize()}  # Bolt reads a bound method's `self` as an argument
    )
    app = AsyncApp(
        client=AsyncWebClient(base_url=settings.slack_api_url),
        signing_secret=settings.slack_signing_secret,
        # Listeners finish before the HTTP response: answers ride in the ack, nothing is polled.
        process_before_response=True,
        logger=logging.getLogger("cadence.bolt"),
        **how,
    )
    app.use(inject_services(Database(engine, wake_delivery), clock or SystemClock(), settings.public_url))
    app.use(recognise_writers(engine, single_workspace=not settings.slack_oauth))
    register_listeners(app)
    app.error(handle_error)
    _built[app] = Built(settings.slack_signing_secret or "", identity)
    return app


def oauth_settings(settings: Settings, engine: Engine) -> AsyncOAuthSettings:
    """An install in each workspace through Bolt's OAuth flow: `GET /slack/install` (the Add to Slack
    page, its state kept in the database) and `GET /slack/oauth_redirect` (the code exchanged with
    oauth.v2.access at SLACK_API_URL, within seconds; the installation kept, its token encrypted; a failure
    shown as a page that says what to do)."""
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=BOT_SCOPES,
        installation_store=DatabaseInstallations(engine, TokenBox(settings.secret_key)),
        installation_store_bot_only=True,
        state_store=DatabaseStates(engine),
        authorization_url=authorization_url(settings.slack_api_url),
        callback_options=install_pages(),
    )


def authorization_url(api_url: str) -> str:
    """Slack's authorize page beside its Web API: https://slack.com/api/ -> https://slack.com/oauth/v2/authorize
    (GovSlack, and tests, point SLACK_API_URL elsewhere)."""
    base = api_url.rstrip("/")
    base = base[: -len("/api")] if base.endswith("/api") else base
    return f"{base}/oauth/v2/authorize"


@dataclass(frozen=True)
class Built:
    """What an app was built with that its server needs: the signing secret, the bot's identity."""

    signing_secret: str
    identity: BotIdentity


_built: weakref.WeakKeyDictionary[AsyncApp, Built] = weakref.WeakKeyDictionary()


def signing_secret_of(app: AsyncApp) -> str:
    """The signing secret `app` was built with (the server checks every request against it first)."""
    return _built[app].signing_secret if app in _built else ""


async def verify_token(app: AsyncApp) -> bool:
    """Check the bot token of `app` before serving (handlers.slack.auth): False when Slack never answered,
    TokenRefused when it refused the token."""
    return await _built[app].identity.verify()


def register_listeners(app: AsyncApp) -> None:
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)


async def handle_error(
    error: Exception, body: dict[str, Any], context: dict[str, Any], respond, client: AsyncWebClient | None
) -> BoltResponse:
    """Turn our errors into friendly ephemeral replies; anything else is logged, never shown."""
    if isinstance(error, AlreadyTakenIn) or await _click_seen_before(body, context.get("db")):
        log.warning("a signed Slack request arrived again within its five minutes; nothing was done")
        return BoltResponse(status=200, body="")
    if isinstance(error, CadenceError):
        if not isinstance(error, DatabaseBusy):  # bot.db logged it: once per outage, not per request
            log.info("refused %s: %s", _what(body), error.message)
        payload = blocks.error_reply(error)
    else:
        reference = secrets.token_hex(3)
        log.exception("failed %s (reference %s)", _what(body), reference, exc_info=error)
        payload = blocks.failure_reply(reference)
    if body.get("type") == "block_actions":
        await _answer_click(body, payload, respond, client)
    return BoltResponse(status=200, body=json.dumps(payload), headers={"content-type": "application/json"})


async def _answer_click(body: dict[str, Any], payload: dict[str, Any], respond, client) -> None:
    """A button was acknowledged already: the answer goes to where it was pressed, or, from the App Home
    (which has no response URL), to the person's direct message with Cadence."""
    try:
        if body.get("response_url") and respond is not None:
            await respond(**payload, replace_original=False)
        elif client is not None and client.token:
            await client.chat_postMessage(
                channel=body["user"]["id"], text=payload["text"], blocks=payload["blocks"]
            )
    except SlackApiError as failed:
        log.warning("the answer to a button could not be sent: %s", failed.response.get("error"))
    except (ClientError, TimeoutError) as failed:
        log.warning("the answer to a button could not be sent: %s", type(failed).__name__)


async def _click_seen_before(body: dict[str, Any], db: Database | None) -> bool:
    """Whether this refused click came before and was taken in (a copy of a click that changed something
    the first time): its refusal would only repeat what was already said, so nothing is posted."""
    if body.get("type") != "block_actions" or db is None or db.once is None:
        return False
    return await db.call(received.taken_in, key=db.once.key, now=db.once.now)


def _what(body: dict[str, Any]) -> str:
    if "command" in body:
        return f"{body['command']} from {body.get('user_id')} in {body.get('channel_id')}"
    return str(body.get("type", "request"))
