"""The study's pages over HTTP on loopback: the dashboard, its chart, the plan, the preview and the export,
as a sponsor person, a CRO person, an admin, a person who is not one, and a stranger."""

from __future__ import annotations

import csv
import io
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from zoneinfo import ZoneInfo

import pytest

from bot import questions
from bot.config import Settings
from bot.db import run_in_session
from handlers.server import build_asgi
from handlers.slack.app import build_app
from handlers.web.app import WebSettings
from schedules import jobs
from tests.conftest import serve_in_thread
from tests.payloads import BOT_TOKEN, SIGNING_SECRET
from tests.test_checkins import worker
from tests.test_dashboard import LATER, NOW, as_person, read, seed_study
from tests.web.test_signin_http import PUBLIC, Browser, ask_for_a_link
from tests.web_session import session_cookie

WEB = WebSettings("test-session-key-0123456789abcdef0123456789")
SLACK_IDS = {"ben": "U01BEN", "mei": "U02MEI", "raj": "U02RAJ", "alice": "U01ALICE"}


@pytest.fixture
def clock():
    from bot.clock import ManualClock

    return ManualClock(NOW)


@pytest.fixture
def url(engine, study, clock):
    seed_study(engine, NOW)
    clock.set(LATER)
    served, stop = serve_in_thread(build_asgi(None, engine, clock=clock, web=WEB))
    yield served
    stop()


def get(url: str, path: str, who: str | None) -> tuple[int, dict[str, str], bytes]:
    headers = {}
    if who is not None:
        actor = who if ":" in who else f"slack:{SLACK_IDS[who]}"
        headers["Cookie"] = session_cookie(WEB, actor=actor, study_id=1, now=LATER)
    request = urllib.request.Request(url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def local(moment, zone: str) -> str:
    """How a page shows a moment to someone in `zone` (inside a <time> with the UTC instant)."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M %Z")


def test_a_sponsor_person_sees_the_dashboard_in_their_own_time(url, engine):
    status, headers, body = get(url, "/app/ACME-201/", "ben")
    page = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/html")
    issue = read(engine).escalations[0]
    assert f"{local(issue.deadline, 'America/Chicago')}</time> (late)" in page  # Ben works in Chicago
    assert "ACME-201-E1: Temperature excursion – kit 14" in page
    assert "Project managers" in page and "Raj Patel, Ben Okafor" in page
    assert "ACME-201-Q1: SAE narrative filed?" in page and "Mei Lin" in page
    # Late first: Omar's overdue item comes before Alice's and Ben's.
    assert page.index("Close queries") < page.index("Sign the amendment") < page.index("Send the invoice")
    assert "First patient in" in page and "at-risk" in page and "Fri 29 Jan 2027" in page
    assert "2026-W48" in page and "screening window 21 days" in page
    assert "4.0 (3 answers)" in page  # the sponsor side's pulse; never who rated
    assert '<img src="/app/ACME-201/kpis.png"' in page


def test_a_cro_person_sees_the_same_figures_in_warsaw_time(url, engine):
    status, _, body = get(url, "/app/ACME-201/", "mei")
    page = body.decode()
    assert status == 200
    issue = read(engine).escalations[0]
    assert local(issue.deadline, "Europe/Warsaw") in page
    assert local(issue.deadline, "America/Chicago") not in page


def test_the_pages_are_accessible_tables_without_javascript(url):
    for path in ("/app/ACME-201/", "/app/ACME-201/plan"):
        page = get(url, path, "raj")[2].decode()
        assert "<script" not in page
        assert page.count("<caption>") >= 4 and '<th scope="col">' in page and '<th scope="row">' in page
        assert "<h1>" in page


def test_the_trend_chart_is_the_reports_png(url):
    status, headers, body = get(url, "/app/ACME-201/kpis.png", "mei")
    assert status == 200 and headers["content-type"] == "image/png" and body.startswith(b"\x89PNG")


def test_what_people_typed_is_escaped(url, engine):
    run_in_session(
        engine,
        questions.ask,
        requester=as_person(engine, "ben"),
        text="<script>alert(1)</script> SAE follow-up?",
        now=LATER,
    )
    page = get(url, "/app/ACME-201/", "ben")[2].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; SAE follow-up?" in page and "<script>" not in page


def test_an_admin_sees_the_plan_with_the_preview_and_export_links(url):
    status, _, body = get(url, "/app/ACME-201/plan", "raj")
    page = body.decode()
    assert status == 200
    assert "Safety reporting" in page and "Mei Lin (CRO)" in page and "Raj Patel" in page
    assert "Executive sponsors" in page and "mon 09:00" in page and "Weekly sponsor–CRO call" in page
    assert "/app/ACME-201/export" in page and "/app/ACME-201/plan/preview" in page


def test_a_person_who_is_no_admin_sees_the_plan_without_admin_links(url):
    status, _, body = get(url, "/app/ACME-201/plan", "ben")
    assert status == 200 and b"/export" not in body and b"/plan/preview" not in body


def post(url: str, path: str, who: str, fields: dict[str, str], *, csrf: str = "form-token"):
    cookie = session_cookie(WEB, actor=f"slack:{SLACK_IDS[who]}", study_id=1, now=LATER, csrf=csrf)
    request = urllib.request.Request(
        url + path,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_an_admin_asks_for_the_tmf_export_the_tick_builds_it_and_they_download_it(
    url, engine, fake_slack, clock
):
    status, _, body = get(url, "/app/ACME-201/export", "raj")
    assert status == 200 and b'<label for="from">' in body and b'name="csrf"' in body
    fields = {"from": "2026-11-01", "to": "2026-11-30", "csrf": "form-token"}
    status, headers, _ = post(url, "/app/ACME-201/export", "raj", fields)
    assert status == 303 and headers["location"] == "/app/ACME-201/export"
    status, headers, body = get(url, "/app/ACME-201/export", "raj")
    assert b"being built" in body and headers["refresh"] == "5"

    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    jobs.tick()  # the due work builds it, as the delivery worker builds chat's

    page = get(url, "/app/ACME-201/export", "raj")[2].decode()
    assert "Download ACME-201-tmf-2026-11-01-2026-11-30.zip" in page
    status, headers, body = get(url, "/app/ACME-201/export/1.zip", "alice")  # any admin of the study
    assert status == 200 and headers["content-type"] == "application/zip"
    assert headers["content-disposition"] == 'attachment; filename="ACME-201-tmf-2026-11-01-2026-11-30.zip"'
    files = zipfile.ZipFile(io.BytesIO(body))
    assert {"ACME-201-E1.pdf", "ACME-201-M1.pdf", "ACME-201-Q1.pdf", "index.csv"} <= set(files.namelist())
    rows = list(csv.DictReader(io.StringIO(files.read("index.csv").decode())))
    assert {r["study_id"] for r in rows} == {"ACME-201"}
    assert get(url, "/app/ACME-201/export/1.zip", "ben")[0] == 403  # not an admin
    assert get(url, "/app/ACME-201/export/2.zip", "raj")[0] == 404


def test_an_export_form_without_its_token_does_nothing(url):
    fields = {"from": "2026-11-01", "to": "2026-11-30", "csrf": "another-token"}
    status, _, body = post(url, "/app/ACME-201/export", "raj", fields, csrf="form-token")
    assert status == 403 and b"nothing was done" in body
    assert b"being built" not in get(url, "/app/ACME-201/export", "raj")[2]


def test_an_export_of_a_backwards_period_is_refused_plainly(url):
    fields = {"from": "2026-12-01", "to": "2026-11-01", "csrf": "form-token"}
    status, _, body = post(url, "/app/ACME-201/export", "raj", fields)
    assert status == 400 and b"The end date is before the start date." in body and b"Traceback" not in body


def test_a_person_who_is_no_admin_is_refused_the_export_and_the_preview(url):
    for path in ("/app/ACME-201/export", "/app/ACME-201/plan/preview", "/app/ACME-201/export/1.zip"):
        status, headers, body = get(url, path, "ben")
        assert status == 403 and headers["content-type"].startswith("text/html")
        assert b"admins" in body


def test_a_stranger_is_refused_every_page(url):
    for path in ("/app/ACME-201/", "/app/ACME-201/plan", "/app/ACME-201/kpis.png", "/app/ACME-201/export"):
        assert get(url, path, "slack:U09STRANGER")[0] == 403
        assert get(url, path, None)[0] == 403
    assert get(url, "/app/NOPE-1/", "ben")[0] == 403  # no such study: the same answer


def test_an_admin_previews_the_next_two_weeks(url):
    """The preview runs `cadence simulate` in a process of its own, in the background: the page says so and
    looks again by itself (as a browser does here) until the preview is there."""
    deadline = time.monotonic() + 120
    while True:
        status, headers, body = get(url, "/app/ACME-201/plan/preview", "alice")
        assert status == 200
        if "refresh" not in {k.lower() for k in headers}:
            break
        assert b"being prepared" in body and time.monotonic() < deadline
        time.sleep(0.5)
    page = body.decode()
    assert "checkin prompt" in page and "@carla" in page
    assert "Mon 30 Nov 2026" in page  # the next round's prompts, in Alice's time


@pytest.fixture
def slack_url(database_url, fake_slack, engine, study, clock):
    """The served app with Slack, for signing in through `/cadence dashboard`'s one-time link."""
    web_settings = Settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        secret_key="a-test-secret-key-of-at-least-32-characters",
        public_url=PUBLIC,
    )
    seed_study(engine, NOW)
    clock.set(LATER)
    app = build_app(web_settings, engine, clock=clock)
    served, stop = serve_in_thread(
        build_asgi(app, engine, clock=clock, web=WebSettings.from_settings(web_settings))
    )
    yield served
    stop()


