"""Bolt's OAuth flow on Cadence's database: each workspace's installation (bot.installations, tokens
encrypted at rest) and the install links' states, shared by every instance."""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bot import installations, received
from bot.db import run_in_session
from bot.installations import Installed, TokenBox
from bot.models import ReceivedRequest, utcnow

log = logging.getLogger("cadence.slack.installs")
STATE_KEPT = timedelta(minutes=10)  # from the "Add to Slack" click to Slack's redirect back


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
