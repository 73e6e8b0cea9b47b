"""Signing in with a one-time link (`/cadence dashboard` sends it), and signing out.

Opening the link (GET) only shows a Continue button: mail and chat link scanners open links too, and
must not use them up. Continue (a POST with the page's form token) uses the link and starts the session.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.db import run_in_session
from bot.web_links import link_usable, record_sign_out, use_link
from handlers.web.app import page
from handlers.web.sessions import Refused, posted_form, sign_in, sign_out, site_of
from handlers.web.templating import render_page

LINK_GONE = "This sign-in link has expired or was used already (each link works once, within 10 minutes)."


@page
async def signin_page(request: Request) -> Response:
    token = request.path_params["token"]
    site = site_of(request)
    usable = await asyncio.to_thread(
        run_in_session, site.engine, link_usable, token=token, now=site.clock.now()
    )
    if not usable:
        raise Refused(LINK_GONE)
    return render_page(request, "signin.html", action=f"/app/signin/{quote(token, safe='')}")


@page
async def signing_in(request: Request) -> Response:
    await posted_form(request)
    site = site_of(request)
    token = request.path_params["token"]
    signed = await asyncio.to_thread(run_in_session, site.engine, use_link, token=token, now=site.clock.now())
    if signed is None:
        raise Refused(LINK_GONE)
    sign_in(request, actor=signed.actor, name=signed.name, study_id=signed.study_id, now=site.clock.now())
    return RedirectResponse(f"/app/{quote(signed.study_key, safe='')}/", status_code=303)


@page
async def signing_out(request: Request) -> Response:
    await posted_form(request)
    who, study = request.session.get("who"), request.session.get("study")
    sign_out(request)
    if isinstance(who, str):
        site = site_of(request)
        study_id = study if isinstance(study, int) else None
        await asyncio.to_thread(run_in_session, site.engine, record_sign_out, actor=who, study_id=study_id)
    return RedirectResponse("/app/signed-out", status_code=303)


async def signed_out(request: Request) -> Response:
    return render_page(request, "signed_out.html")


ROUTES = [
    Route("/signin/{token}", signin_page, methods=["GET"]),
    Route("/signin/{token}", signing_in, methods=["POST"]),
    Route("/signout", signing_out, methods=["POST"]),
    Route("/signed-out", signed_out),
]
