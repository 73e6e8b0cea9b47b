"""The pages' Jinja2 environment: templates in handlers/web/templates, everything escaped unless a
renderer of ours marked it safe (handlers.web.render)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from handlers.web.sessions import Refused, csrf_token, signed_in_name

ENVIRONMENT = Environment(
    loader=PackageLoader("handlers.web", "templates"),
    autoescape=True,  # every template, whatever its name: user text is never markup here
    undefined=StrictUndefined,  # a misspelt name fails the test that draws it, not silently blank
    trim_blocks=True,
    lstrip_blocks=True,
)
# A page with a sign-in token in its address must not hand it on in a Referer; no page is framed or cached.
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def render_page(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    """A template drawn for this request: the signed-in person and the form token come with it."""
    html = ENVIRONMENT.get_template(template).render(
        request=request,
        viewer_name=signed_in_name(request),
        csrf=lambda: csrf_token(request),  # drawn by the forms that need it: no session for a plain page
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def refused_page(request: Request, refusal: Refused) -> HTMLResponse:
    """The friendly page of a refusal: why, and how to sign in."""
    return render_page(request, "refused.html", status=refusal.status, reason=refusal.reason, refusal=refusal)
