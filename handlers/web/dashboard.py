"""`/app/<study>/`: the study's dashboard.

The place the study dashboard is built (KPIs, escalations, questions, actions, milestones, check-ins,
pulse, decisions: issue 29): for now it names the study and links to what waits on the viewer. Its
siblings `/plan` and `/export` join ROUTES here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.web.app import page
from handlers.web.sessions import require_member
from handlers.web.templating import render_page


@page
async def study_dashboard(request: Request) -> Response:
    person, study = await require_member(request, request.path_params["study"])
    return render_page(request, "dashboard.html", study=study, person=person)


ROUTES = [Route("/{study}/", study_dashboard)]
