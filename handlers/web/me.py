"""`/app/<study>/me`: what waits on the signed-in person — the App Home's content, read by the same
core call (bot.reports.home_for) and laid out by the same view, drawn as HTML in their timezone."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import messages as m
from bot import reports
from bot.db import run_in_session
from bot.directory import Contact, StudyView
from bot.studies import requester_for
from bot.views.reports import home
from handlers.web import render
from handlers.web.app import page
from handlers.web.sessions import require_member, site_of
from handlers.web.templating import render_page


def home_of(session: Session, *, study: StudyView, person: Contact, now: datetime) -> m.Home:
    """The person's App Home as it stands now."""
    found = reports.home_for(session, requester=requester_for(study, person), now=now)
    return home(found.as_data())


@page
async def what_waits_on_me(request: Request) -> Response:
    person, study = await require_member(request, request.path_params["study"])
    site = site_of(request)
    drawn = await asyncio.to_thread(
        run_in_session, site.engine, home_of, study=study, person=person, now=site.clock.now()
    )
    zone = ZoneInfo(person.timezone or study.timezone)
    return render_page(request, "me.html", study=study, zone=zone.key, home_html=render.message(drawn, zone))


ROUTES = [Route("/{study}/me", what_waits_on_me)]
