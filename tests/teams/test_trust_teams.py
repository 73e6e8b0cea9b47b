"""Trust in Teams: a person the plan names by e-mail alone is bound only to a user Teams shows in their
side's tenant, once and for good; the bot's token goes only to the configured Bot Connector; odd
activities and copies of one are answered cleanly, once."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from sqlmodel import Session, select

from bot import audit
from bot.db import run_in_session
from bot.models import Person, Responsibility, TeamsConversation, TeamsMember
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.teams.app import build_teams_app
from tests.conftest import serve_in_thread
from tests.fake_teams import BOT_ID, TENANT, FakeTeams, account
from tests.teams.conftest import (
    ALICE,
    BEN,
    CHANNEL,
    EVERYONE,
    SOFIA,
    TeamsBot,
    User,
    message,
    teams_plan_text,
)
from tests.test_cli import REPO, env  # noqa: F401 (env is a fixture)

EVIL = User("alice", "aad-evil", "Alice Chen", "alice@acme.example")  # another tenant's user, her e-mail
EVIL_TENANT = "evil-tenant"
SET_OWNER = "who-owns set Safety reporting owner @ben"


@pytest.fixture
def teams_study(engine):
    """The Teams study with Alice (an admin) in the plan by her e-mail alone."""
    plan = load_plan(teams_plan_text().replace("teams: aad-alice,", ""))
    run_in_session(engine, apply_plan, plan=plan, actor="test")
    return plan


@pytest.fixture
def fake_teams(fake_teams):
    """The study team's roster shows Alice without her e-mail: nobody is bound to her before she writes."""
    fake_teams.members[CHANNEL] = [
        account(u.aad_id, u.name, None if u is ALICE else u.email) for u in EVERYONE
    ]
    return fake_teams


def from_tenant(activity: dict, tenant: str) -> dict:
    activity["conversation"]["tenantId"] = tenant
    activity["channelData"]["tenant"]["id"] = tenant
    return activity


def alice(engine) -> Person:
    with Session(engine) as session:
        return session.exec(select(Person).where(Person.handle == "alice")).one()


def safety_owner(engine) -> str:
    with Session(engine) as session:
        topic = session.exec(select(Responsibility).where(Responsibility.topic == "Safety reporting")).one()
        owner = session.get(Person, topic.owner_id)
        assert owner is not None
        return owner.handle


def found(engine) -> list:
    """Alice's bindings (Mei, by e-mail too, is bound from the team's roster at install)."""
    with Session(engine) as session:
        return [
            e for e in audit.events_for(session, study_id=1, action="person.found") if e.subject == "alice"
        ]


@pytest.mark.parametrize("tenant_setting", [None, TENANT], ids=["no TEAMS_TENANT_ID", "TEAMS_TENANT_ID"])
def test_a_user_of_another_tenant_with_an_admins_email_is_not_part_of_the_study_and_changes_nothing(
    teams_settings, engine, teams_study, fake_teams, clock, tenant_setting
):
    from bot.outbox import DeliveryWorker
    from bot.routing import RoutingNotifier
    from handlers.teams.app import teams_notifier

    settings = replace(teams_settings, teams_tenant_id=tenant_setting)
    app, routes = build_teams_app(settings, engine, clock=clock, token=fake_teams.bot_token)
    url, stop = serve_in_thread(build_asgi(None, engine, teams=routes, on_startup=app.initialize))
    worker = DeliveryWorker(
        engine, RoutingNotifier({"teams": teams_notifier(app, engine, settings, clock)}), clock
    )
    teams = TeamsBot(url, fake_teams, engine, clock, worker)
    try:
        from tests.teams.conftest import install

        assert teams.post(install(fake_teams)) == 200
        fake_teams.members[EVIL.chat] = [account(EVIL.aad_id, EVIL.name, EVIL.email)]
        assert teams.post(from_tenant(message(fake_teams, EVIL, SET_OWNER), EVIL_TENANT)) == 200
        assert "You are not in" in teams.answer(EVIL).text
        assert safety_owner(engine) == "mei" and alice(engine).teams_id is None and found(engine) == []

        # A critical issue climbs to Alice's level: nothing of it goes to the stranger.
        teams.say(SOFIA, "escalate critical Unblinded listing sent to site 12")
        teams.deliver()
        assert [s.text for s in teams.dms(EVIL)] == [teams.answer(EVIL).text]
        assert all(c["members"][0]["id"] != EVIL.user_id for c in fake_teams.created)

        # Alice herself, in the study's tenant: bound by her e-mail, audited with how, and she acts.
        fake_teams.members[ALICE.chat] = [account(ALICE.aad_id, ALICE.name, ALICE.email)]
        teams.say(ALICE, SET_OWNER)
        assert "owner" in teams.answer(ALICE).text.lower() and safety_owner(engine) == "ben"
        assert alice(engine).teams_id == ALICE.aad_id
        [bound] = found(engine)
        assert bound.subject == "alice" and bound.detail == {
            "platform": "teams", "user_id": ALICE.aad_id, "tenant": TENANT, "how": "member lookup",
        }  # fmt: skip

        # Once bound, never re-bound: the stranger (or anyone showing her e-mail) stays a stranger.
        teams.post(from_tenant(message(fake_teams, EVIL, "who-owns set Safety reporting owner @raj"), TENANT))
        assert "You are not in" in teams.answer(EVIL).text
        assert (
            alice(engine).teams_id == ALICE.aad_id
            and safety_owner(engine) == "ben"
            and len(found(engine)) == 1
        )
    finally:
        stop()


