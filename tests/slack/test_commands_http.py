"""Slash commands through the real Bolt app over HTTP, signed like Slack, against the fake Web API."""

from __future__ import annotations

import json
import time
import urllib.request
from urllib.parse import urlencode

from sqlmodel import Session, select

from bot import audit
from bot.clock import SystemClock
from bot.commands import command_names
from bot.models import Study
from tests.payloads import (
    ALICE,
    BEN,
    CRO_TEAM,
    MEI,
    RAJ,
    STRANGER,
    post,
    post_command,
    sign,
    slash_command,
)
from tests.slack.test_checkin_http import deliver


def test_who_owns_a_keyword_answers_in_the_acknowledgement(slack_url, fake_slack):
    answer = post_command(slack_url, "/who-owns", "SAE")
    assert answer.status == 200
    data = answer.json()
    assert data["response_type"] == "ephemeral"
    assert "*Safety reporting* is owned by <@U02MEI>" in answer.text
    assert "<@U02RAJ>" in answer.text  # the backup
    assert "Drug Safety Lead · CRO" in answer.text
    assert "matched the keyword “SAE”" in answer.text
    # A lookup needs no second round trip: nothing was posted through the Web API.
    assert [c.method for c in fake_slack.calls if c.method != "auth.test"] == []


def test_who_owns_database_lock(slack_url):
    assert (
        "*Data management* is owned by <@U02OMAR>"
        in post_command(slack_url, "/who-owns", "database lock").text
    )


def test_who_owns_tolerates_a_typo(slack_url):
    answer = post_command(slack_url, "/who-owns", "pharmacovigilence")
    assert "*Safety reporting* is owned by <@U02MEI>" in answer.text
    assert "closest to “pharmacovigilence”" in answer.text


def test_who_owns_shows_a_preferred_contact(slack_url):
    assert "prefers e-mail: carla@acme.example" in post_command(slack_url, "/who-owns", "IRB").text


def test_who_owns_alone_lists_every_topic_grouped_by_side(slack_url):
    text = post_command(slack_url, "/who-owns").text
    assert "Who owns what in ACME-201" in text
    assert text.index("*Sponsor*") < text.index("*CRO*")
    for topic in ("Safety reporting", "Data management", "Product supply", "Budget and invoices"):
        assert topic in text


def test_an_unknown_topic_gets_the_closest_topics_and_a_hint(slack_url):
    text = post_command(slack_url, "/who-owns", "parking").text
    assert "No topic matches “parking”" in text
    assert "`/who-owns` alone to see every topic" in text


def test_a_user_from_the_cro_workspace_is_answered(slack_url):
    answer = post_command(slack_url, "/who-owns", "EDC", user_id=MEI, team_id=CRO_TEAM)
    assert answer.status == 200
    assert "*Data management* is owned by <@U02OMAR>" in answer.text


def test_user_text_is_escaped_so_nobody_can_ping_the_channel(slack_url):
    answer = post_command(slack_url, "/who-owns", "<!channel> <!here> <@U01DEV> <https://evil.example|x>")
    raw = answer.body
    for injected in ("<!channel>", "<!here>", "<@U01DEV>", "<https://evil.example"):
        assert injected not in raw
    assert "&lt;!channel&gt;" in answer.text


def test_a_forged_signature_is_refused(slack_url):
    body = urlencode(slash_command("/who-owns", "SAE"))
    answer = post(
        f"{slack_url}/slack/events",
        body,
        sign(body, secret="not-the-secret"),
        "application/x-www-form-urlencoded",
    )
    assert answer.status == 401


def test_a_stale_timestamp_is_refused(slack_url):
    body = urlencode(slash_command("/who-owns", "SAE"))
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)
    assert post(f"{slack_url}/slack/events", body, stale, "application/x-www-form-urlencoded").status == 401


def test_an_unsigned_request_is_refused(slack_url):
    body = urlencode(slash_command("/who-owns", "SAE"))
    assert post(f"{slack_url}/slack/events", body, {}, "application/x-www-form-urlencoded").status == 401


def test_a_stranger_is_told_how_to_join(slack_url):
    text = post_command(slack_url, "/who-owns", "SAE", user_id=STRANGER).text
    assert "You are not in ACME-201's communication plan" in text
    assert "slack: U09NOBODY" in text


def test_a_channel_of_no_study_is_explained_with_a_link_to_the_study_channel(slack_url):
    text = post_command(slack_url, "/who-owns", "SAE", channel_id="C0RANDOM").text
    assert "This channel is not connected to a study." in text
    assert "ACME-201: <#C0STUDY>" in text


def test_a_direct_message_with_cadence_works(slack_url):
    assert "owned by <@U02MEI>" in post_command(slack_url, "/who-owns", "SAE", channel_id="D0BEN").text


def test_an_admin_changes_ownership_from_chat_in_the_open_and_it_is_audited(slack_url, engine, fake_slack):
    answer = post_command(
        slack_url,
        "/who-owns",
        "set Safety reporting backup <@U02OMAR|omar>",
        user_id=ALICE,
        channel_id="D0ALICE",
    )
    assert answer.json()["response_type"] == "ephemeral"
    assert "<@U02OMAR> is now the backup of *Safety reporting* (was <@U02RAJ>)" in answer.text
    assert "Posted in the study channel" in answer.text
    # Typed in a direct message, the change still reaches everyone in the study channel, once.
    deliver(engine, fake_slack, SystemClock())
    [post] = [c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "C0STUDY"]
    assert "<@U02OMAR> is now the backup of *Safety reporting* (was <@U02RAJ>)" in json.dumps(post.params)
    assert "Changed by Alice Chen" in json.dumps(post.params)
    assert "<@U02OMAR>" in post_command(slack_url, "/who-owns", "SAE").text
    with Session(engine) as session:
        study = session.exec(select(Study)).one()
        [event] = audit.events_for(session, study_id=study.id, action="ownership.changed")
        assert event.actor == f"slack:{ALICE}" and event.detail["by"] == "alice"


