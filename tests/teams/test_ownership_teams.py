"""who-owns and help in Teams: messages to the bot over HTTP, answered with Adaptive Cards."""

from __future__ import annotations

from tests.teams.conftest import ALICE, STRANGER, message


def test_who_owns_answers_in_a_card_naming_the_owner_as_a_mention(teams, fake_teams):
    teams.say(ALICE, "who-owns SAE")
    answer = teams.answer(ALICE)
    assert answer.activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "**Safety reporting** is owned by <at>Mei Lin</at>" in answer.text
    mentioned = {e["mentioned"]["name"] for e in answer.card["msteams"]["entities"]}
    assert "Mei Lin" in mentioned


def test_requests_without_a_valid_bot_framework_token_are_refused(teams, fake_teams):
    activity = message(fake_teams, ALICE, "who-owns SAE")
    assert teams.post(activity, token=None) == 401
    assert teams.post(activity, token="not-a-jwt") == 401
    assert teams.post(activity, token=fake_teams.activity_token(audience="another-bot")) == 401
    # A genuine token replayed with another service URL: replies must not go to an attacker's server.
    assert teams.post(activity, token=fake_teams.activity_token(service_url="https://evil.example")) == 401
    assert teams.post(activity, token=fake_teams.activity_token(exp=1_000_000)) == 401  # long expired
    assert fake_teams.sent == []


def test_a_stranger_is_told_kindly_and_nothing_changes(teams, fake_teams):
    teams.say(STRANGER, "who-owns SAE")
    assert "not in any study" in teams.answer(STRANGER).text


def test_free_words_are_answered_with_the_owner_or_with_help(teams, fake_teams):
    teams.say(ALICE, "who owns temperature excursion?", channel=True)
    assert "**Product supply** is owned by" in teams.answer(ALICE, channel=True).text
    teams.say(ALICE, "good morning")
    help_card = teams.answer(ALICE).text
    assert "/who-owns" in help_card and "with or without the slash" in help_card


def test_who_owns_answers_about_people_roles_and_sides_in_teams(teams, fake_teams):
    teams.say(ALICE, "who-owns who is the CRO project manager?")
    answer = teams.answer(ALICE)
    assert "**Project Manager · CRO**" in answer.text and "<at>Raj Patel</at>" in answer.text
    assert "Raj Patel" in {e["mentioned"]["name"] for e in answer.card["msteams"]["entities"]}
    teams.say(ALICE, "who-owns what does Sofia own?")
    assert "Owns: Site monitoring" in teams.answer(ALICE).text
