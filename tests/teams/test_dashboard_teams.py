"""`cadence dashboard` in Teams: the sign-in link comes by direct message and opens the web pages as the
person Teams knows (their Entra identity), over HTTP on loopback."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.outbox import DeliveryWorker
from bot.routing import RoutingNotifier
from handlers.server import build_asgi
from handlers.teams.app import build_teams_app, teams_notifier
from handlers.web.app import WebSettings
from tests.conftest import serve_in_thread
from tests.teams.conftest import ALICE, STRANGER, TeamsBot, install
from tests.web.test_signin_http import Browser

PUBLIC = "https://cadence.example.org"
LINK = re.compile(re.escape(PUBLIC) + r"(/app/signin/[A-Za-z0-9_-]{43})")


@pytest.fixture
def teams_web(teams_settings, engine, teams_study, fake_teams, clock):
    settings = replace(
        teams_settings, public_url=PUBLIC, secret_key="a-test-secret-key-of-32-characters-or-more"
    )
    app, routes = build_teams_app(settings, engine, clock=clock, token=fake_teams.bot_token)
    url, stop = serve_in_thread(
        build_asgi(
            None,
            engine,
            teams=routes,
            on_startup=app.initialize,
            clock=clock,
            web=WebSettings.from_settings(settings),
        )
    )
    notifier = teams_notifier(app, engine, settings, clock)
    bot = TeamsBot(
        url, fake_teams, engine, clock, DeliveryWorker(engine, RoutingNotifier({"teams": notifier}), clock)
    )
    assert bot.post(install(fake_teams)) == 200
    fake_teams.clear()
    yield bot
    stop()


def test_a_teams_person_gets_a_link_that_signs_them_in(teams_web):
    teams_web.say(ALICE, "cadence dashboard")
    assert "sent you a sign-in link to ACME-201's web pages" in teams_web.answer(ALICE).text
    teams_web.deliver()
    (path,) = {found for dm in teams_web.dms(ALICE) for found in LINK.findall(dm.text)}
    browser = Browser(teams_web.url)
    browser.get(path)
    assert browser.post(path)[0] == 303
    status, _, page = browser.get("/app/ACME-201/me")
    assert status == 200 and "what waits on you, Alice Chen" in page


def test_a_stranger_in_teams_gets_no_link(teams_web):
    teams_web.say(STRANGER, "cadence dashboard")
    assert "not in any study" in teams_web.answer(STRANGER).text
