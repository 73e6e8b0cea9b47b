"""Cadence's Teams tabs over HTTP: the tab's page, and its single sign-on with a token Teams would give it,
signed by the fake provider's key (checked against its JWKS) — the page drawn for the person in the answer."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.db import run_in_session
from bot.models import AuditEvent
from bot.plan import load_plan
from bot.studies import apply_plan
from tests.fake_oidc import EntraUser, FakeOpenID
from tests.web.serving import ACME, CRO, EVIL, PLAN, TEAMS_CLIENT

HOST = "cadence.acme.example"
AUDIENCE = f"api://{HOST}/{TEAMS_CLIENT}"
ALICE = EntraUser("aad-alice", ACME, "alice@acme.example", "Alice Chen")


@pytest.fixture
def public_url() -> str:
    return f"https://{HOST}"


def post_token(site: str, token: str, destination: str = "me") -> httpx.Response:
    return httpx.post(f"{site}/app/tab/signin", data={"token": token, "next": destination}, timeout=10)


def audit_trail(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).where(AuditEvent.action.startswith("web.sign")).order_by(AuditEvent.id)
        return list(session.exec(query))


def framed_by_teams_only(answer: httpx.Response) -> bool:
    directives = dict(d.strip().split(" ", 1) for d in answer.headers["content-security-policy"].split(";"))
    ancestors = directives["frame-ancestors"].split()
    return (
        "x-frame-options" not in answer.headers
        and "https://teams.microsoft.com" in ancestors
        and "'none'" not in ancestors
    )


def test_the_personal_tab_page_asks_teams_for_a_token_and_says_how_else_to_sign_in(site):
    page = httpx.get(f"{site}/app/tab/me")
    assert page.status_code == 200 and framed_by_teams_only(page)
    assert 'action="/app/tab/signin"' in page.text and 'name="next" value="me"' in page.text
    assert "https://res.cdn.office.net/teams-js/" in page.text and "/cadence dashboard" in page.text
    script = httpx.get(f"{site}/app/tab/teams.js")
    assert script.status_code == 200 and "getAuthToken" in script.text
    assert "script-src 'self' https://res.cdn.office.net" in page.headers["content-security-policy"]


def test_teams_sso_draws_what_waits_on_the_person_without_a_cookie(site, provider, engine):
    answer = post_token(site, provider.tab_token(ALICE, audience=AUDIENCE))
    assert answer.status_code == 200, answer.text
    assert "What waits on you in ACME-201" in answer.text and "Alice Chen" in answer.text
    assert framed_by_teams_only(answer) and "set-cookie" not in answer.headers
    assert '<base target="_blank">' in answer.text  # its links open in the browser, where cookies work
    [event] = audit_trail(engine)
    assert (event.action, event.actor, event.subject, event.detail["tenant"]) == (
        "web.signed_in",
        "teams:aad-alice",
        "alice",
        ACME,
    )
    assert event.detail["by"] == "Teams tab"
    assert ("GET", f"/{ACME}/discovery/v2.0/keys") in provider.requests


def test_the_channel_tab_draws_the_study_dashboard_for_its_people_only(site, provider):
    token = provider.tab_token(ALICE, audience=AUDIENCE)
    dashboard = post_token(site, token, "/ACME-201/")
    assert dashboard.status_code == 200 and "ACME-201" in dashboard.text
    other = post_token(site, token, "/OTHER-1/")
    assert other.status_code == 403 and "not one of yours" in other.text
    configure = httpx.get(f"{site}/app/tab/configure")
    assert configure.status_code == 200 and framed_by_teams_only(configure) and 'id="study"' in configure.text


@pytest.mark.parametrize(
    "why, token",
    [
        ("another app's audience", lambda p: p.tab_token(ALICE, audience=f"api://{HOST}/someone-else")),
        ("the bot's own audience", lambda p: p.tab_token(ALICE, audience=TEAMS_CLIENT)),
        ("another host", lambda p: p.tab_token(ALICE, audience=f"api://evil.example/{TEAMS_CLIENT}")),
        ("without the tab's scope", lambda p: p.tab_token(ALICE, audience=AUDIENCE, scope="User.Read")),
        ("a tenant not configured", lambda p: p.tab_token(EntraUser("aad-alice", EVIL), audience=AUDIENCE)),
        (
            "expired",
            lambda p: p.tab_token(
                ALICE, audience=AUDIENCE, exp=1_000_000_000, iat=999_999_000, nbf=999_999_000
            ),
        ),
        (
            "an issuer of another tenant",
            lambda p: p.tab_token(ALICE, audience=AUDIENCE, iss=f"{p.url}/{CRO}/v2.0"),
        ),
        ("not a token", lambda p: "not-a-token"),
    ],
)
def test_a_token_that_does_not_hold_signs_nobody_in(site, provider, engine, why, token):
    answer = post_token(site, token(provider))
    assert answer.status_code == 403, why
    assert "could not sign you in" in answer.text and "/cadence dashboard" in answer.text
    assert framed_by_teams_only(answer)  # said inside the tab
    assert "What waits" not in answer.text
    assert audit_trail(engine)[-1].action == "web.signin_refused"


def test_a_token_signed_by_another_key_is_refused(site, provider: FakeOpenID):
    forged = provider.sign(
        {
            "iss": f"{provider.url}/{ACME}/v2.0",
            "aud": AUDIENCE,
            "oid": "aad-alice",
            "tid": ACME,
            "scp": "access_as_user",
        },
        key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    assert post_token(site, forged).status_code == 403


def test_someone_of_the_other_sides_tenant_or_a_stranger_gets_the_friendly_403(site, provider):
    for who in (EntraUser("aad-mallory", CRO, "alice@acme.example"), EntraUser("aad-nobody", ACME)):
        answer = post_token(site, provider.tab_token(who, audience=AUDIENCE))
        assert answer.status_code == 403 and "not part of any study" in answer.text


def test_a_tab_asks_only_for_its_own_pages(site, provider):
    token = provider.tab_token(ALICE, audience=AUDIENCE)
    for elsewhere in ("https://evil.example/", "//evil.example/", "/ACME-201/export/../../x", ""):
        assert post_token(site, token, elsewhere).status_code == 400


def test_the_personal_tab_of_someone_in_two_studies_lists_them(site, provider, engine):
    second = PLAN.replace("id: ACME-201", "id: ACME-202").replace("channel: C0STUDY", "channel: C0SECOND")
    run_in_session(engine, apply_plan, plan=load_plan(second), actor="test")
    answer = post_token(site, provider.tab_token(ALICE, audience=AUDIENCE))
    assert answer.status_code == 200 and "ACME-201" in answer.text and "ACME-202" in answer.text
    assert "What waits on you" not in answer.text
    assert len([e for e in audit_trail(engine) if e.action == "web.signed_in"]) == 2  # one per study
