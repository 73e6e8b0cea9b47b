"""`/app/`: the signed-in person's studies, each with its pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.web.app import page
from handlers.web.sessions import require_viewer
from handlers.web.templating import render_page


@page
async def my_studies(request: Request) -> Response:
    viewer = await require_viewer(request)
    return render_page(request, "studies.html", studies=viewer.memberships)


ROUTES = [Route("/", my_studies)]
