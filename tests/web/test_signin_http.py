"""The web pages over HTTP on loopback, against the real served app: `/cadence dashboard` in Slack DMs a
one-time link, the link signs in (once, within ten minutes), the person sees what waits on them in their
own timezone and only their own studies, forms need their token, and signing out ends the session."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN, Settings
from bot.db import run_in_session
from bot.models import AuditEvent, WebSignIn
from bot.outbox import DeliveryWorker
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.console.console import ConsoleSession
from handlers.console.recorder import RecordingNotifier
from handlers.server import build_asgi
from handlers.slack.app import build_app
from handlers.web.app import WebSettings
from tests.conftest import serve_in_thread
from tests.payloads import BOT_TOKEN, CRO_TEAM, SIGNING_SECRET, post, post_command, sign, trigger_id
from tests.slack.test_checkin_http import deliver
from tests.slack.test_visibility_http import post_minutes, post_minutes_for_omar

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday afternoon; the next check-in is Monday 30th
PUBLIC = "https://cadence.example.org"
OMAR = "U02OMAR"  # CRO, Data Manager, Europe/Warsaw
LINK = re.compile(re.escape(PUBLIC) + r"(/app/signin/[A-Za-z0-9_-]{43})")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def web_settings(database_url, fake_slack) -> Settings:
    return Settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        secret_key="a-test-secret-key-of-at-least-32-characters",
        public_url=PUBLIC,
    )


@pytest.fixture
def url(web_settings, engine, study, clock):
    app = build_app(web_settings, engine, clock=clock)
    url, stop = serve_in_thread(
        build_asgi(app, engine, clock=clock, web=WebSettings.from_settings(web_settings))
    )
    yield url
    stop()


@dataclass
class Browser:
    """A browser without JavaScript: keeps its cookies (whatever their Secure flag: the test server is
    plain http on loopback), follows no redirects, reads the form token off the page it last drew."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)
    csrf: str | None = None

    def get(self, path: str) -> tuple[int, Message, str]:
        return self._send(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str] | None = None) -> tuple[int, Message, str]:
        body = urlencode(fields if fields is not None else {"csrf": self.csrf or ""}).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> tuple[int, Message, str]:
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(request, timeout=10) as response:
                status, headers, body = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read().decode()
        for raw in headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(raw)
            for name, morsel in SimpleCookie(raw).items():
                if morsel.value == "null" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if found := re.search(r'name="csrf" value="([^"]+)"', body):
            self.csrf = found[1]
        return status, headers, body


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def ask_for_a_link(url: str, engine, fake_slack, clock, user: str = OMAR, team: str = CRO_TEAM) -> str:
    """`/cadence dashboard` as a signed Slack slash command; the DM it queues is delivered to the fake
    Slack; the link's path is read off that DM."""
    answer = post_command(url, "/cadence", "dashboard", user_id=user, team_id=team)
    assert answer.status == 200
    assert "sent you a sign-in link to ACME-201's web pages by direct message" in answer.text
    before = len(fake_slack.posted)
    deliver(engine, fake_slack, clock)
    to_them = [p for p in fake_slack.posted[before:] if p.channel == "D" + user[1:]]
    (path,) = {link for p in to_them for link in LINK.findall(p.text + json.dumps(p.blocks))}
    return path


def test_a_slack_command_signs_omar_in_to_what_waits_on_him_in_his_own_time(url, engine, fake_slack, clock):
    post_minutes_for_omar(engine)
    path = ask_for_a_link(url, engine, fake_slack, clock)
    with Session(engine) as session:  # the table keeps a hash of the token, never the token
        (row,) = session.exec(select(WebSignIn)).all()
    assert path.rsplit("/", 1)[1] not in row.token_hash and len(row.token_hash) == 64

    browser = Browser(url)
    status, headers, page = browser.get(path)  # opening the link uses nothing: a Continue button
    assert status == 200 and "Continue" in page and browser.csrf
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    status, headers, _ = browser.post(path)
    assert (status, headers["Location"]) == (303, "/app/ACME-201/")
    cookie = browser.set_cookies[-1].lower()
    assert cookie.startswith("cadence_session=")
    for flag in ("httponly", "samesite=lax", "secure", "path=/app", "max-age=43200"):
        assert flag in cookie, flag

    status, _, page = browser.get("/app/ACME-201/me")
    assert status == 200
    assert "Signed in as <strong>Omar Haddad</strong>" in page
    assert "Close the open EDC queries" in page and "due Sat 05 Dec 2026" in page
    # Monday's 09:00 check-in in Warsaw is 08:00 UTC: the page shows his time, not UTC's or New York's.
    assert '<time datetime="2026-11-30T08:00:00+00:00">Mon 30 Nov 2026, 09:00 CET</time>' in page
    assert "Open the dashboard" not in page  # the App Home's button has nothing to do on the page
    status, _, page = browser.get("/app/")
    assert status == 200 and 'href="/app/ACME-201/me"' in page
    assert browser.get("/app/ACME-201/")[0] == 200

    with Session(engine) as session:
        signed_in = session.exec(select(AuditEvent).where(AuditEvent.action == "web.signed_in")).one()
    assert (signed_in.actor, signed_in.subject) == (f"slack:{OMAR}", "omar")


