"""Partnership health in Teams: the KPIs and the pulse typed to the bot, rated with the card's buttons,
shown by side without names; the comment form as a card."""

from __future__ import annotations

from tests.teams.conftest import ALICE, BEN, RAJ, SOFIA, TOM


def test_the_pulse_is_started_rated_with_card_buttons_and_shown_by_side(teams):
    teams.say(TOM, "cadence pulse now")
    assert "Only the plan's admins can start a pulse round." in teams.answer(TOM).text
    teams.say(ALICE, "cadence pulse now")
    assert "Pulse round started: 9 people of both sides are asked" in teams.answer(ALICE).text
    teams.deliver()
    [request] = teams.dms(RAJ)
    assert "How well did the sponsor communicate with you this month?" in request.text
    assert [b["title"] for b in request.buttons()] == ["1", "2", "3", "4", "5", "Add a comment"]
    teams.press(RAJ, request.button("4"))
    assert "Thanks: you rated **4**" in teams.answer(RAJ).text
    teams.press(RAJ, request.button("5"))  # a second click changes it
    assert "was 4" in teams.answer(RAJ).text
    teams.press(SOFIA, teams.dms(SOFIA)[0].button("Add a comment"))
    form = teams.answer(SOFIA)
    teams.press(SOFIA, form.button("Send"), note="Clear weekly agendas")
    assert "your comment is kept" in teams.answer(SOFIA).text
    teams.say(BEN, "cadence pulse")
    shown = teams.answer(BEN).text
    assert "CRO about the sponsor: too few answers to show" in shown and "Clear weekly agendas" not in shown


def test_the_kpis_answer_in_teams(teams):
    teams.say(BEN, "cadence kpis 2")
    text = teams.answer(BEN).text
    assert "**Check-ins answered** · target 90%" in text and "**Milestones on track** · target 80%" in text
