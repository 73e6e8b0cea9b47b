"""The web's routes under `/app/`, mounted by handlers.server.build_asgi beside Slack's and Teams'.

Each page module lists its routes; this module puts them behind the session middleware (the cookie is
sent to `/app` only) and hands each request the engine and clock (`Site`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.clock import Clock
from bot.config import Settings
from bot.errors import CadenceError
from handlers.web.sessions import COOKIE, SESSION_LIFETIME, Refused, Site, session_key
from handlers.web.templating import refused_page
from handlers.web.tokens import Entra

if TYPE_CHECKING:
    from handlers.web.oidc import Providers

Page = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("cadence.web")


@dataclass(frozen=True)
class WebSettings:
    """How the pages are served: the cookies' key, and whether only https carries them."""

    session_key: str
    public_url: str | None = None
    lifetime: timedelta = SESSION_LIFETIME
    providers: Providers | None = None  # "Sign in with Slack" and "with Microsoft", as configured
    entra: Entra | None = None  # the Teams app's tokens, for the tabs' sign-in

    @classmethod
    def from_settings(cls, settings: Settings | None) -> WebSettings:
        """From CADENCE_SECRET_KEY and CADENCE_PUBLIC_URL (none: a random key of this process), and the
        Slack and Teams apps' credentials for signing in with them."""
        from handlers.web.oidc import Providers

        settings = settings or Settings()
        entra = Entra.from_settings(settings) if settings.microsoft_sign_in else None
        providers = Providers.from_settings(settings)
        return cls(session_key(settings.secret_key), settings.public_url, providers=providers, entra=entra)

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.startswith("https://"))


def page(handler: Page) -> Page:
    """A page's endpoint: a refusal (not signed in, not their study, a bad form) is the friendly 403 page;
    a problem of the core's is said as in the chats; anything else is logged and never shown."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as refusal:
            return refused_page(request, refusal)
        except CadenceError as error:
            return refused_page(request, Refused(error.message, status=409, signed_in=True))
        except Exception:
            reference = secrets.token_hex(3)
            log.exception("the page %s failed (reference %s)", request.url.path, reference)
            problem = (
                f"Something went wrong on Cadence's side and nothing was changed (reference {reference})."
            )
            return refused_page(request, Refused(problem, status=500, signed_in=True))

    return endpoint


class _WithSite:
    """Puts the Site in each request's scope, for the pages' helpers (handlers.web.sessions)."""

    def __init__(self, app: Any, site: Site):
        self.app, self.site = app, site

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        scope["cadence.site"] = self.site
        await self.app(scope, receive, send)


def web_routes(engine: Engine, web: WebSettings, *, clock: Clock) -> list[BaseRoute]:
    """`/app` and everything under it, behind the session cookie."""
    from handlers.web import me, oidc, signin, studies, study_pages, tabs

    pages: list[BaseRoute] = [
        *signin.ROUTES,
        *studies.ROUTES,
        *me.ROUTES,
        *study_pages.study_routes(),
    ]
    # Fixed paths first: /tab/me is a tab, not the "me" page of a study called "tab".
    signing_in = oidc.routes(web.providers) if web.providers is not None else []
    pages = [*signing_in, *tabs.routes(list(pages), web.entra, public_url=web.public_url), *pages]
    ways = tuple(web.providers.by_name) if web.providers is not None else ()
    site = Site(engine, clock, web.public_url, web.lifetime, sign_in_ways=ways)
    cookies = Middleware(
        SessionMiddleware,
        secret_key=web.session_key,
        session_cookie=COOKIE,
        max_age=int(web.lifetime.total_seconds()),
        path="/app",
        same_site="lax",
        https_only=web.secure_cookies,
    )
    return [
        Route("/app", lambda request: RedirectResponse("/app/", status_code=308)),
        Mount("/app", routes=pages, middleware=[Middleware(_WithSite, site=site), cookies]),
    ]
