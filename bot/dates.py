"""The one reader of dates people type, for every command: in the typist's own day, a month and a day
meaning the next such day to come, and every answer saying back the date it understood in words.

2026-12-18, Dec 18, 18 December, December 18th 2026, 12/18 (month first where the study is in the
Americas), today, tomorrow, Friday (the next one, today included), next Friday (the Friday of next
week), in 2 weeks, end of week (EOW), end of month (EOM). Meeting notes may say more ("a fortnight from
now"): the whole phrase then goes to dateparser, which only whole phrases reach.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

import dateparser

_WEEKDAYS = {name.casefold(): i for i, name in enumerate(calendar.day_name)} | {
    name.casefold(): i for i, name in enumerate(calendar.day_abbr)
}
_MONTHS = (
    {name.casefold(): i for i, name in enumerate(calendar.month_name) if name}
    | {name.casefold(): i for i, name in enumerate(calendar.month_abbr) if name}
    | {"sept": 9}
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"(?P<month>[a-z]+)\.?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_MONTH_DAY = re.compile(rf"{_MONTH}\s+{_DAY}{_YEAR}")
_DAY_MONTH = re.compile(rf"{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}")
_NUMERIC = re.compile(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<year>\d{4}))?")
_IN = re.compile(r"in\s+(?P<n>\d{1,3}|a|one|two|three|four)\s+(?P<unit>day|week|month)s?")
_COUNTS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}
MOST_WORDS = 4  # the longest date a command reads before the words that follow it ("Dec 18th, 2026")


def in_words(day: date) -> str:
    """A date as every answer says it back: Fri 18 Dec 2026."""
    return f"{day:%a %d %b %Y}"


def read_date(phrase: str, today: date, *, month_first: bool = False, loose: bool = False) -> date | None:
    """The date `phrase` names, seen from `today` (the typist's own), or None. `loose` lets dateparser
    try what the grammar above does not know (meeting notes)."""
    words = " ".join(phrase.casefold().replace("the ", "").split()).strip(" .,")
    words = re.sub(r"^(?:this|coming|on|by|until)\s+", "", words)
    found = _exact(words, today, month_first)
    if found is not None or not loose:
        return found
    return _dateparser(words, today, month_first)


def read_leading_date(
    words: list[str], today: date, *, month_first: bool = False
) -> tuple[date, list[str]] | None:
    """The date the first words name, the longest reading first, and the words after it: for commands
    whose date is followed by more (`/actions move A3 Dec 18 IRB delay`)."""
    for take in range(min(MOST_WORDS, len(words)), 0, -1):
        found = read_date(" ".join(words[:take]), today, month_first=month_first)
        if found is not None:
            return found, words[take:]
    return None


def _exact(words: str, today: date, month_first: bool) -> date | None:
    try:
        return date.fromisoformat(words)
    except ValueError:
        pass
    named = _named_day(words, today)
    if named is not None:
        return named
    if found := (_MONTH_DAY.fullmatch(words) or _DAY_MONTH.fullmatch(words)):
        month = _MONTHS.get(found["month"])
        return _next_such_day(today, month, int(found["day"]), found["year"]) if month else None
    if found := _NUMERIC.fullmatch(words):
        a, b = int(found["a"]), int(found["b"])
        month, day = (a, b) if month_first else (b, a)
        return _next_such_day(today, month, day, found["year"])
    if found := _IN.fullmatch(words):
        n = _COUNTS.get(found["n"]) or int(found["n"])
        if found["unit"] == "month":
            return _months_later(today, n)
        return today + timedelta(days=n * (7 if found["unit"] == "week" else 1))
    return None


def _named_day(words: str, today: date) -> date | None:
    if words in {"today", "eod", "end of day", "cob", "close of business"}:
        return today
    if words == "tomorrow":
        return today + timedelta(days=1)
    if words in {"eow", "end of week", "end of this week", "week's end"}:
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if words == "end of next week":
        return today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    if words in {"eom", "end of month", "end of this month", "month end"}:
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if words in _WEEKDAYS:  # "Friday": the next one, today included
        return today + timedelta(days=(_WEEKDAYS[words] - today.weekday()) % 7)
    following = re.fullmatch(r"next (\w+)", words)
    if following and following.group(1) in _WEEKDAYS:  # "next Friday": the Friday of next week
        return today + timedelta(days=7 - today.weekday() + _WEEKDAYS[following.group(1)])
    if words == "next week":
        return today + timedelta(days=7 - today.weekday())
    return None


def _next_such_day(today: date, month: int, day: int, year: str | None) -> date | None:
    """Day and month in the given year, or else the next time they come (today included)."""
    try:
        if year:
            return date(int(year), month, day)
        this_year = date(today.year, month, day)
        return this_year if this_year >= today else date(today.year + 1, month, day)
    except ValueError:
        return None  # 31 April, 13/13


def _months_later(today: date, months: int) -> date:
    month = today.month - 1 + months
    year, month = today.year + month // 12, month % 12 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def _dateparser(words: str, today: date, month_first: bool) -> date | None:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
        "DATE_ORDER": "YMD" if re.match(r"\d{4}-", words) else ("MDY" if month_first else "DMY"),
    }
    parsed = dateparser.parse(words, languages=["en"], settings=settings)
    if parsed is None:
        return None
    day = parsed.date()
    if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", words) and day < today:  # "the 15th": next month's
        month = today.month % 12 + 1
        day = day.replace(year=today.year + (month == 1), month=month)
    return day
