""" "Sign in with Slack" and "Sign in with Microsoft" over HTTP: the served app, a browser (httpx keeping
cookies, following each redirect by hand) and a fake OpenID provider on loopback (tests/fake_oidc.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.models import AuditEvent, Person
from tests.fake_oidc import EntraUser, FakeOpenID, SlackUser
from tests.web.serving import ACME, CRO, EVIL, serve_web, sign_in_settings


def browser(site: str) -> httpx.Client:
    return httpx.Client(base_url=site, follow_redirects=False, timeout=10)


def sign_in(
    site: str, provider: FakeOpenID, way: str, who, *, tamper=None
) -> tuple[httpx.Client, httpx.Response]:
    """Press "Sign in with …" as `who`: to the provider, back to Cadence; the browser and its last answer."""
    client = browser(site)
    provider.at_browser = who
    start = client.get(f"/app/oidc/{way}")
    assert start.status_code == 302
    to_provider = start.headers["location"]
    assert to_provider.startswith(provider.url)
    asked = {k: v[0] for k, v in parse_qs(urlsplit(to_provider).query).items()}
    assert asked["state"] and asked["nonce"] and asked["scope"] == "openid email profile"
    back = httpx.get(to_provider, follow_redirects=False)
    assert back.status_code == 302
    callback = back.headers["location"]
    if tamper is not None:
        callback = tamper(callback)
    assert callback.startswith(f"{site}/app/oidc/{way}/callback")
    return client, client.get(callback.removeprefix(site))


def opens_a_session(answer: httpx.Response) -> bool:
    """Whether the answer sets a session cookie (clearing one, as a refusal may, opens none)."""
    cookie = answer.headers.get("set-cookie") or ""
    return "cadence_session=" in cookie and "cadence_session=null" not in cookie


def audit_trail(engine: Engine, prefix: str = "web.sign") -> list[AuditEvent]:
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
        )
        return list(rows)


def test_a_plan_person_signs_in_with_slack_and_the_session_opens_their_studies(site, provider, engine):
    client, answer = sign_in(
        site, provider, "slack", SlackUser("U01ALICE", "T0SPONSOR", "alice@acme.example")
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/app/"
    cookie = answer.headers["set-cookie"]
    assert opens_a_session(answer) and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert ("POST", "/api/openid.connect.token") in provider.requests
    studies = client.get("/app/")
    assert studies.status_code == 200 and "ACME-201" in studies.text and "Alice Chen" in studies.text
    [event] = audit_trail(engine)
    assert (event.action, event.actor, event.subject) == ("web.signed_in", "slack:U01ALICE", "alice")
    assert event.detail["by"] == "Sign in with Slack"
    assert event.detail["workspace"] == "T0SPONSOR"


def test_someone_named_by_email_signs_in_from_their_sides_workspace_and_is_bound(site, provider, engine):
    _, answer = sign_in(site, provider, "slack", SlackUser("U02MEINEW", "T0CRO", "mei@cro.example"))
    assert answer.status_code == 303
    with Session(engine) as session:
        mei = session.exec(select(Person).where(Person.handle == "mei")).one()
        assert mei.slack_id == "U02MEINEW"
    assert [e.action for e in audit_trail(engine, "person.found")] == ["person.found"]


def test_an_email_slack_gives_only_in_userinfo_binds_the_same_way(site, provider, engine):
    who = SlackUser("U02MEINEW", "T0CRO", "mei@cro.example", email_in_id_token=False)
    _, answer = sign_in(site, provider, "slack", who)
    assert answer.status_code == 303
    assert ("GET", "/api/openid.connect.userInfo") in provider.requests
    with Session(engine) as session:
        assert session.exec(select(Person).where(Person.handle == "mei")).one().slack_id == "U02MEINEW"


def test_odd_requests_get_a_page_not_a_traceback(site, provider):
    client = browser(site)
    assert client.get("/app/oidc/github").status_code == 404
    assert client.get("/app/oidc/slack/callback").status_code == 400
    assert client.get("/app/oidc/slack/callback?state=x&code=y").status_code == 400
    cancelled = client.get("/app/oidc/microsoft/callback?error=access_denied&error_description=<b>no</b>")
    assert (
        cancelled.status_code == 400 and "<b>no</b>" not in cancelled.text and "cancelled" in cancelled.text
    )
    assert client.post("/app/oidc/slack/callback").status_code == 405
    too_large = httpx.post(f"{site}/app/tab/signin", content=b"token=" + b"a" * 20_000, timeout=10)
    assert too_large.status_code == 413


def test_a_strangers_email_never_makes_them_a_plan_person(site, provider, engine):
    # Eve's own workspace vouches for her e-mail being mei@cro.example: it is not the CRO's workspace.
    _, answer = sign_in(site, provider, "slack", SlackUser("U0EVE", "T0EVIL", "mei@cro.example"))
    assert answer.status_code == 403
    assert "not part of any study" in answer.text and not opens_a_session(answer)
    with Session(engine) as session:
        assert session.exec(select(Person).where(Person.handle == "mei")).one().slack_id is None
    [event] = audit_trail(engine)
    assert (event.action, event.actor, event.detail["outcome"]) == (
        "web.signin_refused",
        "slack:U0EVE",
        "not in any study",
    )


def test_a_plan_persons_slack_id_from_another_workspace_is_not_them(site, provider, engine):
    # Alice's user id, but Slack says the workspace is the CRO's: the sponsor's is T0SPONSOR.
    _, answer = sign_in(site, provider, "slack", SlackUser("U01ALICE", "T0CRO"))
    assert answer.status_code == 403 and not opens_a_session(answer)
    assert audit_trail(engine)[-1].detail == {
        "by": "Sign in with Slack",
        "platform": "slack",
        "user_id": "U01ALICE",
        "workspace": "T0CRO",
        "outcome": "not in any study",
    }


def test_a_stranger_gets_the_friendly_403(site, provider):
    _, answer = sign_in(site, provider, "slack", SlackUser("U0NOBODY", "T0SPONSOR"))
    assert answer.status_code == 403 and "Traceback" not in answer.text
    assert "not part of any study" in answer.text


def test_a_tampered_state_is_refused_and_nobody_is_signed_in(site, provider, engine):
    def other_state(url: str) -> str:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return parts._replace(query=urlencode({**query, "state": query["state"][:-2] + "xx"})).geturl()

    client, answer = sign_in(site, provider, "slack", SlackUser("U01ALICE", "T0SPONSOR"), tamper=other_state)
    assert answer.status_code == 400 and "could not be completed" in answer.text
    assert ("POST", "/api/openid.connect.token") not in provider.requests  # the code was never used
    assert audit_trail(engine)[-1].detail["reason"] == "unknown or reused state"


def test_an_answer_for_another_browser_is_refused(site, provider):
    """The callback a provider gave one browser, opened in another (a login CSRF): its state is unknown."""
    provider.at_browser = SlackUser("U0EVE", "T0SPONSOR")
    attacker = browser(site)
    to_provider = attacker.get("/app/oidc/slack").headers["location"]
    callback = httpx.get(to_provider, follow_redirects=False).headers["location"]
    victim = browser(site)
    assert victim.get(callback.removeprefix(site)).status_code == 400


def test_an_id_token_with_another_nonce_is_refused(site, provider, engine):
    client = browser(site)
    provider.at_browser = SlackUser("U01ALICE", "T0SPONSOR")
    to_provider = client.get("/app/oidc/slack").headers["location"]
    replayed = to_provider.replace("nonce=", "nonce=replayed")
    answer = client.get(httpx.get(replayed, follow_redirects=False).headers["location"].removeprefix(site))
    assert answer.status_code == 403 and not opens_a_session(answer)
    assert audit_trail(engine)[-1].detail["reason"] == "ID token: nonce"


def test_a_plan_person_signs_in_with_microsoft(site, provider, engine):
    _, answer = sign_in(site, provider, "microsoft", EntraUser("aad-alice", ACME, "alice@acme.example"))
    assert answer.status_code == 303 and opens_a_session(answer)
    [event] = audit_trail(engine)
    assert (event.actor, event.subject, event.detail["tenant"]) == ("teams:aad-alice", "alice", ACME)
    assert event.detail["by"] == "Sign in with Microsoft"
    # Two tenants configured: Entra's page for work accounts of any organisation, then the tenant checked.
    assert ("GET", "/organizations/oauth2/v2.0/authorize") in provider.requests
    assert ("GET", f"/{ACME}/discovery/v2.0/keys") in provider.requests


def test_a_person_of_the_other_sides_tenant_is_refused(site, provider, engine):
    # Configured, but the CRO's tenant: it does not vouch for a sponsor person's e-mail.
    _, answer = sign_in(site, provider, "microsoft", EntraUser("aad-mallory", CRO, "alice@acme.example"))
    assert answer.status_code == 403 and "not part of any study" in answer.text
    with Session(engine) as session:
        assert session.exec(select(Person).where(Person.handle == "alice")).one().teams_id == "aad-alice"


def test_a_person_of_a_tenant_not_configured_is_refused_before_anything_is_matched(site, provider, engine):
    _, answer = sign_in(site, provider, "microsoft", EntraUser("aad-alice", EVIL, "alice@acme.example"))
    assert answer.status_code == 403 and "organisation is not one of" in answer.text
    assert audit_trail(engine)[-1].detail["reason"] == "ID token: a tenant not allowed to sign in"
    assert ("GET", f"/{EVIL}/discovery/v2.0/keys") not in provider.requests


def test_an_id_token_signed_by_another_key_is_refused(site, provider, engine):
    provider.forge_with = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _, answer = sign_in(site, provider, "microsoft", EntraUser("aad-alice", ACME))
    assert answer.status_code == 403 and not opens_a_session(answer)
    assert audit_trail(engine)[-1].detail["reason"] == "ID token: InvalidSignatureError"


def test_an_answer_used_once_is_refused_the_second_time(site, provider):
    client = browser(site)
    provider.at_browser = SlackUser("U01ALICE", "T0SPONSOR")
    to_provider = client.get("/app/oidc/slack").headers["location"]
    callback = httpx.get(to_provider, follow_redirects=False).headers["location"].removeprefix(site)
    assert client.get(callback).status_code == 303
    assert client.get(callback).status_code == 400


def test_with_one_tenant_people_sign_in_at_its_page_and_come_back_to_the_public_address(engine, provider):
    """The public address, not the request's, is where the provider sends the browser back."""
    settings = sign_in_settings(provider.url, teams_tenant_id=ACME, public_url="https://cadence.acme.example")
    url, stop = serve_web(settings, engine)
    try:
        to_provider = httpx.get(f"{url}/app/oidc/microsoft", follow_redirects=False).headers["location"]
    finally:
        stop()
    assert urlsplit(to_provider).path == f"/{ACME}/oauth2/v2.0/authorize"
    asked = parse_qs(urlsplit(to_provider).query)
    assert asked["redirect_uri"] == ["https://cadence.acme.example/app/oidc/microsoft/callback"]


def test_the_sign_in_page_offers_both_ways_and_the_one_time_link(site):
    page = browser(site).get("/app/")
    assert page.status_code == 403
    assert 'href="/app/oidc/slack">Sign in with Slack' in page.text
    assert 'href="/app/oidc/microsoft">Sign in with Microsoft' in page.text
    assert "/cadence dashboard" in page.text


def test_a_tabs_address_opened_in_a_signed_in_browser_goes_to_the_page(site, provider):
    client, _ = sign_in(site, provider, "slack", SlackUser("U01ALICE", "T0SPONSOR"))
    assert client.get("/app/tab/me").headers["location"] == "/app/"
    assert client.get("/app/tab/study/ACME-201").headers["location"] == "/app/ACME-201/"
    assert browser(site).get("/app/tab/me").status_code == 200  # no session: the tab's own page
