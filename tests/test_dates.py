"""One reader of dates for every command, in the typist's day: a month and a day is the next such day."""

from __future__ import annotations

from datetime import date

import pytest

from bot.dates import in_words, read_date, read_leading_date

TODAY = date(2026, 12, 1)  # a Tuesday


@pytest.mark.parametrize(
    "words, day",
    [
        ("Dec 18", date(2026, 12, 18)),
        ("December 18", date(2026, 12, 18)),
        ("18 December", date(2026, 12, 18)),
        ("Dec 18th, 2026", date(2026, 12, 18)),
        ("2026-12-18", date(2026, 12, 18)),
        ("Nov 3", date(2027, 11, 3)),  # passed this year: next year's
        ("Dec 1", date(2026, 12, 1)),  # today counts
        ("friday", date(2026, 12, 4)),
        ("next friday", date(2026, 12, 11)),
        ("tomorrow", date(2026, 12, 2)),
        ("in 2 weeks", date(2026, 12, 15)),
        ("EOM", date(2026, 12, 31)),
        ("Feb 30", None),
        ("Dec", None),
        ("banana", None),
    ],
)
def test_dates_as_people_type_them(words, day):
    assert read_date(words, TODAY) == day


def test_numeric_dates_follow_the_typists_habit():
    assert read_date("12/18", TODAY, month_first=True) == date(2026, 12, 18)
    assert read_date("18/12", TODAY) == date(2026, 12, 18)


def test_a_command_reads_the_longest_date_before_its_other_words():
    assert read_leading_date("Dec 18 IRB delay".split(), TODAY) == (date(2026, 12, 18), ["IRB", "delay"])
    assert read_leading_date("next friday waiting on sites".split(), TODAY)[0] == date(2026, 12, 11)
    assert read_leading_date("IRB delay".split(), TODAY) is None


def test_dates_are_said_back_in_words():
    assert in_words(date(2026, 12, 18)) == "Fri 18 Dec 2026"
