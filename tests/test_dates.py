"""One reader of dates for every command, in the typist's day: a month and a day is the next such day."""

from __future__ import annotations

from datetime import date

import pytest

from bot.dates import (
    ambiguous,
    country_of,
    in_words,
    read_date,
    read_leading_date,
    read_trailing_date,
    writes_month_first,
)

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


THURSDAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    "words, day",
    [
        ("15.12.", date(2026, 12, 15)),  # dots: day first, wherever the typist is
        ("15.12", date(2026, 12, 15)),
        ("by 15.12.", date(2026, 12, 15)),
        ("3.1.", date(2027, 1, 3)),  # passed this year: next year's
        ("15.12.2026", date(2026, 12, 15)),
        ("15.12.26", date(2026, 12, 15)),
        ("2026/12/15", date(2026, 12, 15)),  # year first: month, then day
        ("15/12", date(2026, 12, 15)),  # 15 cannot be a month
        ("12/15", date(2026, 12, 15)),
        ("Fri 18 Dec", date(2026, 12, 18)),
        ("Thu 18 Dec", None),  # 18 Dec is a Friday: not read rather than one of the two guessed
        ("EOW", date(2026, 12, 4)),
        ("end of next week", date(2026, 12, 11)),
        ("EOM", date(2026, 12, 31)),
        ("end of next month", date(2027, 1, 31)),
        ("end of January", date(2027, 1, 31)),
        ("in 3 days", date(2026, 12, 6)),
        ("within 2 weeks", date(2026, 12, 17)),
        ("3 days from now", date(2026, 12, 6)),
        ("31.4.", None),
        ("13.13.", None),
    ],
)
def test_european_and_named_dates_read_the_same_for_everyone(words, day):
    assert read_date(words, THURSDAY) == day
    assert read_date(words, THURSDAY, month_first=True) == day


def test_an_ambiguous_date_is_read_by_the_typists_region_and_known_as_a_guess():
    assert read_date("03/01", THURSDAY) == date(2027, 1, 3)  # Warsaw, Delhi, London: day first
    assert read_date("03/01", THURSDAY, month_first=True) == date(2027, 3, 1)  # New York: month first
    assert (
        ambiguous("03/01") and not ambiguous("15/12") and not ambiguous("15.12.") and not ambiguous("05/05")
    )


def test_the_region_is_the_timezones_country():
    assert country_of("Europe/Warsaw") == "PL" and country_of("Asia/Kolkata") == "IN"
    assert writes_month_first("America/New_York") and writes_month_first("Pacific/Honolulu")
    assert not writes_month_first("America/Sao_Paulo")  # the Americas are not all month first
    assert not writes_month_first("Europe/Warsaw") and not writes_month_first("UTC")


@pytest.mark.parametrize("words", ["15.12", "10:30", "12.15", "Thu 18 Dec", "soon-ish", "whenever"])
def test_notes_never_read_words_they_do_not_understand_as_today(words):
    assert read_date(words, THURSDAY, loose=True) != THURSDAY
    assert read_date(words, THURSDAY, loose=True) in {None, date(2026, 12, 15)}


def test_notes_may_say_more_than_commands():
    assert read_date("a fortnight from now", THURSDAY, loose=True) == date(2026, 12, 17)
    assert read_date("a fortnight from now", THURSDAY) is None


def test_a_date_ending_words_is_found_without_a_by():
    assert read_trailing_date("confirm batch numbers EOW".split(), THURSDAY) == (
        ["confirm", "batch", "numbers"],
        date(2026, 12, 4),
    )
    assert read_trailing_date("review the draft in 3 days".split(), THURSDAY)[1] == date(2026, 12, 6)
    assert read_trailing_date("review section 5".split(), THURSDAY) is None
