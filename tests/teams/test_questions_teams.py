"""Routed questions and /away in Teams: the owner is asked in the Teams channel, people named by @mention."""

from __future__ import annotations

from tests.teams.conftest import ALICE, BEN, CHANNEL, MEI, RAJ, message


def test_a_question_goes_to_the_owner_in_the_channel_and_is_marked_answered(teams, fake_teams):
    teams.say(ALICE, "ask When is the next SAE reconciliation due?")
    reply = teams.answer(ALICE).text
    assert "Your question **ACME-201-Q1** went to <at>Mei Lin</at>" in reply
    assert "**the study channel**" in reply and "{{DATE(" in reply  # the deadline in the reader's timezone

    teams.deliver()
    [question] = teams.posts()
    assert "When is the next SAE reconciliation due?" in question.text
    assert {
        "type": "mention",
        "text": "<at>Mei Lin</at>",
        "mentioned": {"id": "aad-mei", "name": "Mei Lin"},
    } in (question.card["msteams"]["entities"])
    teams.press(MEI, question.button("Answered"), channel=True)
    form = teams.answer(MEI, channel=True)
    assert "The answer" in form.text  # Answered asks for the answer's words
    teams.press(MEI, form.button("Send"), channel=True, note="Next reconciliation is due on the 15th")
    assert "ACME-201-Q1" in teams.answer(MEI, channel=True).text
    teams.deliver()
    assert any("Next reconciliation is due on the 15th" in s.text for s in teams.dms(ALICE))
    teams.say(ALICE, "ask list")
    assert "ACME-201-Q1" not in teams.answer(ALICE).text.split("Waiting on me")[0].split("My open")[1]


def test_away_names_the_cover_by_an_at_mention(teams, fake_teams):
    activity = message(fake_teams, BEN, "away until 2026-12-04 backup <at>Raj Patel</at>")
    activity["entities"] = [
        {
            "type": "mention",
            "text": "<at>Raj Patel</at>",
            "mentioned": {"id": RAJ.user_id, "name": "Raj Patel"},
        }
    ]
    teams.post(activity)
    assert "You are away until Fri 04 Dec 2026. <at>Raj Patel</at> covers for you." in teams.answer(BEN).text

    teams.say(ALICE, "who-owns invoice")
    assert "<at>Ben Okafor</at> is away until Fri 04 Dec: ask <at>Raj Patel</at> meanwhile." in (
        teams.answer(ALICE).text
    )


def test_user_text_cannot_mention_or_ping_anyone(teams, fake_teams):
    teams.say(ALICE, "ask <at>Mei Lin</at> fake ping — what about SAE <!channel> @everyone?")
    teams.deliver()
    [question] = teams.posts()
    assert "<\u200bat>Mei Lin<\u200b/at> fake ping" in question.text  # a typed <at> is broken, not a mention
    assert [e["text"] for e in question.card["msteams"]["entities"]].count("<at>Mei Lin</at>") == 1
    assert CHANNEL == question.conversation


def test_a_question_that_fits_no_topic_offers_every_topic_and_the_one_chosen_routes_it(teams, fake_teams):
    teams.say(ALICE, "ask Where do we stand?")
    card = teams.answer(ALICE).card
    [menu] = [e for e in card["body"] if e.get("type") == "Input.ChoiceSet"]
    topics = [c["title"] for c in menu["choices"]]
    assert len(topics) == 8 and "Safety reporting" in topics and "Budget and invoices" in topics
    [choice] = [c for c in menu["choices"] if c["title"] == "Budget and invoices"]
    teams.press(ALICE, teams.answer(ALICE).button("Choose"), value=choice["value"])
    assert "went to <at>Ben Okafor</at> (Budget and invoices)" in teams.answer(ALICE).text


def test_a_topic_of_200_characters_is_chosen_in_teams_by_its_id(teams, engine):
    from bot.db import run_in_session
    from bot.plan import load_plan
    from bot.studies import apply_plan
    from tests.plans import LONG_TOPIC, with_long_topic
    from tests.teams.conftest import teams_plan_text

    run_in_session(engine, apply_plan, plan=load_plan(with_long_topic(teams_plan_text())), actor="test")
    teams.say(ALICE, "ask Where do we stand?")
    card = teams.answer(ALICE).card
    [menu] = [e for e in card["body"] if e.get("type") == "Input.ChoiceSet"]
    [choice] = [c for c in menu["choices"] if c["title"] == LONG_TOPIC]
    assert len(menu["choices"]) == 9 and choice["value"].endswith(tuple("0123456789"))
    assert LONG_TOPIC not in choice["value"]  # the topic's id, not its name
    teams.press(ALICE, teams.answer(ALICE).button("Choose"), value=choice["value"])
    assert f"went to <at>Ben Okafor</at> ({LONG_TOPIC})" in teams.answer(ALICE).text
