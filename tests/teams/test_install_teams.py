"""Installation and identity: Cadence keeps the conversation references Teams hands it, learns who is
who from the roster (by Entra id or e-mail), and says how to connect a new channel."""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from bot.config import Settings
from bot.models import TeamsConversation, TeamsMember
from handlers.server import build_asgi
from handlers.teams.app import build_teams_app
from tests.conftest import serve_in_thread
from tests.fake_teams import account
from tests.teams.conftest import ALICE, CHANNEL, MEI, TeamsBot, install, message


def test_added_to_a_team_it_keeps_the_reference_learns_the_roster_and_explains_the_channel_id(
    teams, fake_teams, engine
):
    other = "19:other-team@thread.tacv2"
    activity = install(fake_teams)
    activity["conversation"]["id"] = other
    fake_teams.members[other] = [account("aad-zoe", "Zoe Park", "zoe@acme.example")]
    assert teams.post(activity) == 200
    [welcome] = fake_teams.to(other)
    assert f"study.channel: {other}" in welcome.text
    with Session(engine) as session:
        kept = session.exec(select(TeamsConversation).where(TeamsConversation.conversation_id == other)).one()
        zoe = session.exec(select(TeamsMember).where(TeamsMember.aad_object_id == "aad-zoe")).one()
    assert kept.kind == "channel" and kept.service_url == fake_teams.url
    assert zoe.email == "zoe@acme.example" and zoe.user_id == "29:aad-zoe"


def test_someone_in_the_plan_by_e_mail_only_is_recognised_from_their_first_message(teams, fake_teams, engine):
    with Session(engine) as session:  # forget what the team's roster taught
        for member in session.exec(select(TeamsMember)):
            session.delete(member)
        session.commit()
    fake_teams.members[MEI.chat] = [account(MEI.aad_id, MEI.name, "Mei@CRO.example")]
    teams.say(MEI, "ask list")
    assert "My open questions" in teams.answer(MEI).text
    with Session(engine) as session:
        chat = session.exec(
            select(TeamsConversation).where(TeamsConversation.conversation_id == MEI.chat)
        ).one()
    assert chat.kind == "personal" and chat.user_aad_id == MEI.aad_id


def test_a_channel_not_connected_to_a_study_says_how_to_connect_it(teams, fake_teams):
    activity = message(fake_teams, ALICE, "who-owns SAE", channel=True)
    activity["conversation"]["id"] = "19:random@thread.tacv2;messageid=1"
    teams.post(activity)
    [reply] = fake_teams.to("19:random@thread.tacv2")
    assert "not connected to a study" in reply.text and "19:random@thread.tacv2" in reply.text
    assert CHANNEL != "19:random@thread.tacv2"


def test_the_development_switch_accepts_unsigned_requests_and_says_so_loudly(
    database_url, engine, teams_study, fake_teams, clock, caplog
):
    settings = Settings(database_url=database_url, teams_allow_unauthenticated=True)
    with caplog.at_level(logging.WARNING, logger="cadence.teams"):
        app, routes = build_teams_app(settings, engine, clock=clock)
    assert any("WITHOUT a Bot Framework token" in r.getMessage() for r in caplog.records)
    url, stop = serve_in_thread(build_asgi(None, engine, teams=routes, on_startup=app.initialize))
    fake_teams.require_auth = False
    try:
        bot = TeamsBot(url, fake_teams, engine, clock, worker=None)
        assert bot.post(message(fake_teams, ALICE, "who-owns SAE"), token=None) == 200
        assert "Safety reporting" in bot.answer(ALICE).text
    finally:
        stop()


def test_without_credentials_or_the_switch_nothing_is_accepted(
    database_url, engine, teams_study, fake_teams, clock
):
    app, routes = build_teams_app(Settings(database_url=database_url), engine, clock=clock)
    url, stop = serve_in_thread(build_asgi(None, engine, teams=routes, on_startup=app.initialize))
    try:
        bot = TeamsBot(url, fake_teams, engine, clock, worker=None)
        assert bot.post(message(fake_teams, ALICE, "who-owns SAE")) == 401
    finally:
        stop()