def test_a_link_works_once_and_for_ten_minutes(url, engine, fake_slack, clock):
    path = ask_for_a_link(url, engine, fake_slack, clock)
    first = Browser(url)
    first.get(path)
    assert first.post(path)[0] == 303
    second = Browser(url)  # a second click, or whoever found the link afterwards
    status, _, page = second.get(path)
    assert status == 403 and "expired or was used already" in page and "/cadence dashboard" in page
    first.get("/app/ACME-201/me")
    assert first.post(path)[0] == 403  # the same browser, with its own form token: used is used

    late = ask_for_a_link(url, engine, fake_slack, clock)
    browser = Browser(url)
    assert browser.get(late)[0] == 200
    clock.advance(minutes=10, seconds=1)
    assert browser.post(late)[0] == 403
    assert browser.get(late)[0] == 403
    assert browser.get("/app/ACME-201/me")[0] == 403  # and nobody was signed in
    assert Browser(url).get("/app/signin/" + "A" * 43)[0] == 403  # never made


def test_a_person_sees_only_their_studies(url, engine, fake_slack, clock):
    other = (
        EXAMPLE_PLAN.read_text()
        .replace("id: ACME-201", "id: BETA-7")
        .replace("channel: C0STUDY", "channel: C0BETA")
    )
    other = other.replace("slack: U02OMAR", "slack: U09OTHER")  # Omar is no one in BETA-7
    run_in_session(engine, apply_plan, plan=load_plan(other), actor="test")
    browser = Browser(url)
    path = ask_for_a_link(url, engine, fake_slack, clock)
    browser.get(path)
    browser.post(path)
    status, _, page = browser.get("/app/")
    assert status == 200 and "ACME-201" in page and "BETA-7" not in page
    for refused in ("/app/BETA-7/", "/app/BETA-7/me", "/app/NO-SUCH/me"):
        status, _, page = browser.get(refused)
        assert status == 403 and "This study is not one of yours." in page, refused
    assert browser.get("/app/ACME-201/me")[0] == 200


def test_a_form_without_its_token_does_nothing_and_signing_out_ends_the_session(
    url, engine, fake_slack, clock
):
    browser = Browser(url)
    path = ask_for_a_link(url, engine, fake_slack, clock)
    browser.get(path)
    assert browser.post(path, {})[0] == 403  # Continue without the page's token
    assert browser.post(path, {"csrf": "forged"})[0] == 403
    assert browser.post(path)[0] == 303  # the link was not used up by those
    browser.get("/app/")
    assert browser.post("/app/signout", {"csrf": "forged"})[0] == 403
    assert browser.get("/app/")[0] == 200  # still signed in

    status, headers, _ = browser.post("/app/signout")
    assert (status, headers["Location"]) == (303, "/app/signed-out")
    assert "cadence_session=null" in browser.set_cookies[-1]
    assert browser.get("/app/ACME-201/me")[0] == 403
    with Session(engine) as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.action.startswith("web."))).all()
    assert actions == ["web.link_sent", "web.signed_in", "web.signed_out"]


def test_without_a_public_address_the_answer_says_what_is_missing(settings, engine, study, fake_slack):
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine), engine))
    try:
        answer = post_command(url, "/cadence", "dashboard", user_id=OMAR, team_id=CRO_TEAM)
    finally:
        stop()
    assert answer.status == 200 and "they need CADENCE_PUBLIC_URL set" in answer.text
    with Session(engine) as session:
        assert not session.exec(select(WebSignIn)).all()


