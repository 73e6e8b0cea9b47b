"""People a plan names by e-mail alone, found in Slack: at start by users.lookupByEmail (the running
server), again later for whoever was not found, and from the profile of whoever writes to Cadence."""

from __future__ import annotations

import json

from slack_sdk import WebClient
from sqlmodel import Session, select

from bot import audit
from bot.clock import SystemClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.models import Person
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.slack.identify import find_by_email
from tests.payloads import BOT_TOKEN, post_command
from tests.slack.test_checkin_http import deliver
from tests.test_cli import env, serving, slack_env  # noqa: F401 (env is a fixture)

ZOE = "U02ZOE"
# Zoe is in the plan by her e-mail only, and owns the CRO's site contracts.
WITH_ZOE = (
    EXAMPLE_PLAN.read_text()
    .replace(
        "  tom:   {",
        "  zoe:   {name: Zoe Kim, side: cro, role: Contracts, email: zoe@cro.example}\n  tom:   {",
    )
    .replace(
        "responsibilities:           # who owns what; /who-owns and /ask route by topic and keywords\n",
        "responsibilities:           # who owns what; /who-owns and /ask route by topic and keywords\n"
        "  - topic: Site contracts\n    keywords: [CTA, site contract]\n    owner: zoe\n    backup: raj\n",
    )
)


def zoes_slack_id(engine) -> str | None:
    with Session(engine) as session:
        return session.exec(select(Person).where(Person.handle == "zoe")).one().slack_id


def test_serve_finds_a_person_named_by_email_at_start_and_she_is_recognised(env, fake_slack, tmp_path):  # noqa: F811
    plan = tmp_path / "plan.yaml"
    plan.write_text(WITH_ZOE)
    fake_slack.users[ZOE] = "Zoe@cro.example"
    with serving(slack_env(env, fake_slack, CADENCE_PLAN=str(plan))) as (url, _):
        answer = post_command(url, "/who-owns", "CTA", user_id=ZOE)
        assert "*Site contracts* is owned by <@U02ZOE>" in answer.text  # she is known, and reached by id
    assert [c.params["email"] for c in fake_slack.calls_to("users.lookupByEmail")] == ["zoe@cro.example"]


def test_someone_not_found_is_tried_again_and_a_second_round_asks_only_for_who_is_missing(
    engine, study, fake_slack
):
    run_in_session(engine, apply_plan, plan=load_plan(WITH_ZOE), actor="test")
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.url)
    assert find_by_email(engine, client) == 0 and zoes_slack_id(engine) is None  # not in Slack yet
    fake_slack.users[ZOE] = "zoe@cro.example"  # she joins the workspace
    assert find_by_email(engine, client) == 1 and zoes_slack_id(engine) == ZOE
    assert find_by_email(engine, client) == 0
    assert [c.params["email"] for c in fake_slack.calls_to("users.lookupByEmail")] == ["zoe@cro.example"] * 2
    with Session(engine) as session:
        [event] = audit.events_for(session, study_id=1, action="person.found")
        assert event.subject == "zoe" and event.detail == {
            "platform": "slack",
            "user_id": ZOE,
            "workspace": "T0SPONSOR",  # nothing else known of the CRO's: the bot token's own workspace
            "how": "users.lookupByEmail",
        }
    # The id survives the next start with the same plan file, which has none for her.
    run_in_session(engine, apply_plan, plan=load_plan(WITH_ZOE), actor="startup")
    assert zoes_slack_id(engine) == ZOE


def test_whoever_writes_to_cadence_is_recognised_by_the_email_of_their_profile(slack_url, engine, fake_slack):
    run_in_session(engine, apply_plan, plan=load_plan(WITH_ZOE), actor="test")
    fake_slack.users[ZOE] = "zoe@cro.example"  # lookups at start missed her; her profile has the e-mail
    answer = post_command(slack_url, "/ask", "Is the CTA for site 104 signed?", user_id=ZOE)
    assert "You are not in" not in answer.text
    assert "is about Site contracts, which you look after yourself, so it went to <@U02RAJ>" in answer.text
    assert zoes_slack_id(engine) == ZOE
    # And she is reached: a question about her topic mentions her by her Slack id in the channel.
    post_command(slack_url, "/ask", "who has the site contract for 102?", user_id="U01BEN")
    deliver(engine, fake_slack, SystemClock())
    [asked] = [p for p in fake_slack.posted if (p.key or "").startswith("ask:") and "for Zoe Kim" in p.text]
    assert "<@U02ZOE>" in json.dumps(asked.blocks) and "site contract for 102" in json.dumps(asked.blocks)


