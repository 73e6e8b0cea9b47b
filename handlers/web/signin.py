"""Signing in with a one-time link (`/cadence dashboard` sends it), and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from handlers.web.app import page
from handlers.web.sessions import posted_form, sign_out


@page
async def signing_out(request: Request) -> Response:
    await posted_form(request)
    sign_out(request)
    return RedirectResponse("/app/signed-out", status_code=303)


ROUTES = [Route("/signout", signing_out, methods=["POST"])]
