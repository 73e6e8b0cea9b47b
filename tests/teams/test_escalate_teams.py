"""Escalation in Teams: raised in the channel, cards and DMs through the outbox, acknowledged by a button."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.models import Escalation
from tests.teams.conftest import BEN, CHANNEL, MEI, RAJ, SOFIA, message


def test_an_issue_raised_in_the_channel_reaches_level_one_in_their_chats_and_is_acknowledged(
    teams, fake_teams
):
    teams.say(SOFIA, "escalate high Temperature excursion on kit shipment 14", channel=True)
    reply = teams.answer(SOFIA, channel=True)
    assert reply.conversation.startswith(f"{CHANNEL};messageid=")  # answered in the message's thread
    assert "Raised **ACME-201-E1**" in reply.text

    teams.deliver()
    [card] = teams.posts()
    assert "Temperature excursion on kit shipment 14" in card.text
    assert [b["data"]["action_id"] for b in card.buttons()] == ["esc_ack", "esc_resolve", "esc_climb"]
    # Level 1 (Raj, Ben) had never written to Cadence: their chats are opened from the team's roster.
    assert sorted(c["members"][0]["id"] for c in fake_teams.created) == ["29:aad-ben", "29:aad-raj"]
    [to_ben] = teams.dms(BEN)
    assert "ACME-201-E1" in to_ben.text and teams.dms(RAJ)

    # Mei is not on the path: a polite refusal; Ben acknowledges from his chat; a second press is a no-op.
    teams.press(MEI, card.button("Acknowledge"), channel=True)
    assert "Only" in teams.answer(MEI, channel=True).text
    teams.press(BEN, to_ben.button("Acknowledge"))
    assert "acknowledged" in teams.answer(BEN).text.lower()
    teams.press(BEN, to_ben.button("Acknowledge"))
    assert "nothing changed" in teams.answer(BEN).text

    # The channel's card is edited in place to show who acknowledged.
    teams.deliver()
    [edit] = [s for s in fake_teams.sent if s.update_of == card.activity_id]
    assert "Ben Okafor" in edit.text or "<at>Ben Okafor</at>" in edit.text

    # Its history, from Teams as from anywhere, names people, not their Teams ids.
    teams.say(MEI, "escalate show E1")
    history = teams.answer(MEI).text
    assert "Sofia Novak" in history and "Ben Okafor" in history and "teams:" not in history, history


def test_escalate_alone_opens_a_form_whose_submission_raises_the_issue(teams, fake_teams):
    teams.say(SOFIA, "escalate")
    form = teams.answer(SOFIA)
    inputs = {e["id"]: e for e in form.card["body"] if e["type"].startswith("Input.")}
    assert {"summary", "severity"} <= set(inputs)
    submit = form.button("Raise")
    assert submit["data"]["form"] == "escalation_form"

    teams.press(SOFIA, submit, summary="", severity="high")  # a required field left empty
    assert "⚠️" in teams.answer(SOFIA).text
    teams.press(SOFIA, submit, summary="Unblinding risk at site 12", severity="high")
    assert "Raised **ACME-201-E1**" in teams.answer(SOFIA).text


def test_an_activity_teams_delivers_again_raises_one_issue_and_is_answered_once(teams, fake_teams, engine):
    activity = message(fake_teams, SOFIA, "escalate high Unblinding risk at site 12")
    assert teams.post(activity) == 200
    assert teams.post(activity) == 200  # Teams sends it again when the first answer took over 15 s
    with Session(engine) as session:
        assert len(session.exec(select(Escalation)).all()) == 1
    assert len(teams.dms(SOFIA)) == 1


def test_stale_or_broken_cards_get_a_clear_answer_and_change_nothing(teams, fake_teams, engine):
    teams.say(SOFIA, "", value={"cadence": "form", "form": "retired_form", "meta": "x"})
    assert "That form is no longer in use." in teams.answer(SOFIA).text
    teams.say(SOFIA, "", value={"cadence": "button", "action_id": "mystery", "value": "1"})
    assert "That button is no longer in use." in teams.answer(SOFIA).text
    teams.say(SOFIA, "", value={"cadence": "button", "action_id": "esc_ack", "value": "not-a-number"})
    broken = teams.answer(SOFIA).text
    assert "Traceback" not in broken and "no longer valid, so nothing was changed" in broken
    teams.say(SOFIA, "", value={"cadence": "form", "form": "minutes_form", "meta": "ACME-201", "notes": "n",
                                "held_on": "last thursday"})  # fmt: skip
    assert "is not a date (YYYY-MM-DD)" in teams.answer(SOFIA).text
    with Session(engine) as session:
        assert session.exec(select(Escalation)).all() == []


def test_a_lookup_writes_no_claim_and_a_copy_of_it_is_answered_once(teams, fake_teams, engine):
    from bot.models import ReceivedRequest

    activity = message(fake_teams, SOFIA, "who-owns SAE")
    assert teams.post(activity) == 200 and teams.post(activity) == 200
    assert len(teams.dms(SOFIA)) == 1  # the copy is known in this process: one answer, not two
    with Session(engine) as session:
        assert session.exec(select(ReceivedRequest)).all() == []  # and taking it in wrote nothing
    teams.post(message(fake_teams, SOFIA, "escalate high Unblinding risk at site 12"))
    with Session(engine) as session:
        assert len(session.exec(select(ReceivedRequest)).all()) == 1  # a change claims its activity
