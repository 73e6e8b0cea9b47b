"""Bolt's OAuth flow on Cadence's database: each workspace's installation (bot.installations, tokens
encrypted at rest) and the install links' states, shared by every instance."""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
from datetime import timedelta
from typing import Any

from aiohttp import ClientError
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot import installations, received
from bot.db import run_in_session
from bot.installations import Installed, TokenBox
from bot.logs import WithoutSecrets
from bot.models import ReceivedRequest, utcnow

log = logging.getLogger("cadence.slack.installs")
STATE_KEPT = timedelta(minutes=10)  # from the "Add to Slack" click to Slack's redirect back
# Slack's redirect back waits in the installer's browser while the code is exchanged: a Slack that does not
# answer gets a page saying so within seconds, not a 500 after the client's 30.
EXCHANGE_TIMEOUT_SECONDS = 5
# The flow's and the exchange's own logger, above DEBUG (slack_sdk logs a request's parameters, the
# one-time code and client secret, and its answer, the bot token, at DEBUG) and redacting what Bolt's
# warning of a refused exchange says (its code), whichever handlers the log goes to.
_exchange_log = logging.getLogger("cadence.slack.oauth")
_exchange_log.setLevel(logging.INFO)
_exchange_log.addFilter(WithoutSecrets())


class InstallFlow(AsyncOAuthFlow):
    """Bolt's OAuth flow, its code exchange bounded in time and logged without the code, and its failures
    shown as a page that says what to do."""

    def __init__(self, *, client: AsyncWebClient, settings: AsyncOAuthSettings):
        super().__init__(client=client, logger=_exchange_log, settings=settings)

    async def run_installation(self, code: str) -> Installation | None:
        try:
            return await super().run_installation(code)
        except (TimeoutError, ClientError, SlackApiError) as error:  # Bolt catches only a refusal
            log.warning("Slack's code exchange (oauth.v2.access) failed: %s", _why(error))
            return None


def exchange_client(api_url: str) -> AsyncWebClient:
    """The Web API client that exchanges an install's code: a short timeout, no retries, a quiet logger."""
    return AsyncWebClient(
        base_url=api_url, timeout=EXCHANGE_TIMEOUT_SECONDS, retry_handlers=[], logger=_exchange_log
    )


def install_pages() -> AsyncCallbackOptions:
    return AsyncCallbackOptions(success=_installed_page, failure=_failure_page)


async def _installed_page(args: AsyncSuccessArgs) -> BoltResponse:
    return await args.default.success(args)


async def _failure_page(args: AsyncFailureArgs) -> BoltResponse:
    """A page for the installer: what happened and what to do; logged by its reason alone (the request's
    query holds the one-time code)."""
    log.info("an install did not complete: %s", args.reason)
    what = _FAILURES.get(args.reason, "Slack did not confirm the installation")
    page = (
        "<html><head><title>Cadence was not installed</title></head><body>"
        f"<h1>Cadence was not installed</h1><p>{html.escape(what)}, so nothing was installed.</p>"
        f'<p>Please <a href="{html.escape(args.settings.install_path)}">start the installation again</a>; '
        "if it fails again, tell the person who runs Cadence.</p></body></html>"
    )
    status = args.suggested_status_code if args.suggested_status_code < 500 else 503
    return BoltResponse(status=status, body=page, headers={"Content-Type": "text/html; charset=utf-8"})


_FAILURES = {
    "access_denied": "The installation was cancelled in Slack",
    "invalid_browser": "This browser did not start this installation (or its link was opened elsewhere)",
    "invalid_state": "This installation link was used already or is too old",
    "invalid_code": "Slack did not confirm the installation in time, or refused its code",
    "storage_error": "Cadence could not keep the installation just now",
}


def _why(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or "refused")
    return "no answer in time" if isinstance(error, TimeoutError) else type(error).__name__


class DatabaseInstallations(AsyncInstallationStore):
    """The installation store Bolt authorizes every request with: one bot per workspace."""

    def __init__(self, engine: Engine, box: TokenBox):
        self.engine, self.box = engine, box

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        if not bot.team_id or not bot.bot_token:
            log.warning("an installation without a workspace or a bot token was not kept")
            return
        await asyncio.to_thread(
            run_in_session,
            self.engine,
            installations.save,
            box=self.box,
            team_id=bot.team_id,
            bot_token=bot.bot_token,
            team_name=bot.team_name,
            enterprise_id=bot.enterprise_id,
            app_id=bot.app_id,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=",".join(bot.bot_scopes or ()),
        )
        log.info("Cadence was installed in workspace %s", bot.team_id)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        found = await asyncio.to_thread(
            run_in_session, self.engine, installations.find, box=self.box, team_id=team_id
        )
        return _bot(found) if found else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = await asyncio.to_thread(
            run_in_session, self.engine, installations.find, box=self.box, team_id=team_id
        )
        if found is None:
            return None
        return Installation(
            app_id=found.app_id,
            enterprise_id=found.enterprise_id,
            team_id=found.team_id,
            bot_token=found.bot_token,
            bot_id=found.bot_id,
            bot_user_id=found.bot_user_id,
            user_id=user_id or "",
            installed_at=found.installed_at.timestamp(),
        )

    async def _find(self, team_id: str | None) -> Installed | None:
        return await asyncio.to_thread(
            run_in_session, self.engine, installations.find, box=self.box, team_id=team_id
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        if team_id:
            await asyncio.to_thread(
                run_in_session, self.engine, installations.remove, team_id=team_id, now=utcnow()
            )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


def _bot(found: Installed) -> Bot:
    return Bot(
        app_id=found.app_id,
        enterprise_id=found.enterprise_id,
        team_id=found.team_id,
        bot_token=found.bot_token,
        bot_id=found.bot_id or "",
        bot_user_id=found.bot_user_id or "",
        installed_at=found.installed_at.timestamp(),
    )


class DatabaseStates(AsyncOAuthStateStore):
    """The `state` of each install link, checked once on Slack's redirect back, on whichever instance."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await asyncio.to_thread(
            run_in_session,
            self.engine,
            received.first_receipt,
            key=f"oauth-state:{state}",
            now=utcnow(),
            kept=STATE_KEPT,
        )
        return state

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(run_in_session, self.engine, _consume, state=state)


def _consume(session: Session, *, state: str) -> bool:
    """True once for a state issued here within its ten minutes; a forged, reused or stale one is False."""
    gone = session.execute(
        delete(ReceivedRequest).where(
            col(ReceivedRequest.key) == f"oauth-state:{state}", col(ReceivedRequest.expires_at) >= utcnow()
        )
    )
    return bool(gone.rowcount)