def test_the_consoles_dashboard_command_sends_a_link_that_signs_in(engine, study, clock):
    chat = ConsoleSession(engine, study_key="ACME-201", handle="ben", clock=clock, web_url=PUBLIC)
    assert chat.say("/cadence dashboard").startswith(
        "Cadence has sent you a sign-in link to ACME-201's web pages by direct message."
    )
    recorder = RecordingNotifier(clock, channel_zones={}, default_zone="UTC")
    DeliveryWorker(engine, recorder, clock).drain()
    (dm,) = [r for r in recorder.received if r.kind == "signin_link"]
    assert dm.to == "@ben"
    (path,) = LINK.findall(dm.text)

    url, stop = serve_in_thread(
        build_asgi(None, engine, clock=clock, web=WebSettings(session_key="k" * 43, public_url=PUBLIC))
    )
    try:
        browser = Browser(url)
        browser.get(path)
        assert browser.post(path)[0] == 303
        status, _, page = browser.get("/app/ACME-201/me")
        # Ben works in Chicago: his Monday 09:00 check-in is 15:00 UTC.
        assert status == 200 and "Mon 30 Nov 2026, 09:00 CST" in page and "Ben Okafor" in page
    finally:
        stop()


def test_the_app_homes_button_sends_the_link_too(url, engine, fake_slack, clock):
    press = {
        "type": "block_actions", "user": {"id": OMAR, "team_id": CRO_TEAM}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": CRO_TEAM},
        "container": {"type": "view", "view_id": "V0HOME"}, "view": {"id": "V0HOME", "type": "home", "blocks": []},
        "actions": [{"action_id": "web_dashboard", "block_id": "home_web", "value": "ACME-201", "type": "button", "action_ts": "1"}],
    }  # fmt: skip
    body = urlencode({"payload": json.dumps(press)})
    assert post(f"{url}/slack/events", body, sign(body), "application/x-www-form-urlencoded").status == 200
    (published,) = fake_slack.calls_to("views.publish")  # the home as it is after the press
    assert "web_dashboard" in json.dumps(published.params)
    deliver(engine, fake_slack, clock)
    (dm,) = [p for p in fake_slack.posted if p.channel == "D02OMAR"]
    (path,) = set(LINK.findall(json.dumps(dm.blocks)))
    browser = Browser(url)
    browser.get(path)
    assert browser.post(path)[0] == 303 and browser.get("/app/ACME-201/me")[0] == 200


def test_what_people_typed_is_escaped_on_the_page(url, engine, fake_slack, clock):
    post_minutes(engine, "ACTION @omar: <script>alert(1)</script> & <b>bold</b> by 2026-12-05")
    browser = Browser(url)
    path = ask_for_a_link(url, engine, fake_slack, clock)
    browser.get(path)
    browser.post(path)
    status, _, page = browser.get("/app/ACME-201/me")
    assert status == 200 and "<script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_routes_given_to_build_asgi_are_served_beside_the_others(engine):
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def feed(request):
        return PlainTextResponse(f"feed {request.path_params['token']}")

    url, stop = serve_in_thread(build_asgi(None, engine, routes=[Route("/calendar/{token}.ics", feed)]))
    try:
        assert Browser(url).get("/calendar/abc.ics")[:3:2] == (200, "feed abc")
        assert Browser(url).get("/healthz")[0] == 200
        assert Browser(url).get("/calendar/")[0] == 404
    finally:
        stop()


def test_dashboard_typed_in_a_direct_message_sends_the_link(url, engine, fake_slack, clock):
    from tests.slack.test_typed_commands_http import answers, event, said, send

    assert send(url, event("cadence dashboard", kind="message", channel="D02OMAR")) == 200
    [answer] = answers(fake_slack)
    assert "sent you a sign-in link to ACME-201's web pages" in said(answer)
    deliver(engine, fake_slack, clock)
    assert {
        link
        for p in fake_slack.posted
        if p.channel == "D02OMAR"
        for link in LINK.findall(p.text + json.dumps(p.blocks))
    }


def test_a_session_lasts_twelve_hours(url, engine, fake_slack, clock):
    browser = Browser(url)
    path = ask_for_a_link(url, engine, fake_slack, clock)
    browser.get(path)
    browser.post(path)
    clock.advance(hours=12)
    assert browser.get("/app/ACME-201/me")[0] == 200
    clock.advance(seconds=1)
    status, headers, page = browser.get("/app/ACME-201/me")
    assert status == 403 and "your session has ended" in page and "/cadence dashboard" in page
