"""The web pages served over HTTP on loopback, as `cadence serve` serves them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount

from bot.clock import SystemClock
from bot.config import Settings
from handlers.web import oidc
from handlers.web.app import _WithSite
from handlers.web.sessions import COOKIE, Site, session_key
from tests.conftest import serve_in_thread


def serve_web(settings: Settings, engine: Engine) -> tuple[str, Callable[[], None]]:
    routes = oidc.routes(oidc.Providers.from_settings(settings))
    site = Site(engine, SystemClock(), settings.public_url)
    cookies = Middleware(SessionMiddleware, secret_key=session_key(settings.secret_key), session_cookie=COOKIE,
                         path="/app", same_site="lax")  # fmt: skip
    app = Starlette(
        routes=[Mount("/app", routes=routes, middleware=[Middleware(_WithSite, site=site), cookies])]
    )
    return serve_in_thread(app)
