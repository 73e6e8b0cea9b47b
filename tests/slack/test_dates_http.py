"""Dates typed in any command are read the same way over Slack, and said back in words."""

from __future__ import annotations

from tests.payloads import ALICE, MEI, post_command
from tests.slack import test_visibility_http as visibility
from tests.slack.test_visibility_http import OMAR, post_minutes_for_omar

url, clock = visibility.url, visibility.clock  # served on Mon 23 Nov 2026


def test_a_moved_action_keeps_this_years_date_and_says_it_in_words(url, engine):
    post_minutes_for_omar(engine)
    moved = post_command(url, "/actions", "move A1 Dec 18 IRB delay", user_id=OMAR)
    assert "due Fri 18 Dec 2026" in moved.text, moved.text
    again = post_command(url, "/actions", "move A1 December 21 sites slow", user_id=OMAR)
    assert "due Mon 21 Dec 2026" in again.text
    listed = post_command(url, "/actions", "", user_id=OMAR).text
    assert "due Mon 21 Dec 2026" in listed


def test_away_and_a_skipped_check_in_take_the_same_words(url):
    away = post_command(url, "/away", "until next friday", user_id=MEI)
    assert "You are away until Fri 04 Dec 2026" in away.text, away.text
    skipped = post_command(url, "/checkin", "skip next monday", user_id=ALICE)
    assert "No check-in will open on Mon 30 Nov 2026" in skipped.text, skipped.text
    passed = post_command(url, "/away", "until Nov 20", user_id=MEI)
    assert "You are away until Sat 20 Nov 2027" in passed.text  # a month and a day still to come


def test_each_typist_is_read_in_their_own_convention_and_told_what_was_read(url, engine):
    post_minutes_for_omar(engine)  # Omar writes from Warsaw
    moved = post_command(url, "/actions", "move A1 15.12. IRB delay", user_id=OMAR).text
    assert "due Tue 15 Dec 2026" in moved, moved
    guessed = post_command(url, "/actions", "move A1 03/01 sites slow", user_id=OMAR).text
    assert "due Sun 03 Jan 2027" in guessed and "03/01 was read day first, as Sun 03 Jan 2027." in guessed
    unread = post_command(url, "/actions", "move A1 someday sites slow", user_id=OMAR).text
    assert "'someday sites slow' does not start with a date Cadence can read." in unread
    assert "due Sun 03 Jan 2027" in post_command(url, "/actions", "", user_id=OMAR).text  # unchanged
    away = post_command(url, "/away", "until 3.1.", user_id=MEI).text
    assert "You are away until Sun 03 Jan 2027" in away, away
    skipped = post_command(url, "/checkin", "skip 11/30", user_id=ALICE).text  # New York: month first
    assert "No check-in will open on Mon 30 Nov 2026" in skipped, skipped