def test_a_cro_person_signs_in_with_the_one_time_link_and_opens_the_dashboard(
    slack_url, engine, fake_slack, clock
):
    path = ask_for_a_link(slack_url, engine, fake_slack, clock)  # Omar, the CRO's Data Manager, in Warsaw
    browser = Browser(slack_url)
    browser.get(path)
    status, headers, _ = browser.post(path)
    assert (status, headers["Location"]) == (303, "/app/ACME-201/")
    status, _, page = browser.get("/app/ACME-201/")
    assert status == 200 and "Signed in as <strong>Omar Haddad</strong>" in page
    issue = read(engine).escalations[0]
    assert (
        f'<time datetime="{issue.deadline.isoformat()}">{local(issue.deadline, "Europe/Warsaw")}</time>'
        in page
    )
    assert "Close queries" in page and "Tue 24 Nov 2026 (late)" in page
    status, _, page = browser.get("/app/ACME-201/plan")
    assert status == 200 and "/export" not in page  # Omar is no admin
    assert browser.get("/app/ACME-201/export")[0] == 403


def test_a_study_with_nothing_yet_draws_every_section(engine, study, clock):
    served, stop = serve_in_thread(build_asgi(None, engine, clock=clock, web=WEB))
    try:
        status, _, body = get(served, "/app/ACME-201/", "mei")
    finally:
        stop()
    page = body.decode()
    assert status == 200
    for empty in (
        "No open escalations.",
        "No questions waiting.",
        "No open action items.",
        "No pulse round yet.",
    ):
        assert empty in page
    assert "No check-in round yet." in page and "No decisions recorded yet." in page
