"""Who Cadence is in Slack: its bot token checked with `auth.test` at start, with patience, and kept.

Bolt, given a bare token, calls `auth.test` lazily at the first request after a start, and takes any
failure there (a 5xx, a timeout) as an uninstall: the person is told to reinstall the app and their
command is lost. Here the token is verified before the server takes requests, retried with backoff
while Slack is failing, and the answer is kept for every request. A token Slack refuses stops the start
with the reason; a Slack that never answered at start is asked again at the next request, which gets
"try again" rather than "reinstall" if Slack still fails.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import CadenceError

log = logging.getLogger("cadence.slack")
# What Slack answers about the token itself: trying again cannot help.
REFUSED = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "no_permission",
}
REQUEST_TIMEOUT = 1.5  # seconds: a check at request time must leave the 3-second ack its time


class TokenRefused(Exception):
    """Slack refused the bot token (revoked, mistyped, from another app)."""


class SlackUnreachable(CadenceError):
    def __init__(self) -> None:
        super().__init__(
            "Slack did not answer Cadence just now, so nothing was done.",
            hint="Please try again in a minute.",
        )


class BotIdentity:
    """The result of `auth.test` for one bot token, as Bolt's `authorize` hands it to every request."""

    def __init__(self, client: AsyncWebClient):
        self.client = client
        self.result: AuthorizeResult | None = None

    async def verify(self, *, attempts: int = 6, first_wait: float = 0.5) -> bool:
        """Check the token, trying again with doubling waits while Slack fails: False when Slack never
        answered; TokenRefused when it refused the token."""
        wait = first_wait
        for attempt in range(1, attempts + 1):
            try:
                await self._check(timeout=None)
                return True
            except SlackUnreachable:
                if attempt == attempts:
                    break
                log.warning(
                    "Slack did not answer auth.test (try %s of %s); again in %.1fs", attempt, attempts, wait
                )
                await asyncio.sleep(wait)
                wait *= 2
        log.warning("Slack did not answer auth.test at start: the first request will ask again")
        return False

    async def authorize(self) -> AuthorizeResult | None:
        """Bolt's `authorize`: the kept result, or one quick check when the start could not get it. A token
        Slack refuses is no installation (None): Bolt then says so, as it should for a revoked token."""
        if self.result is None:
            try:
                await self._check(timeout=REQUEST_TIMEOUT)
            except TokenRefused as refused:
                log.error("%s: requests cannot be served until the token is replaced", refused)
                return None
        return self.result

    async def _check(self, *, timeout: float | None) -> None:
        try:
            response = await asyncio.wait_for(self.client.auth_test(), timeout)
        except SlackApiError as error:
            code = (error.response.data or {}).get("error") if isinstance(error.response.data, dict) else None
            if error.response.status_code < 500 and code in REFUSED:
                raise TokenRefused(f"Slack refused SLACK_BOT_TOKEN ({code})") from error
            raise SlackUnreachable() from error
        except (TimeoutError, OSError, aiohttp.ClientError) as error:
            raise SlackUnreachable() from error
        self.result = AuthorizeResult.from_auth_test_response(
            auth_test_response=response, bot_token=self.client.token
        )
