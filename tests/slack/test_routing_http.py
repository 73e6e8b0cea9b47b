"""Routing as a study team meets it in its first week, over signed Slack HTTP: plain questions reach
their topic without a question back, typos and people answer, nobody is asked their own question, and
routing learns from the topic an asker picks."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from bot import audit
from bot.db import run_in_session
from bot.models import Responsibility
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import ALICE, BEN, MEI, RAJ, post_command
from tests.plans import PANEL_PLAN
from tests.slack.test_ask_http import question_id, said
from tests.slack.test_checkin_http import press


def test_an_sae_question_naming_a_site_goes_to_safety_reporting_without_a_question_back(slack_url):
    for text in (
        "Do we need to report the SAE at site 104 within 24 hours?",
        "Do we need to report the SAE at site 102 as a SUSAR?",
    ):
        answer = post_command(slack_url, "/ask", text, user_id=BEN)
        assert "went to <@U02MEI>" in answer.text and "(Safety reporting)" in answer.text, answer.text


def test_a_word_form_of_a_keyword_is_evidence(slack_url):
    answer = post_command(slack_url, "/ask", "how many patients have been screened so far?", user_id=BEN)
    assert "went to <@U02RAJ>" in answer.text and "(Recruitment)" in answer.text  # screened -> screening


def test_several_hits_outweigh_one(slack_url):
    answer = post_command(slack_url, "/ask", "has the kit shipment invoice been paid?", user_id=ALICE)
    assert "(Product supply)" in answer.text  # kit + shipment against invoice


def test_a_question_about_ones_own_topic_goes_to_its_backup_and_says_why(slack_url):
    answer = post_command(slack_url, "/ask", "when does the next kit shipment leave?", user_id=BEN)
    assert "is about Product supply, which you look after yourself, so it went to <@U02RAJ>" in answer.text
    assert "<@U01BEN>" not in answer.text.split("went to", 1)[1]


def test_who_owns_answers_typos_and_people(slack_url):
    assert "*Safety reporting* is owned by <@U02MEI>" in post_command(slack_url, "/who-owns", "saftey").text
    assert (
        "*Budget and invoices* is owned by <@U01BEN>" in post_command(slack_url, "/who-owns", "budjet").text
    )
    mei = post_command(slack_url, "/who-owns", "mei").text
    assert "<@U02MEI>" in mei and "Owns: Safety reporting" in mei
    raj = post_command(slack_url, "/who-owns", "Raj Patel").text
    assert "Owns: Recruitment" in raj and "Backup for: Safety reporting, Data management" in raj
    asked = post_command(slack_url, "/who-owns", "how many patients have been screened so far?").text
    assert "*Recruitment* is owned by <@U02RAJ>" in asked


def test_the_topic_an_asker_picks_teaches_routing_its_words_for_next_time(slack_url, engine, fake_slack):
    first = post_command(slack_url, "/ask", "who signs off the unblinding memo?", user_id=BEN)
    assert "No topic fits your question" in first.text
    qid = question_id(first)
    value = f"{qid}|Protocol and study design"
    assert press(slack_url, fake_slack, BEN, "question_topic_select", value) == 200
    assert "went to <@U01ALICE>" in said(fake_slack.calls_to("question_topic_select")[0])

    again = post_command(slack_url, "/ask", "is the unblinding memo signed yet?", user_id=MEI)
    assert "went to <@U01ALICE>" in again.text and "(Protocol and study design)" in again.text
    shown = post_command(slack_url, "/who-owns", "protocol").text
    assert "Words questions taught Cadence for this topic:" in shown and "unblind" in shown
    with Session(engine) as session:
        [event] = audit.events_for(session, study_id=1, action="routing.learned")
        assert event.detail["toward"] is True and "memo" in event.detail["words"]
        assert event.actor == f"slack:{BEN}"


def test_not_mine_teaches_the_words_against_the_topic_but_never_unlearns_the_plans_keywords(
    slack_url, engine
):
    asked = post_command(slack_url, "/ask", "where is the SAE courier manifest?", user_id=ALICE)
    assert "went to <@U02MEI>" in asked.text
    passed = post_command(slack_url, "/ask", f"not-mine {question_id(asked)}", user_id=MEI)
    assert "<@U02RAJ>" in passed.text
    with Session(engine) as session:
        safety = session.exec(select(Responsibility).where(Responsibility.topic == "Safety reporting")).one()
        assert safety.learned.get("courier") == -1.0 and "sae" not in json.dumps(safety.learned).lower()
    # The plan's own keyword still routes the next SAE question to Safety reporting.
    assert "went to <@U02MEI>" in post_command(slack_url, "/ask", "SAE follow-up?", user_id=RAJ).text


@pytest.fixture
def panel_url(settings, engine):
    """The Bolt app over HTTP with a cosmetics study: people and roles on both sides (tests.plans)."""
    run_in_session(engine, apply_plan, plan=load_plan(PANEL_PLAN), actor="test")
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine), engine))
    yield url
    stop()


ANNA = "U01ANNA"


def who_owns(url: str, text: str) -> str:
    return post_command(url, "/who-owns", text, user_id=ANNA, channel_id="C0GLOW").text


def test_who_owns_answers_what_a_person_owns_by_handle_first_or_full_name_and_typos(panel_url):
    for text in ("what does Arjun own?", "what does arjn own?", "Arjun Mehta", "@arjun", "Arjun's topics"):
        answer = who_owns(panel_url, text)
        assert "<@U02ARJUN>" in answer and "Owns: Statistics and SAP" in answer, (text, answer)
    assert "Backup for: Panelist recruitment" in who_owns(panel_url, "what does Anna look after?")
    nobody = who_owns(panel_url, "what does Maria own?")
    assert "Nobody called 'Maria' is in GLOW-7's plan." in nobody and "Arjun Mehta (@arjun)" in nobody


def test_who_owns_answers_a_role_with_its_side_and_a_side_alone(panel_url):
    pm = who_owns(panel_url, "who is the CRO project manager?")
    assert "*Project Manager · CRO*" in pm and "<@U02PRIYA>" in pm and "owns Panelist recruitment" in pm
    assert "<@U01SAM>" not in pm  # the sponsor's project manager is not the CRO's
    assert "<@U01SAM>" in who_owns(panel_url, "who is the sponsor's project manager?")
    cro = who_owns(panel_url, "CRO")
    assert "*The CRO's people*" in cro
    assert [u for u in ("U02PRIYA", "U02ARJUN", "U02PIOTR", "U01ANNA", "U01SAM") if u in cro] == [
        "U02PRIYA",
        "U02ARJUN",
        "U02PIOTR",
    ]
    assert "owns Skin tolerance and adverse reactions" in cro
    assert "<@U02PIOTR>" in who_owns(panel_url, "who is the dermatologist?")


def test_a_question_as_a_sentence_is_weighed_by_what_it_is_about_not_by_whom(panel_url):
    question = "who do I talk to if a panelist gets a rash?"
    assert "*Skin tolerance and adverse reactions* is owned by <@U02PIOTR>" in who_owns(panel_url, question)
    asked = post_command(panel_url, "/ask", question, user_id=ANNA, channel_id="C0GLOW").text
    assert "went to <@U02PIOTR> (Skin tolerance and adverse reactions)" in asked
    # A panelist's screening is still recruitment: the participant word alone no longer decides.
    assert "*Panelist recruitment*" in who_owns(panel_url, "how many panelists passed screening?")
    assert "*Panelist recruitment*" in who_owns(panel_url, "panelists")
