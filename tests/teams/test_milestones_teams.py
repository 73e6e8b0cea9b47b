"""Milestones in Teams: the same list and updates, typed to the bot, answered with Adaptive Cards."""

from __future__ import annotations

import re

from tests.teams.conftest import ALICE


def test_milestones_are_listed_and_updated_from_teams(teams, fake_teams):
    teams.say(ALICE, "milestones")
    listed = teams.answer(ALICE).text
    assert "First patient in" in listed and "Database lock" in listed and "on track" in listed
    assert re.search(r"🟢 \*\*M\d+ First patient in\*\*", listed) and ":large_green_circle:" not in listed
    teams.say(ALICE, "milestones update database lock at-risk forecast 2027-06-15 vendor late")
    assert "Update recorded. It is told in the study channel and to the admins." in teams.answer(ALICE).text
    teams.say(ALICE, "milestones")
    assert "at risk, due Tue 01 Jun 2027, forecast Tue 15 Jun 2027" in teams.answer(ALICE).text
    assert re.search(r"🟡 \*\*M\d+ Database lock\*\*", teams.answer(ALICE).text)
