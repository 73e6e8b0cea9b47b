""" "Sign in with Slack" and "Sign in with Microsoft": OpenID Connect's code flow with Authlib.

`/app/oidc/<provider>` sends the browser to the provider with a fresh state and nonce (kept in the
session cookie by Authlib); the provider sends it back to `/app/oidc/<provider>/callback`, where the
state must be the one this browser was given, the code is exchanged for tokens at the provider, and the ID
token is checked (handlers.web.tokens: signature, issuer, audience, expiry; the nonce here). The person
it names is then matched to the plans by the chats' identity rules (bot.signin): a stranger, or someone
of another workspace or tenant, gets the friendly 403 page and no session.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from microsoft_teams.apps.auth.token_validator import TokenValidator
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot import signin
from bot.config import Settings
from bot.db import run_in_session
from bot.signin import Identity
from handlers.web.app import page
from handlers.web.sessions import Refused, sign_in, site_of
from handlers.web.tokens import (
    Entra,
    TokenRefused,
    entra_identity,
    slack_identity,
    slack_validator,
    validated,
)

log = logging.getLogger("cadence.web.signin")
SCOPE = "openid email profile"
STRANGER = (
    "You are not part of any study Cadence keeps, as far as your sign-in shows. If you should be, ask "
    "your study's admin to add you to the plan (with your chat account or your work e-mail)."
)
START_AGAIN = (
    "That sign-in could not be completed, so nobody was signed in. Start again from the sign-in page."
)


@dataclass(frozen=True)
class Provider:
    """One OpenID provider: its Authlib client, and how its ID token is checked and read."""

    name: str  # the path's: slack, microsoft
    how: str  # what the audit trail calls it
    client: StarletteOAuth2App
    check: Callable[[str], Awaitable[dict[str, Any]]]  # the ID token's claims, once it holds
    identity: Callable[[dict[str, Any]], Identity]


@dataclass(frozen=True)
class Providers:
    """The sign-in providers configured, and what matching a person needs of the settings."""

    by_name: dict[str, Provider]
    public_url: str | None
    configured_tenants: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Providers:
        """Slack's with the Slack app's client id and secret; Microsoft's with the Teams app's Entra client
        id and secret and TEAMS_TENANT_ID (the tenants whose people may sign in)."""
        oauth = OAuth()
        found: dict[str, Provider] = {}
        if settings.slack_sign_in:
            found["slack"] = _slack(oauth, settings)
        if settings.microsoft_sign_in:
            found["microsoft"] = _microsoft(oauth, settings)
        return cls(found, settings.public_url, settings.teams_tenants)


def _slack(oauth: OAuth, settings: Settings) -> Provider:
    client = oauth.register(
        "slack",
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        authorize_url=f"{settings.slack_oidc_url}openid/connect/authorize",
        access_token_url=f"{settings.slack_api_url}openid.connect.token",
        userinfo_endpoint=f"{settings.slack_api_url}openid.connect.userInfo",
        client_kwargs={"scope": SCOPE, "token_endpoint_auth_method": "client_secret_post", "timeout": 10},
    )
    validator: TokenValidator = slack_validator(settings)
    return Provider(
        "slack", "Sign in with Slack", client, lambda raw: validated(validator, raw), slack_identity
    )


def _microsoft(oauth: OAuth, settings: Settings) -> Provider:
    entra = Entra.from_settings(settings)
    client = oauth.register(
        "microsoft",
        client_id=settings.teams_client_id,
        client_secret=settings.teams_client_secret,
        authorize_url=f"{entra.authority}/oauth2/v2.0/authorize",
        access_token_url=f"{entra.authority}/oauth2/v2.0/token",
        client_kwargs={"scope": SCOPE, "token_endpoint_auth_method": "client_secret_post", "timeout": 10},
    )
    return Provider(
        "microsoft", "Sign in with Microsoft", client, entra.id_token,
        lambda claims: entra_identity(claims, "Sign in with Microsoft"),
    )  # fmt: skip


def routes(providers: Providers) -> list[BaseRoute]:
    """The sign-in routes under `/app`, one pair per configured provider."""

    def provider_of(request: Request) -> Provider:
        provider = providers.by_name.get(request.path_params["provider"])
        if provider is None:
            raise Refused("That way of signing in is not set up here.", status=404)
        return provider

    @page
    async def start(request: Request) -> Response:
        provider = provider_of(request)
        return await provider.client.authorize_redirect(request, _callback_url(request, providers, provider))

    @page
    async def callback(request: Request) -> Response:
        provider = provider_of(request)
        identity = await _answer(request, provider)
        return await _signed_in(request, providers, identity)

    return [
        Route("/oidc/{provider}", start, methods=["GET"]),
        Route("/oidc/{provider}/callback", callback, methods=["GET"]),
    ]


async def _answer(request: Request, provider: Provider) -> Identity:
    """The identity the provider's answer vouches for; Refused when the answer is not the one this browser
    asked for (state), cannot be exchanged, or its ID token does not hold (signature, nonce, tenant…)."""
    site = site_of(request)
    query = request.query_params
    if query.get("error"):
        log.info("%s answered %.100r", provider.how, query.get("error"))
        raise Refused("The sign-in was cancelled or refused, so nobody was signed in.", status=400)
    state = query.get("state") or ""
    asked = await provider.client.framework.get_state_data(request.session, state) if state else None
    if not asked or not query.get("code"):
        await _refuse(site, provider, "unknown or reused state")
        raise Refused(START_AGAIN, status=400)
    await provider.client.framework.clear_state_data(request.session, state)
    try:
        token = await provider.client.fetch_access_token(
            code=query["code"], redirect_uri=asked["redirect_uri"]
        )
    except Exception as error:  # the provider refused the code, or did not answer: nothing was proven
        log.warning("%s: the code could not be exchanged (%s)", provider.how, type(error).__name__)
        await _refuse(site, provider, "code not exchanged")
        raise Refused(START_AGAIN, status=400) from None
    try:
        claims = await provider.check(str(token.get("id_token") or ""))
        sent = str(asked.get("nonce") or "")
        if not sent or not hmac.compare_digest(str(claims.get("nonce") or ""), sent):
            raise TokenRefused("nonce")
        identity = provider.identity(claims)
        if provider.name == "slack":
            identity = await _with_userinfo(provider, token, identity)
    except TokenRefused as refusal:
        log.warning("%s: the ID token does not hold (%s)", provider.how, refusal)
        await _refuse(site, provider, f"ID token: {refusal}")
        raise Refused(_why(refusal), status=403) from None
    return identity


async def _with_userinfo(provider: Provider, token: dict[str, Any], identity: Identity) -> Identity:
    """Slack's userInfo (openid.connect.userInfo) for the same user: its verified e-mail when the ID token
    had none."""
    if identity.email:
        return identity
    try:
        info = await provider.client.userinfo(token=token)
    except Exception as error:  # the e-mail is only a way to bind someone named by e-mail: go on without
        log.info("Slack's userInfo did not answer (%s)", type(error).__name__)
        return identity
    if info.get("sub") != identity.user_id and info.get("https://slack.com/user_id") != identity.user_id:
        raise TokenRefused("userInfo names someone else")
    email = info.get("email") if info.get("email_verified") is True else None
    return Identity(identity.platform, identity.user_id, identity.organisation, email, identity.how)


def _why(refusal: TokenRefused) -> str:
    if "tenant" in str(refusal):
        return "Your Microsoft organisation is not one of this Cadence's, so you cannot sign in with it here."
    return START_AGAIN


async def _refuse(site: Any, provider: Provider, reason: str) -> None:
    await asyncio.to_thread(run_in_session, site.engine, signin.refused, how=provider.how, reason=reason)


async def _signed_in(request: Request, providers: Providers, identity: Identity) -> Response:
    """Match the identity to the plans; a session for a person of a study, the 403 page for anyone else."""
    site = site_of(request)
    found = await asyncio.to_thread(
        run_in_session, site.engine, signin.sign_in, identity=identity,
        configured_tenants=providers.configured_tenants,
    )  # fmt: skip
    if found is None:
        raise Refused(STRANGER)
    sign_in(request, actor=found.actor, name=found.name, study_id=found.study_id, now=site.clock.now())
    return RedirectResponse("/app/", status_code=303)


def _callback_url(request: Request, providers: Providers, provider: Provider) -> str:
    """Where the provider sends the browser back: under CADENCE_PUBLIC_URL when set (behind a proxy the
    request's own address is not the public one), else the request's."""
    path = f"/app/oidc/{provider.name}/callback"
    if providers.public_url:
        return providers.public_url + path
    return str(request.url.replace(path=path, query=""))
