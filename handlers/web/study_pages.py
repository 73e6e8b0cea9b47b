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
import logging
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import audit, dashboard, export, reports
from bot.db import run_in_session
from bot.directory import Contact, StudyView
from bot.errors import CadenceError
from bot.plan import Plan, PlanInvalid, load_plan, plan_yaml
from bot.studies import Requester, plan_as_it_stands, requester_for
from handlers.web.app import page
from handlers.web.sessions import Refused, require_admin, require_member, site_of
from handlers.web.templating import render_page

log = logging.getLogger("cadence.web")
PREVIEW_DAYS = 14
CHARTS_KEPT = 64  # charts drawn lately, by their figures: the same figures are not drawn twice
PREVIEWS_KEPT = 8
PNG_HEADERS = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}

# What runs a plan in simulated time (bot.cli.simulate_plan, given by the composition root: the simulator
# lives in schedules/ and records through the console's notifier, neither of which the web imports).
Simulator = Callable[[Plan, str, datetime, datetime], Any]


def study_routes(*, simulator: Simulator | None = None) -> list[Route]:
    """The study's pages, to mount under `/app` (they read the engine and clock from the request's Site)."""
    previews: OrderedDict[str, list] = OrderedDict()

    @page
    async def plan_preview(request: Request) -> Response:
        person, study = await require_admin(request, request.path_params["study"])
        if simulator is None:
            return _page(request, "preview.html", study, person, records=None, start=None, days=PREVIEW_DAYS)
        site = site_of(request)
        now = site.clock.now()
        data = await asyncio.to_thread(run_in_session, site.engine, plan_as_it_stands, study_key=study.key)
        key = _digest({"plan": data, "day": now.date().isoformat()})
        if key not in previews:
            previews[key] = await asyncio.to_thread(_simulate, simulator, data, now)
            while len(previews) > PREVIEWS_KEPT:
                previews.popitem(last=False)
        previews.move_to_end(key)
        return _page(
            request, "preview.html", study, person, records=previews[key], start=now, days=PREVIEW_DAYS
        )

    return [
        Route("/{study}/", study_dashboard),
        Route("/{study}/kpis.png", kpi_chart),
        Route("/{study}/plan", study_plan),
        Route("/{study}/plan/preview", plan_preview),
        Route("/{study}/export", study_export),
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
    """The Trial Master File export as a download, built in this request's worker thread: it takes well
    under a second for a study's records (bench/web_pages.py), so no worker queue is needed as chat's is."""
    person, study = await require_admin(request, request.path_params["study"])
    site = site_of(request)
    now = site.clock.now()
    today = now.astimezone(ZoneInfo(person.timezone or study.timezone)).date()
    start, end = _period(request, default_end=today)
    requester = _requester(request, study, person)
    try:
        archive = await asyncio.to_thread(
            run_in_session, site.engine, _export, requester=requester, start=start, end=end
        )
    except CadenceError as error:  # a period out of range: said plainly
        raise Refused(str(error), status=400, signed_in=True) from None
    name = f"{study.key}-tmf-{start}-{end}.zip"
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _export(session, *, requester: Requester, start: date, end: date) -> bytes:
    archive = export.export_study(session, study_key=requester.study_key, start=start, end=end).archive
    audit.record(
        session,
        action="export.downloaded",
        actor=requester.actor,
        study_id=requester.study_id,
        subject=f"{start}..{end}",
        detail={"by": requester.handle, "from": "web"},
    )
    return archive


def _period(request: Request, *, default_end: date) -> tuple[date, date]:
    try:
        start = date.fromisoformat(request.query_params.get("from") or export.EARLIEST.isoformat())
        end = date.fromisoformat(request.query_params.get("to") or default_end.isoformat())
    except ValueError:
        raise Refused("Give the dates as YYYY-MM-DD.", status=400, signed_in=True) from None
    return start, end


def _simulate(simulator: Simulator, data: dict, now: datetime) -> list:
    """What everyone would receive in the next two weeks as the plan stands, in a throwaway database."""
    try:
        plan = load_plan(plan_yaml(data, "as it stands"))
    except PlanInvalid:
        log.exception("the plan as it stands did not load for a preview")
        return []
    with tempfile.TemporaryDirectory(prefix="cadence-preview-") as folder:
        url = f"sqlite:///{Path(folder) / 'preview.db'}"
        simulated = simulator(plan, url, now, now + timedelta(days=PREVIEW_DAYS))
    return [r for r in simulated.received if r.kind != "home"]


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


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    """A moment in the viewer's time: "Mon 30 Nov 2026, 09:00 CET"."""
    if moment is None:
        return "—"
    return moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")


def _day(value: date | str | None) -> str:
    if value is None or value == "":
        return "—"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return day.strftime("%a %d %b %Y")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
