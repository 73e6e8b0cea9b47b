"""Both organisations install Cadence (Slack's OAuth v2 through Bolt, against the fake Web API): each
workspace's installation kept encrypted in the database, each person reached through their own
workspace's installation, and an uninstalled workspace's token never used again."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text
from sqlmodel import Session, select

from bot import checkins, directory, installations
from bot.clock import ManualClock
from bot.db import MIGRATIONS, make_engine, run_in_session
from bot.installations import TokenBox
from bot.messages import Message, Section, line
from bot.models import OutboxMessage, SlackInstallation
from bot.outbox import DeliveryWorker
from handlers.server import build_asgi
from handlers.slack.app import build_app
from handlers.slack.workspaces import WorkspaceNotifier
from tests.conftest import POSTGRES_URL, postgres_schema, serve_in_thread
from tests.payloads import BEN, CRO_TEAM, MEI, SPONSOR_TEAM, post, post_command, sign
from tests.test_cli import cadence, env  # noqa: F401 (env is a fixture)

SECRET_KEY = "a-test-key-of-at-least-thirty-two-characters"
SPONSOR_TOKEN, CRO_TOKEN = "xoxb-sponsor-install", "xoxb-cro-install"


@pytest.fixture
def oauth_url(settings, engine, study, fake_slack):
    oauth = replace(
        settings,
        slack_bot_token=None,
        slack_client_id="cadence-client-id",
        slack_client_secret="cadence-client-secret",
        secret_key=SECRET_KEY,
    )
    url, stop = serve_in_thread(build_asgi(build_app(oauth, engine), engine))
    yield url
    stop()


def install(url: str, fake_slack, code: str, token: str, team: str) -> str:
    """A browser through the Add to Slack page, then Slack's redirect back with the code."""
    fake_slack.codes[code] = (token, team)
    status, page = redirect_back(url, fake_slack, code)
    assert status == 200
    return page


def redirect_back(url: str, fake_slack, code: str) -> tuple[int, str]:
    """The Add to Slack page's state and cookie, then Slack's redirect back with `code`: status and page."""
    with urllib.request.urlopen(f"{url}/slack/install") as page:
        html = page.read().decode()
        cookie = page.headers["set-cookie"].split(";", 1)[0]  # Secure: a browser sends it back over https
    state = re.search(r"state=([\w-]+)", html).group(1)
    assert f"{fake_slack.url.removesuffix('api/')}oauth/v2/authorize?" in html  # follows SLACK_API_URL
    back = urllib.request.Request(
        f"{url}/slack/oauth_redirect?code={code}&state={state}", headers={"Cookie": cookie}
    )
    try:
        with urllib.request.urlopen(back, timeout=30) as done:
            return done.status, done.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def tokens_used(fake_slack, method: str, channel: str) -> list[str]:
    return [
        c.headers["authorization"].removeprefix("Bearer ")
        for c in fake_slack.calls_to(method)
        if c.params.get("channel") == channel
    ]


def test_two_installs_each_person_through_their_own_workspace_and_an_uninstall(oauth_url, engine, fake_slack):
    assert "Thank you!" in install(oauth_url, fake_slack, "code-sponsor", SPONSOR_TOKEN, SPONSOR_TEAM)
    assert "Thank you!" in install(oauth_url, fake_slack, "code-cro", CRO_TOKEN, CRO_TEAM)
    with Session(engine) as session:
        rows = {r.team_id: r for r in session.exec(select(SlackInstallation))}
    assert set(rows) == {SPONSOR_TEAM, CRO_TEAM}
    assert all("xoxb" not in r.bot_token_encrypted for r in rows.values())  # encrypted at rest
    assert TokenBox(SECRET_KEY).open(rows[CRO_TEAM].bot_token_encrypted) == CRO_TOKEN

    # A slash command from the CRO's workspace is authorized by the CRO's installation and answered.
    answer = post_command(oauth_url, "/who-owns", "database lock", user_id=MEI, team_id=CRO_TEAM)
    assert "*Data management* is owned by <@U02OMAR>" in answer.text
    post_command(oauth_url, "/who-owns", "SAE", user_id=BEN, team_id=SPONSOR_TEAM)

    # Monday's check-in prompts: Mei's through the CRO's token, Ben's through the sponsor's.
    monday = ManualClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # 09:00 in Chicago, 16:00 in Warsaw
    run_in_session(engine, checkins.do_due_work, now=monday.now())
    notifier = WorkspaceNotifier(engine, TokenBox(SECRET_KEY), fake_slack_client(fake_slack))
    DeliveryWorker(engine, notifier, monday).drain()
    assert tokens_used(fake_slack, "chat.postMessage", MEI) == [CRO_TOKEN]
    assert tokens_used(fake_slack, "chat.postMessage", BEN) == [SPONSOR_TOKEN]

    # The CRO's workspace uninstalls: the installation goes, the admins are told once, and its token is
    # never used again (Mei is reached through the home installation meanwhile).
    body = (
        '{"token": "legacy", "team_id": "T0CRO", "api_app_id": "A0CADENCE", "type": "event_callback", '
        '"event_id": "Ev0UNINSTALL", "event_time": 1800000000, "event": {"type": "app_uninstalled"}}'
    )
    assert post(f"{oauth_url}/slack/events", body, sign(body), "application/json").status == 200
    with Session(engine) as session:
        assert [r.team_id for r in session.exec(select(SlackInstallation))] == [SPONSOR_TEAM]
        told = session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith("uninstalled:"))).all()
        assert sorted(r.recipient for r in told) and len(told) == 2  # the study's two admins
    used_before = len(fake_slack.calls)
    run_in_session(engine, checkins.do_due_work, now=monday.advance(hours=4) or monday.now())
    DeliveryWorker(engine, notifier, monday).drain()
    later = fake_slack.calls[used_before:]
    assert later and all(c.headers.get("authorization") != f"Bearer {CRO_TOKEN}" for c in later)