def test_a_cro_admin_from_their_own_workspace_may_change_ownership(slack_url):
    answer = post_command(slack_url, "/who-owns", "set EDC owner @sofia", user_id=RAJ, team_id=CRO_TEAM)
    assert "<@U02SOFIA> is now the owner of *Data management*" in answer.text


def test_a_non_admin_is_refused_politely_and_nothing_changes(slack_url, engine):
    answer = post_command(slack_url, "/who-owns", "set SAE owner @ben", user_id=BEN)
    assert answer.status == 200 and answer.json()["response_type"] == "ephemeral"
    assert "Only the plan's admins can change who owns a topic." in answer.text
    assert "<@U02MEI>" in post_command(slack_url, "/who-owns", "SAE").text
    with Session(engine) as session:
        assert audit.events_for(session, study_id=1, action="ownership.changed") == []


def test_a_set_without_role_or_person_explains_the_usage(slack_url):
    text = post_command(slack_url, "/who-owns", "set SAE", user_id=ALICE).text
    assert "For example: /who-owns set Safety reporting backup @omar" in text


def test_cadence_help_lists_the_commands_from_their_docstrings(slack_url):
    text = post_command(slack_url, "/cadence", "help").text
    assert "*/who-owns* — Find who owns a topic" in text
    assert "*/cadence* — Show what Cadence can do" in text
    assert "*/checkin* — Weekly check-ins" in text
    assert "*/away* — Mark yourself away" in text
    assert "*/ask* — Ask the owner of a topic" in text
    assert "*/escalate* — Raise a problem" in text
    assert "*/minutes* — Post meeting minutes" in text and "*/decisions* —" in text
    assert "Coming soon" not in text


def test_help_works_even_for_a_stranger(slack_url):
    assert "*/who-owns*" in post_command(slack_url, "/cadence", "", user_id=STRANGER).text


def test_every_contract_command_answers_something_useful(slack_url, fake_slack):
    contract = ["/who-owns", "/ask", "/escalate", "/checkin", "/minutes", "/actions", "/away", "/cadence"]
    assert sorted(command_names()) == sorted([*contract, "/decisions", "/milestones"])
    for name in contract:
        answer = post_command(slack_url, name, "")
        if name in {"/escalate", "/minutes"}:  # alone, they open a form
            assert answer.status == 200 and fake_slack.calls_to("views.open")
            continue
        assert answer.status == 200 and answer.json()["text"], name
    assert "ACME-201-M" in post_command(slack_url, "/minutes", "ACTION: Raj to send it by Friday").text


def test_healthz_reports_the_database(slack_url):
    with urllib.request.urlopen(f"{slack_url}/healthz", timeout=5) as response:
        assert response.status == 200 and json.load(response) == {"status": "ok"}


def test_an_unexpected_failure_reaches_the_user_as_an_apology_not_a_traceback(settings, tmp_path, fake_slack):
    # A database that was never migrated: every query fails inside the core.
    from bot.db import make_engine
    from handlers.server import build_asgi
    from handlers.slack.app import build_app
    from tests.conftest import serve_in_thread

    broken = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    url, stop = serve_in_thread(build_asgi(build_app(settings, broken), broken))
    try:
        answer = post_command(url, "/who-owns", "SAE")
    finally:
        stop()
    assert answer.status == 200
    assert "Something went wrong on Cadence's side and nothing was changed" in answer.text
    assert "Traceback" not in answer.body and "sqlite" not in answer.body.lower()


def test_away_from_slack_and_who_owns_names_the_cover(slack_url):
    far = "2099-12-31"
    answer = post_command(slack_url, "/away", f"until {far} backup <@U02OMAR|omar>", user_id=MEI)
    assert "You are away until" in answer.text and "<@U02OMAR> covers for you" in answer.text
    text = post_command(slack_url, "/who-owns", "SAE").text
    assert "<@U02MEI> is away until" in text and "ask <@U02OMAR> meanwhile" in text
    assert "Welcome back" in post_command(slack_url, "/away", "off", user_id=MEI).text
    assert "is away" not in post_command(slack_url, "/who-owns", "SAE").text


def test_away_with_a_bad_date_explains(slack_url):
    assert "'soon' is not a date." in post_command(slack_url, "/away", "until soon", user_id=MEI).text


def test_delivery_is_woken_only_when_a_request_queued_messages(settings, engine, study):
    from handlers.server import build_asgi
    from handlers.slack.app import build_app
    from tests.conftest import serve_in_thread

    wakes: list[int] = []
    url, stop = serve_in_thread(
        build_asgi(build_app(settings, engine, wake_delivery=lambda: wakes.append(1)), engine)
    )
    try:
        post_command(url, "/who-owns", "SAE")
        assert wakes == []  # a lookup queues nothing: no delivery run for it
        answer = post_command(url, "/escalate", "high Temperature excursion", user_id=RAJ)
        assert "Raised" in answer.text, answer.text
        assert wakes == [1]
    finally:
        stop()