def test_a_stranger_is_looked_up_once_and_still_refused_politely(slack_url, engine, fake_slack):
    run_in_session(engine, apply_plan, plan=load_plan(WITH_ZOE), actor="test")
    for _ in range(3):
        answer = post_command(slack_url, "/who-owns", "SAE", user_id="U09NOBODY")
        assert "You are not in ACME-201's communication plan" in answer.text
    assert len(fake_slack.calls_to("users.info")) == 1


# Alice, an admin, in the plan by her e-mail alone.
ALICE_BY_EMAIL = EXAMPLE_PLAN.read_text().replace("slack: U01ALICE, ", "")
EVIL_ALICE = "U0EVILALICE"


def person(engine, handle: str) -> Person:
    with Session(engine) as session:
        return session.exec(select(Person).where(Person.handle == handle)).one()


def safety_owner(engine) -> str:
    from bot.models import Responsibility

    with Session(engine) as session:
        topic = session.exec(select(Responsibility).where(Responsibility.topic == "Safety reporting")).one()
        return session.get(Person, topic.owner_id).handle


def test_a_user_of_another_workspace_with_an_admins_email_is_not_part_of_the_study(
    slack_url, engine, fake_slack
):
    run_in_session(engine, apply_plan, plan=load_plan(ALICE_BY_EMAIL), actor="test")
    fake_slack.users[EVIL_ALICE] = "alice@acme.example"
    fake_slack.user_teams[EVIL_ALICE] = "T0EVIL"
    answer = post_command(
        slack_url, "/who-owns", "set Safety reporting owner @ben", user_id=EVIL_ALICE, team_id="T0EVIL"
    )
    assert "You are not in ACME-201's communication plan" in answer.text
    assert person(engine, "alice").slack_id is None and safety_owner(engine) == "mei"
    with Session(engine) as session:
        assert audit.events_for(session, study_id=1, action="person.found") == []

    # Alice herself, in the sponsor's workspace (the bot's own, nothing else being known): bound, audited.
    fake_slack.users["U0ALICE"] = "alice@acme.example"
    answer = post_command(slack_url, "/who-owns", "set Safety reporting owner @ben", user_id="U0ALICE")
    assert "You are not in" not in answer.text and safety_owner(engine) == "ben"
    with Session(engine) as session:
        [event] = audit.events_for(session, study_id=1, action="person.found")
    assert event.subject == "alice" and event.detail == {
        "platform": "slack", "user_id": "U0ALICE", "workspace": "T0SPONSOR", "how": "profile",
    }  # fmt: skip

    # Once bound, never re-bound: a later match by e-mail, even from her workspace, changes nothing.
    fake_slack.user_teams[EVIL_ALICE] = "T0SPONSOR"
    found_now = find_by_email(engine, WebClient(token=BOT_TOKEN, base_url=fake_slack.url))
    answer = post_command(slack_url, "/who-owns", "set Safety reporting owner @raj", user_id=EVIL_ALICE)
    assert found_now == 0 and "You are not in" in answer.text
    assert person(engine, "alice").slack_id == "U0ALICE" and safety_owner(engine) == "ben"


def test_the_plan_names_each_sides_workspaces_and_a_lookup_elsewhere_is_not_bound(engine, study, fake_slack):
    text = WITH_ZOE + "\norganisations:\n  cro: {slack_teams: [T0CRO]}\n"
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.url)
    fake_slack.users[ZOE] = "zoe@cro.example"  # in the bot's own workspace, which the plan does not name
    assert find_by_email(engine, client) == 0 and zoes_slack_id(engine) is None
    fake_slack.user_teams[ZOE] = "T0CRO"  # the CRO's, as the plan says
    assert find_by_email(engine, client) == 1 and zoes_slack_id(engine) == ZOE
