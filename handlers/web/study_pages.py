"""A study's pages: `/app/<study>/` (the dashboard), `/app/<study>/kpis.png` (its trend chart),
`/app/<study>/plan` (the plan as it stands), and for the plan's admins `/app/<study>/plan/preview` (the
next two weeks in simulated time) and `/app/<study>/export` (the Trial Master File export, a zip).

Every figure comes from bot.dashboard, which reads the services the App Home and the reports read. The
core is synchronous: each page reads it in a worker thread. Times are shown in the viewer's own timezone.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot import dashboard, export, reports
from bot.db import run_in_session
from bot.directory import Contact, StudyView
from bot.errors import CadenceError
from bot.studies import Requester, plan_as_it_stands, requester_for
from handlers.web import preview
from handlers.web.app import page
from handlers.web.preview import Previews
from handlers.web.sessions import Refused, posted_form, require_admin, require_member, site_of
from handlers.web.templating import render_page

CHARTS_KEPT = 64  # charts drawn lately, by their figures: the same figures are not drawn twice
REFRESH_SECONDS = 5
PNG_HEADERS = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}


def study_routes() -> list[Route]:
    """The study's pages, to mount under `/app` (they read the engine and clock from the request's Site)."""
    previews = Previews()

    @page
    async def plan_preview(request: Request) -> Response:
        person, study = await require_admin(request, request.path_params["study"])
        site = site_of(request)
        now = site.clock.now()
        data = await asyncio.to_thread(run_in_session, site.engine, plan_as_it_stands, study_key=study.key)
        today = now.astimezone(ZoneInfo(study.timezone)).date()
        ready, sent = await previews.of(data, today)
        response = _page(
            request, "preview.html", study, person, ready=ready, sent=sent, start=today, days=preview.DAYS
        )
        if not ready:
            response.headers["Refresh"] = str(REFRESH_SECONDS)
        return response

    return [
        Route("/{study}/", study_dashboard),
        Route("/{study}/kpis.png", kpi_chart),
        Route("/{study}/plan", study_plan),
        Route("/{study}/plan/preview", plan_preview),
        Route("/{study}/export", study_export, methods=["GET", "POST"]),
        Route("/{study}/export/{download:int}.zip", export_file),
    ]


@page
async def study_dashboard(request: Request) -> Response:
    person, study = await require_member(request, request.path_params["study"])
    shown = await _read(request, dashboard.read, study, person)
    return _page(request, "dashboard.html", study, person, shown=shown)


@page
async def study_plan(request: Request) -> Response:
    person, study = await require_member(request, request.path_params["study"])
    shown = await _read(request, dashboard.plan_of, study, person)
    return _page(request, "plan.html", study, person, plan=shown, is_admin=person.handle in study.admins)


_charts: OrderedDict[str, bytes] = OrderedDict()


@page
async def kpi_chart(request: Request) -> Response:
    """The KPIs week by week against the targets, as the cadence report draws them (PNG)."""
    _person, study = await require_member(request, request.path_params["study"])
    site = site_of(request)
    trend = await asyncio.to_thread(
        run_in_session, site.engine, dashboard.trend, study_id=study.id, now=site.clock.now()
    )
    key = _digest(trend)
    if key not in _charts:
        _charts[key] = await asyncio.to_thread(reports.chart_png, trend)
        while len(_charts) > CHARTS_KEPT:
            _charts.popitem(last=False)
    _charts.move_to_end(key)
    return Response(_charts[key], media_type="image/png", headers=PNG_HEADERS)


@page
async def study_export(request: Request) -> Response:
    """The Trial Master File exports (admins): the latest asked for, each to download once built, and a
    form to ask for one. The zip is built by the tick, not in this request: it takes seconds (about 2.5 s
    for a month of the example study, 15 s at 40 people; bench/web_pages.py), as chat's is built by the
    delivery worker; the page looks again every few seconds while one is being built."""
    person, study = await require_admin(request, request.path_params["study"])
    site = site_of(request)
    now = site.clock.now()
    requester = _requester(request, study, person)
    if request.method == "POST":
        fields = await posted_form(request)
        start, end = _period(fields, default_end=_today(study, person, now))
        try:
            await asyncio.to_thread(
                run_in_session, site.engine, export.request_download,
                requester=requester, start=start, end=end, now=now,
            )  # fmt: skip
        except CadenceError as error:  # a period out of range: said plainly
            raise Refused(str(error), status=400, signed_in=True) from None
        return RedirectResponse(f"/app/{quote(study.key)}/export", status_code=303)
    found = await asyncio.to_thread(
        run_in_session, site.engine, export.downloads, requester=requester, now=now
    )
    response = _page(request, "export.html", study, person, downloads=found, today=_today(study, person, now))
    if any(d.state in {"pending", "building"} for d in found):
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@page
async def export_file(request: Request) -> Response:
    person, study = await require_admin(request, request.path_params["study"])
    site = site_of(request)
    requester = _requester(request, study, person)
    try:
        name, archive = await asyncio.to_thread(
            run_in_session, site.engine, export.downloaded, requester=requester,
            download_id=request.path_params["download"], now=site.clock.now(),
        )  # fmt: skip
    except CadenceError as error:
        raise Refused(str(error), status=404, signed_in=True) from None
    return Response(
        archive,
        media_type=export.ZIP,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _today(study: StudyView, person: Contact, now: datetime) -> date:
    return now.astimezone(ZoneInfo(person.timezone or study.timezone)).date()


def _period(fields: dict[str, str], *, default_end: date) -> tuple[date, date]:
    try:
        start = date.fromisoformat(fields.get("from") or export.EARLIEST.isoformat())
        end = date.fromisoformat(fields.get("to") or default_end.isoformat())
    except ValueError:
        raise Refused("Give the dates as YYYY-MM-DD.", status=400, signed_in=True) from None
    return start, end


async def _read(request: Request, read: Callable, study: StudyView, person: Contact):
    site = site_of(request)
    requester = _requester(request, study, person)
    return await asyncio.to_thread(
        run_in_session, site.engine, read, requester=requester, now=site.clock.now()
    )


def _requester(request: Request, study: StudyView, person: Contact) -> Requester:
    """The viewer as the core's services know a person who asks (the audit trail names their sign-in)."""
    viewer = request.session.get("who")
    base = requester_for(study, person)
    return replace(base, actor=viewer) if isinstance(viewer, str) else base


def _page(request: Request, template: str, study: StudyView, person: Contact, **values: Any) -> Response:
    zone = ZoneInfo(person.timezone or study.timezone)
    return render_page(
        request,
        template,
        study=study,
        person=person,
        zone_name=str(zone),
        at=lambda moment: _local(moment, zone),
        day=_day,
        **values,
    )


def _local(moment: datetime | None, zone: ZoneInfo) -> Markup | str:
    """A moment in the viewer's time, "Mon 30 Nov 2026, 09:00 CET", marked up with its UTC instant."""
    if moment is None:
        return "—"
    shown = moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")
    return Markup('<time datetime="{}">{}</time>').format(moment.astimezone(UTC).isoformat(), shown)


def _day(value: date | str | None) -> str:
    if value is None or value == "":
        return "—"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return day.strftime("%a %d %b %Y")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