def test_the_plan_names_each_sides_tenants_and_a_user_elsewhere_is_not_matched(engine, teams, fake_teams):
    other = "0f0f0f0f-0000-4000-8000-000000000001"
    text = teams_plan_text().replace("teams: aad-alice,", "")
    text += f"\norganisations:\n  sponsor: {{teams_tenants: [{other}]}}\n"
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    # Alice writes from a chat in a tenant that is neither the plan's for the sponsor nor the study's.
    fake_teams.members[ALICE.chat] = [account(ALICE.aad_id, ALICE.name, ALICE.email)]
    teams.post(from_tenant(message(fake_teams, ALICE, "who-owns SAE"), "another-tenant"))
    assert "You are not in" in teams.answer(ALICE).text and alice(engine).teams_id is None
    # From the tenant the plan names, she is bound.
    teams.post(from_tenant(message(fake_teams, ALICE, "who-owns SAE"), other))
    assert "Safety reporting" in teams.answer(ALICE).text and alice(engine).teams_id == ALICE.aad_id


# --- the bot's token goes only to Microsoft ------------------------------------------------------------


def test_an_activity_naming_another_service_url_is_not_stored_and_nothing_is_sent_there(
    teams_settings, engine, teams_study, fake_teams, clock
):
    evil = FakeTeams(require_auth=False).start()
    evil.members["a:evil"] = [account("aad-ben", "Ben", "ben@acme.example")]
    settings = replace(teams_settings, teams_allow_unauthenticated=True, teams_client_id=None)
    app, routes = build_teams_app(settings, engine, clock=clock, token=fake_teams.bot_token)
    url, stop = serve_in_thread(build_asgi(None, engine, teams=routes, on_startup=app.initialize))
    try:
        bot = TeamsBot(url, fake_teams, engine, clock, worker=None)
        activity = message(fake_teams, BEN, "who-owns SAE")
        activity |= {"serviceUrl": f"{evil.url}/evil", "conversation": {"id": "a:evil", "tenantId": TENANT}}
        assert bot.post(activity, token=None) == 403
    finally:
        stop()
        evil.stop()
    assert evil.requests == []
    with Session(engine) as session:
        assert session.exec(select(TeamsConversation)).all() == []
        assert session.exec(select(TeamsMember)).all() == []


def test_a_signed_activity_naming_a_service_url_outside_the_cloud_is_refused_too(teams, fake_teams, engine):
    evil = FakeTeams(require_auth=False).start()
    try:
        activity = message(fake_teams, BEN, "who-owns SAE") | {"serviceUrl": f"{evil.url}/evil"}
        signed = fake_teams.activity_token(service_url=f"{evil.url}/evil")  # the token's claim agrees
        assert teams.post(activity, token=signed) == 403
    finally:
        evil.stop()
    assert evil.requests == [] and fake_teams.sent == []
    with Session(engine) as session:
        assert not session.exec(
            select(TeamsConversation).where(TeamsConversation.service_url.contains("evil"))
        ).all()


def test_serve_refuses_the_development_switch_with_real_credentials(env, tmp_path):  # noqa: F811
    unsafe = env | {
        "TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED": "1",
        "TEAMS_CLIENT_ID": BOT_ID,
        "TEAMS_CLIENT_SECRET": "a-real-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "1"], env=unsafe, cwd=REPO,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED" in done.stderr and "token" in done.stderr


# --- odd activities, and copies of one --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["endOfConversation", "trace", "handoff", "command", "event"])
def test_activity_types_cadence_does_not_handle_get_an_empty_200(teams, fake_teams, engine, kind, caplog):
    activity = message(fake_teams, BEN, "who-owns SAE") | {"type": kind}
    assert teams.post(activity) == 200
    assert fake_teams.sent == [] and not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize(
    "change",
    [
        {"from": "29:aad-ben"},
        {"conversation": 12},
        {"recipient": "28:bot"},
        {"text": 5},
        {"entities": {"type": "mention"}},
        {"channelData": "tenant"},
        {"conversation": {"conversationType": "personal"}},
        {"serviceUrl": 7},
    ],
    ids=lambda change: next(iter(change)),
)
def test_activities_with_fields_of_the_wrong_type_get_a_400_and_store_nothing(
    teams, fake_teams, engine, change, caplog
):
    with Session(engine) as session:
        before = len(session.exec(select(TeamsConversation)).all())
    activity = message(fake_teams, BEN, "who-owns SAE") | change
    assert teams.post(activity) == 400
    assert fake_teams.sent == [] and not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
    with Session(engine) as session:
        assert len(session.exec(select(TeamsConversation)).all()) == before


def test_a_body_nested_past_the_parser_gets_a_400_without_a_traceback(teams, caplog):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{teams.url}/api/messages", data=b"[" * 400_000, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
