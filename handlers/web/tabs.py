"""Cadence's Teams tabs: the personal tab (what waits on me) and the channel tab (a study's dashboard).

A tab is these web pages framed in Teams. A framed page gets no cookie of ours (Teams is another site, and
the session cookie is SameSite=Lax), so a tab signs in for every page it opens, with Teams' single
sign-on: the tab's page asks the Teams JS SDK for a token (getAuthToken) and posts it to
`/app/tab/signin`; the token is checked like the Bot Framework's (handlers.web.tokens: the signing keys,
an allowed tenant's issuer, audience `api://<host>/<client id>`, the tab's scope), its person matched to
the plans as the chats match them (bot.signin), and the page is drawn for them in the answer, framed by
Teams only; nothing is kept in the browser. Outside Teams, or when Teams gives no token, the tab page
says how to get a one-time link (`/cadence dashboard`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from bot import signin
from bot.db import run_in_session
from bot.models import Study
from handlers.web.app import page
from handlers.web.oidc import STRANGER
from handlers.web.sessions import Refused, site_of, viewer_of
from handlers.web.templating import ENVIRONMENT, PAGE_HEADERS, refused_page
from handlers.web.tokens import Entra, TokenRefused, entra_identity

log = logging.getLogger("cadence.web.tabs")
HOW = "Teams tab"
TEAMS_JS = "https://res.cdn.office.net/teams-js/2.22.0/js/MicrosoftTeams.min.js"
# Where Teams (web, desktop, mobile; Microsoft 365 and Outlook hosting Teams apps) frames a tab from.
TEAMS_FRAMES = (
    "https://teams.microsoft.com https://*.teams.microsoft.com https://*.teams.microsoft.us "
    "https://*.skype.com https://*.office.com https://*.microsoft365.com https://*.cloud.microsoft"
)
TAB_HEADERS = {
    **{k: v for k, v in PAGE_HEADERS.items() if k != "X-Frame-Options"},
    "Content-Security-Policy": f"default-src 'none'; script-src 'self' https://res.cdn.office.net; "
    f"style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
    f"frame-ancestors {TEAMS_FRAMES}",
}
MAX_SIGNIN_BYTES = 16_000  # a token of a few kilobytes and where to go
_ONE_TIME = "Type /cadence dashboard to Cadence for a one-time sign-in link."
_DESTINATION = re.compile(r"^(me|/[A-Za-z0-9._~-]{1,100}/(me)?)$")


def routes(pages: Sequence[BaseRoute], entra: Entra | None, *, public_url: str | None) -> list[BaseRoute]:
    """The tabs' routes under `/app/tab/`; `pages` are the pages a tab draws once signed in."""

    async def personal(request: Request) -> Response:
        return await _tab_or_signed_in(request, "me", "/app/", sso=entra is not None)

    async def channel(request: Request) -> Response:
        study = request.path_params["study"]
        return await _tab_or_signed_in(
            request, f"/{study}/", f"/app/{quote(study, safe='')}/", sso=entra is not None
        )

    async def configure(request: Request) -> Response:
        return _tab_page(request, "tab_configure.html")

    async def script(request: Request) -> Response:
        return Response(TAB_SCRIPT, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    @page
    async def signed_in(request: Request) -> Response:
        try:
            fields = await _small_form(request)
            destination = fields.get("next", "")
            if entra is None or not _DESTINATION.fullmatch(destination):
                raise Refused("That tab cannot be opened here.", status=400)
            found = await _person(request, entra, fields.get("token", ""), host=_host(request, public_url))
        except Refused as refusal:  # said inside the tab: the refusal page, framed by Teams
            return _framed_by_teams(refused_page(request, refusal))
        path = await _where(request, destination, found)
        return _Drawn(pages, request, path, found)

    return [
        Route("/tab/me", personal, methods=["GET"]),
        Route("/tab/study/{study}", channel, methods=["GET"]),
        Route("/tab/configure", configure, methods=["GET"]),
        Route("/tab/teams.js", script, methods=["GET"]),
        Route("/tab/signin", signed_in, methods=["POST"]),
    ]


async def _tab_or_signed_in(request: Request, destination: str, page: str, *, sso: bool) -> Response:
    """A tab's address opened where the session cookie comes along (a browser, not a tab): the page
    itself; else the tab's page, signing in with Teams."""
    if await viewer_of(request) is not None:
        return RedirectResponse(page, status_code=303)
    return _tab_page(request, "tab.html", destination=destination, sso=sso)


def _framed_by_teams(response: Response) -> Response:
    del response.headers["x-frame-options"]
    response.headers["content-security-policy"] = _FRAMED_CSP
    return response


def _tab_page(request: Request, template: str, **values: Any) -> Response:
    html = ENVIRONMENT.get_template(template).render(
        request=request, viewer_name=None, teams_js=TEAMS_JS, **values
    )
    return Response(html, media_type="text/html", headers=TAB_HEADERS)


async def _small_form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SIGNIN_BYTES:
            raise Refused("That sign-in was too large.", status=413)
    try:
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
    except UnicodeDecodeError:
        raise Refused("That sign-in could not be read.", status=400) from None


async def _person(request: Request, entra: Entra, token: str, *, host: str) -> signin.SignedIn:
    """The plan person whose Teams token this is; Refused (403) for a token that does not hold, or for
    someone who is in no study (or of another side's tenant). Audited either way."""
    site = site_of(request)
    try:
        identity = entra_identity(await entra.tab_token(token, host=host), HOW)
    except TokenRefused as refusal:
        log.warning("a Teams tab's token does not hold (%s)", refusal)
        await asyncio.to_thread(
            run_in_session, site.engine, signin.refused, how=HOW, reason=f"token: {refusal}"
        )
        raise Refused("Teams could not sign you in to Cadence here. " + _ONE_TIME) from None
    found = await asyncio.to_thread(
        run_in_session, site.engine, signin.sign_in, identity=identity, configured_tenants=entra.tenants
    )
    if found is None:
        raise Refused(STRANGER)
    return found


async def _where(request: Request, destination: str, found: signin.SignedIn) -> str:
    """The path the tab draws: the personal tab shows what waits on the person in their study (their
    studies when they have several), the channel tab the study it was set up with."""
    if destination != "me":
        return destination
    if len(found.handles) > 1:
        return "/"

    def key_of(session: Any) -> str | None:
        study = session.get(Study, found.study_id)
        return study.key if study is not None else None

    key = await asyncio.to_thread(run_in_session, site_of(request).engine, key_of)
    return f"/{key}/me" if key else "/"


def _host(request: Request, public_url: str | None) -> str:
    """The host of the tab's token audience (api://<host>/<client id>): CADENCE_PUBLIC_URL's."""
    return urlsplit(public_url).netloc if public_url else request.headers.get("host", "")


class _Drawn(Response):
    """The page at `path` under /app, drawn for the signed-in person in a session of this answer only, with
    headers that let Teams frame it."""

    def __init__(self, pages: Sequence[BaseRoute], request: Request, path: str, found: signin.SignedIn):
        super().__init__()
        now = site_of(request).clock.now()
        session = {"who": found.actor, "name": found.name, "study": found.study_id, "since": now.isoformat(),
                   "csrf": secrets.token_urlsafe(24)}  # fmt: skip
        full = request.scope.get("root_path", "") + path  # routes under the /app mount match the whole path
        self.pages, self.scope = pages, {
            **request.scope, "method": "GET", "path": full, "raw_path": full.encode(), "query_string": b"",
            "session": session, "path_params": {},
        }  # fmt: skip

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        route = next((r for r in self.pages if r.matches(self.scope)[0] == Match.FULL), None)
        if route is None:
            await Response("Not found", status_code=404)(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await route.handle({**self.scope, **route.matches(self.scope)[1]}, receive, keep)
        page = _links_open_outside(bytes(body))
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in _REPLACED]
        headers += [
            (b"content-security-policy", _FRAMED_CSP.encode()),
            (b"content-length", str(len(page)).encode()),
        ]
        await send({"type": "http.response.start", "status": start.get("status", 500), "headers": headers})
        await send({"type": "http.response.body", "body": page})


def _links_open_outside(page: bytes) -> bytes:
    """A drawn page's links and forms open in the browser, outside the tab: a page the tab navigates to
    would come without a session (the tab has no cookie), and not be framed."""
    return page.replace(b"<head>", b'<head>\n<base target="_blank">', 1)


_REPLACED = {b"x-frame-options", b"content-security-policy", b"set-cookie", b"content-length"}
_FRAMED_CSP = PAGE_HEADERS["Content-Security-Policy"].replace(
    "frame-ancestors 'none'", f"frame-ancestors {TEAMS_FRAMES}"
)

TAB_SCRIPT = """\
// Cadence's Teams tab: sign in with Teams' single sign-on, or, on the configuration page, pick the study.
(function () {
  if (window.parent === window || !window.microsoftTeams) { return; }  // not inside Teams
  var teams = window.microsoftTeams;
  var signin = document.getElementById("tab-signin");
  var configure = document.getElementById("tab-configure");
  var note = document.getElementById("tab-note");
  teams.app.initialize().then(function () {
    if (signin) {
      return teams.authentication.getAuthToken().then(function (token) {
        signin.elements.token.value = token;
        signin.submit();
      });
    }
    if (configure) {
      var study = configure.elements.study;
      var valid = function () {
        teams.pages.config.setValidityState(/^[A-Za-z0-9._~-]{1,100}$/.test(study.value.trim()));
      };
      study.addEventListener("input", valid);
      valid();
      teams.pages.config.registerOnSaveHandler(function (saving) {
        var key = study.value.trim();
        var base = window.location.origin;
        teams.pages.config.setConfig({
          entityId: "cadence-" + key,
          suggestedDisplayName: "Cadence " + key,
          contentUrl: base + "/app/tab/study/" + encodeURIComponent(key),
          websiteUrl: base + "/app/" + encodeURIComponent(key) + "/"
        }).then(function () { saving.notifySuccess(); }, function () { saving.notifyFailure(); });
      });
    }
  }).catch(function () {
    if (note) { note.hidden = false; }
  });
})();
"""
