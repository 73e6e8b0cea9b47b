"""The signed tokens the web's sign-in takes: the ID tokens of Slack's and Microsoft's OpenID Connect and
the token Teams gives a tab (single sign-on), each checked by signature (the provider's published keys),
issuer, audience and expiry with the Teams SDK's JWT validator, the one that checks the Bot Framework's
tokens (PyJWT and its JWKS client, which keeps the keys it fetched).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import jwt
from microsoft_teams.api.auth.cloud_environment import CloudEnvironment, from_name, with_overrides
from microsoft_teams.apps.auth.token_validator import JwtValidationOptions, TokenValidator

from bot.config import Settings
from bot.signin import Identity

log = logging.getLogger("cadence.web.tokens")
TAB_SCOPE = "access_as_user"  # the scope the Teams app exposes for its tab (webApplicationInfo)


class TokenRefused(Exception):
    """A token that does not hold: forged, expired, for another app, or from a tenant not configured."""


async def validated(validator: TokenValidator, raw: str) -> dict[str, Any]:
    """The token's claims once its signature, issuer, audience, expiry (and scope) hold. The SDK's JWKS
    client fetches keys with blocking I/O: it runs in a worker thread, off the event loop."""
    try:
        return await asyncio.to_thread(asyncio.run, validator.validate_token(raw))
    except jwt.PyJWTError as error:
        raise TokenRefused(type(error).__name__) from None
    except Exception as error:  # a key set that cannot be fetched or read is no proof either
        log.warning("could not check a sign-in token: %s", type(error).__name__)
        raise TokenRefused(type(error).__name__) from None


def slack_validator(settings: Settings) -> TokenValidator:
    """Slack's ID tokens: issued by Slack (SLACK_OIDC_URL), for the Slack app's client id, signed by a key
    Slack publishes at /openid/connect/keys."""
    return TokenValidator(
        JwtValidationOptions(
            valid_issuers=[settings.slack_oidc_url.rstrip("/")],
            valid_audiences=[settings.slack_client_id or ""],
            jwks_uri=f"{settings.slack_oidc_url}openid/connect/keys",
        )
    )


def slack_identity(claims: dict[str, Any]) -> Identity:
    """Who a Slack ID token says signs in: its user and workspace claims, the e-mail when verified."""
    user_id = claims.get("https://slack.com/user_id") or claims.get("sub")
    team_id = claims.get("https://slack.com/team_id")
    if not isinstance(user_id, str) or not isinstance(team_id, str) or not user_id or not team_id:
        raise TokenRefused("no user or workspace in the ID token")
    email = claims.get("email") if claims.get("email_verified") is True else None
    return Identity(
        "slack", user_id, team_id, email if isinstance(email, str) else None, "Sign in with Slack"
    )


@dataclass
class Entra:
    """Microsoft's tokens for the Teams app, from the tenants allowed to sign in (TEAMS_TENANT_ID)."""

    client_id: str
    tenants: tuple[str, ...]  # lower case
    cloud: CloudEnvironment  # its login endpoint is the issuer's and the keys' address
    _validators: dict[tuple[str, str, str | None], TokenValidator] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Entra:
        cloud = from_name(settings.teams_cloud)
        if settings.microsoft_authority:
            cloud = with_overrides(cloud, login_endpoint=settings.microsoft_authority)
        return cls(settings.teams_client_id or "", settings.teams_tenants, cloud)

    @property
    def authority(self) -> str:
        """Where people sign in: the one tenant's page, or Entra's page for work accounts of any."""
        tenant = self.tenants[0] if len(self.tenants) == 1 else "organizations"
        return f"{self.cloud.login_endpoint}/{tenant}"

    async def id_token(self, raw: str) -> dict[str, Any]:
        """The claims of an ID token from "Sign in with Microsoft": for this app, from an allowed tenant."""
        return await self._validated(raw, audience=self.client_id, scope=None)

    async def tab_token(self, raw: str, *, host: str) -> dict[str, Any]:
        """The claims of the token Teams gives the tab (getAuthToken): for `api://<host>/<client id>`,
        with the tab's scope, from an allowed tenant."""
        return await self._validated(raw, audience=f"api://{host}/{self.client_id}", scope=TAB_SCOPE)

    async def _validated(self, raw: str, *, audience: str, scope: str | None) -> dict[str, Any]:
        try:
            tenant = jwt.decode(raw, options={"verify_signature": False}).get("tid")
        except jwt.PyJWTError:
            raise TokenRefused("not a token") from None
        if not isinstance(tenant, str) or tenant.lower() not in self.tenants:
            raise TokenRefused("a tenant not allowed to sign in")
        return await validated(self._validator(tenant, audience, scope), raw)

    def _validator(self, tenant: str, audience: str, scope: str | None) -> TokenValidator:
        """The SDK's Entra validator for this tenant (issuers v1 and v2, the tenant's keys), taking only
        `audience`: not the bot's other audiences."""
        key = (tenant, audience, scope)
        if key not in self._validators:
            validator = TokenValidator.for_entra(self.client_id, tenant, scope=scope, cloud=self.cloud)
            validator.options.valid_audiences = [audience]
            self._validators[key] = validator
        return self._validators[key]


def entra_identity(claims: dict[str, Any], how: str) -> Identity:
    """Who an Entra token says signs in: object id and tenant; the sign-in name as the e-mail, which is
    only ever matched within that person's side's tenant (bot.identities)."""
    oid, tid = claims.get("oid"), claims.get("tid")
    if not isinstance(oid, str) or not isinstance(tid, str) or not oid or not tid:
        raise TokenRefused("no object id or tenant in the token")
    email = claims.get("email") or claims.get("preferred_username") or claims.get("upn")
    return Identity("teams", oid, tid.lower(), email if isinstance(email, str) else None, how)