def test_a_forged_or_reused_state_installs_nothing(oauth_url, engine, fake_slack):
    fake_slack.codes["code-x"] = ("xoxb-x", "T0X")
    forged = urllib.request.Request(
        f"{oauth_url}/slack/oauth_redirect?code=code-x&state=forged",
        headers={"Cookie": "slack-app-oauth-state=forged"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged)
    assert refused.value.code == 401  # Bolt: the state is not one Cadence issued
    with Session(engine) as session:
        assert session.exec(select(SlackInstallation)).all() == []


def test_oauth_mode_without_a_secret_key_refuses_to_start(env):  # noqa: F811
    env = env | {"SLACK_CLIENT_ID": "id", "SLACK_CLIENT_SECRET": "secret", "SLACK_SIGNING_SECRET": "s"}
    done = cadence("serve", env=env)
    assert done.returncode == 2 and "CADENCE_SECRET_KEY must be set" in done.stderr
    assert "Traceback" not in done.stderr


def fake_slack_client(fake_slack):
    from slack_sdk import WebClient

    return lambda token: WebClient(token=token, base_url=fake_slack.url, retry_handlers=[])


def test_someone_whose_workspace_has_no_installation_is_mentioned_in_the_study_channel(
    oauth_url, engine, fake_slack
):
    install(oauth_url, fake_slack, "code-sponsor", SPONSOR_TOKEN, SPONSOR_TEAM)  # the sponsor's only
    mention = (
        '{"token": "legacy", "team_id": "T0SPONSOR", "api_app_id": "A0CADENCE", "type": "event_callback", '
        '"event_id": "Ev0MEI", "event_time": 1800000000, "is_ext_shared_channel": true, "event": '
        '{"type": "app_mention", "user": "U02MEI", "user_team": "T0CRO", "channel": "C0STUDY", '
        '"text": "<@UBOTT0SPONSOR> who-owns SAE", "ts": "1800000000.000100"}}'
    )
    assert post(f"{oauth_url}/slack/events", mention, sign(mention), "application/json").status == 200
    monday = ManualClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    run_in_session(engine, checkins.do_due_work, now=monday.now())
    notifier = WorkspaceNotifier(engine, TokenBox(SECRET_KEY), fake_slack_client(fake_slack))
    DeliveryWorker(engine, notifier, monday).drain()
    assert tokens_used(fake_slack, "chat.postMessage", MEI) == []  # no DM through another org's install
    prompt = [p for p in fake_slack.posted if (p.key or "").startswith("checkin:") and p.key.endswith(":mei")]
    assert prompt and prompt[0].channel == "C0STUDY"
    assert "<@U02MEI>, this is for you:" in prompt[0].blocks[0]["text"]["text"]
    assert tokens_used(fake_slack, "chat.postMessage", BEN) == [SPONSOR_TOKEN]  # the sponsor's own: a DM
    # After a crash mid-send, the outbox looks for that message where it went: the channel, not a DM.
    with Session(engine) as session:
        mei = directory.current(session).studies[1].people["mei"]
    found = notifier.find_posted(None, mei, key=prompt[0].key, since=0)
    assert found is not None and found.channel == "C0STUDY"


def test_a_reinstall_of_the_first_workspace_keeps_it_the_home_installation(oauth_url, engine, fake_slack):
    install(oauth_url, fake_slack, "code-sponsor", SPONSOR_TOKEN, SPONSOR_TEAM)
    install(oauth_url, fake_slack, "code-cro", CRO_TOKEN, CRO_TEAM)
    install(oauth_url, fake_slack, "code-sponsor-again", SPONSOR_TOKEN, SPONSOR_TEAM)  # new scopes, say
    notifier = WorkspaceNotifier(engine, TokenBox(SECRET_KEY), fake_slack_client(fake_slack))
    notifier.post_to_channel("C0STUDY", Message(line("Hello"), (Section((line("Hello"),)),)), key="hello")
    assert tokens_used(fake_slack, "chat.postMessage", "C0STUDY") == [SPONSOR_TOKEN]


def tokens_revoked(tokens: str, event_id: str) -> str:
    return (
        '{"token": "legacy", "team_id": "T0CRO", "api_app_id": "A0CADENCE", "type": "event_callback", '
        f'"event_id": "{event_id}", "event_time": 1800000000, '
        f'"event": {{"type": "tokens_revoked", "tokens": {tokens}}}}}'
    )


def test_revoked_tokens_remove_the_installation_only_when_its_bot_token_is_among_them(
    oauth_url, engine, fake_slack
):
    install(oauth_url, fake_slack, "code-sponsor", SPONSOR_TOKEN, SPONSOR_TEAM)
    install(oauth_url, fake_slack, "code-cro", CRO_TOKEN, CRO_TEAM)

    def installed() -> list[str]:
        with Session(engine) as session:
            return sorted(r.team_id for r in session.exec(select(SlackInstallation)))

    for n, tokens in enumerate(('{"oauth": ["U02MEI"], "bot": []}', '{"oauth": ["U02MEI"]}', '"x"')):
        body = tokens_revoked(tokens, f"Ev0USER{n}")
        assert post(f"{oauth_url}/slack/events", body, sign(body), "application/json").status == 200
        assert installed() == [CRO_TEAM, SPONSOR_TEAM]  # a user's token is none of Cadence's

    body = tokens_revoked('{"oauth": [], "bot": ["UBOTT0CRO"]}', "Ev0BOT")
    assert post(f"{oauth_url}/slack/events", body, sign(body), "application/json").status == 200
    assert installed() == [SPONSOR_TEAM]


def test_an_oauth_exchange_slack_never_answers_gets_a_page_in_seconds_and_its_code_is_never_logged(
    oauth_url, engine, fake_slack, caplog
):
    caplog.set_level(logging.DEBUG)
    fake_slack.hang("oauth.v2.access")
    status, page = redirect_back(oauth_url, fake_slack, "secret-code-4711")
    assert status < 500 and "Cadence was not installed" in page and "start the installation again" in page
    assert "Traceback" not in page and "secret-code-4711" not in page
    assert fake_slack.calls_to("oauth.v2.access")  # it was asked, and did not answer
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret-code-4711" not in logged and "cadence-client-secret" not in logged
    assert not [r for r in caplog.records if r.exc_info]
    with Session(engine) as session:
        assert session.exec(select(SlackInstallation)).all() == []


def test_a_refused_code_is_logged_without_it(oauth_url, fake_slack, caplog):
    caplog.set_level(logging.DEBUG)
    status, page = redirect_back(oauth_url, fake_slack, "unknown-code-0815")  # Slack: invalid_code
    assert status < 500 and "Cadence was not installed" in page
    assert "unknown-code-0815" not in "\n".join(r.getMessage() for r in caplog.records)


def test_tokens_sealed_under_the_old_key_are_readable_after_the_migration(monkeypatch, tmp_path):
    def upgrade(engine, revision: str) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine, "0016")
        old_key = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest())
        with engine.begin() as connection:
            for team, sealed in (
                (SPONSOR_TEAM, Fernet(old_key).encrypt(SPONSOR_TOKEN.encode()).decode()),
                (CRO_TEAM, "not-a-fernet-token"),  # unreadable: left, and the log says to reinstall
            ):
                connection.execute(
                    text(
                        "INSERT INTO slack_installation (team_id, bot_token_encrypted, installed_at) "
                        "VALUES (:team, :sealed, :at)"
                    ),
                    {"team": team, "sealed": sealed, "at": datetime(2026, 11, 2)},
                )
        monkeypatch.setenv("CADENCE_SECRET_KEY", SECRET_KEY)
        upgrade(engine, "head")
        with Session(engine) as session:
            rows = {r.team_id: r for r in session.exec(select(SlackInstallation))}
            sponsor = installations.find(session, box=TokenBox(SECRET_KEY), team_id=SPONSOR_TEAM)
            cro = installations.find(session, box=TokenBox(SECRET_KEY), team_id=CRO_TEAM)
        engine.dispose()
    assert sponsor is not None and sponsor.bot_token == SPONSOR_TOKEN
    assert rows[SPONSOR_TEAM].first_installed_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert cro is None and rows[CRO_TEAM].bot_token_encrypted == "not-a-fernet-token"
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(rows[SPONSOR_TEAM].bot_token_encrypted.encode())  # no longer the old key


@contextmanager
def fresh_database(tmp_path):
    """An empty database to migrate step by step: a SQLite file, or a PostgreSQL schema of its own."""
    if POSTGRES_URL:
        with postgres_schema("migration") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'old.db'}"
