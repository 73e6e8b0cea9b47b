"""The one reader of dates people type, for every command and every line of meeting notes: in the typist's
own day and their own convention, a month and a day meaning the next such day to come, and every answer
saying back the date it understood in words.

2026-12-18, 2026/12/18, Dec 18, 18 December, Fri 18 Dec, December 18th 2026; 15.12., 15.12, 3.1.,
15.12.2026 (dots: always day first, as in Europe); 15/12 and 12/15 (whichever part cannot be a month
is the day); 03/01 (ambiguous: month first where the typist's timezone is in the United States, else
day first, and `ambiguous()` says so, so that the answer can point at its guess); today, tomorrow,
Friday (the next one, today included), next Friday (the Friday of next week), in 2 weeks, within 3
days, EOD, EOW, end of next week, EOM, end of next month, end of January. Meeting notes may say more
("a fortnight from now"): the whole phrase then goes to dateparser, which only whole phrases reach and
which may never answer "today" for words that do not say so (it reads "15.12" as a time of day).
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

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
_DAY_MONTH = re.compile(rf"{_DAY}\.?\s+(?:of\s+)?{_MONTH}{_YEAR}")
_YEAR_FIRST = re.compile(r"(?P<year>\d{4})[./](?P<month>\d{1,2})[./](?P<day>\d{1,2})")  # 2026/12/18
_DOTTED = re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})(?:\.(?P<year>\d{4}|\d{2}))?")
_SLASHED = re.compile(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?")
_IN = re.compile(
    r"(?:in|within)\s+(?P<n>\d{1,3}|a|an|one|two|three|four|five|six)\s+(?P<unit>day|week|month)s?"
    r"|(?P<n2>\d{1,3}|a|an|one|two|three|four|five|six)\s+(?P<unit2>day|week|month)s?\s+from\s+(?:now|today)"
)
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_TODAY_WORDS = {"today", "eod", "end of day", "end of today", "cob", "close of business", "tonight"}
MOST_WORDS = 4  # the longest date a command reads before the words that follow it ("Dec 18th, 2026")
# Where people write the month first (12/18): the United States and the places that follow its usage.
MONTH_FIRST_COUNTRIES = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM"})


def in_words(day: date) -> str:
    """A date as every answer says it back: Fri 18 Dec 2026."""
    return f"{day:%a %d %b %Y}"


def read_date(phrase: str, today: date, *, month_first: bool = False, loose: bool = False) -> date | None:
    """The date `phrase` names, seen from `today` (the typist's own), or None. `loose` lets dateparser
    try what the grammar above does not know (meeting notes)."""
    words = _words(phrase)
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


def read_trailing_date(
    words: list[str], today: date, *, month_first: bool = False
) -> tuple[list[str], date] | None:
    """The words before a date that ends them, and that date, the longest reading first: for notes
    that name a date without a "by" (`confirm batch numbers EOW`, `review the draft in 3 days`)."""
    for take in range(min(MOST_WORDS, len(words) - 1), 0, -1):
        found = read_date(" ".join(words[-take:]), today, month_first=month_first)
        if found is not None:
            return words[:-take], found
    return None


def ambiguous(phrase: str) -> bool:
    """Whether `phrase` is a date such as 03/01 whose order only the typist's region decides."""
    found = _SLASHED.fullmatch(_words(phrase))
    return bool(found) and int(found["a"]) <= 12 and int(found["b"]) <= 12 and found["a"] != found["b"]


def order_words(month_first: bool) -> str:
    """How an ambiguous date was read, to say beside it."""
    return "month first" if month_first else "day first"


def writes_month_first(timezone: str | None) -> bool:
    """Whether people in `timezone`'s country write the month first (12/18): the United States."""
    return country_of(timezone) in MONTH_FIRST_COUNTRIES


def country_of(timezone: str | None) -> str | None:
    """The ISO country code of an IANA timezone (the IANA's own zone.tab), or None (UTC, unknown)."""
    return _zone_countries().get(timezone or "")


@functools.cache
def _zone_countries() -> dict[str, str]:
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    except (ModuleNotFoundError, FileNotFoundError):  # the OS's own copy, where tzdata is not installed
        path = Path("/usr/share/zoneinfo/zone.tab")
        text = path.read_text() if path.exists() else ""
    countries = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            countries[fields[2]] = fields[0]
    return countries


def _words(phrase: str) -> str:
    words = " ".join(phrase.casefold().replace("the ", "").split()).strip(" .,;:!")
    return re.sub(r"^(?:this|coming|on|by|until|till|before|due)\s+", "", words)


def _exact(words: str, today: date, month_first: bool) -> date | None:
    try:
        return date.fromisoformat(words)
    except ValueError:
        pass
    named = _named_day(words, today)
    if named is not None:
        return named
    weekday = re.fullmatch(r"(?P<name>[a-z]+),?\s+(?P<rest>.*\d.*)", words)
    if weekday and weekday["name"] in _WEEKDAYS:  # "Fri 18 Dec": the date, if it is that weekday
        day = _exact(weekday["rest"], today, month_first)
        return day if day is not None and day.weekday() == _WEEKDAYS[weekday["name"]] else None
    if found := (_MONTH_DAY.fullmatch(words) or _DAY_MONTH.fullmatch(words)):
        month = _MONTHS.get(found["month"])
        return _next_such_day(today, month, int(found["day"]), found["year"]) if month else None
    if found := (_YEAR_FIRST.fullmatch(words) or _DOTTED.fullmatch(words)):
        return _next_such_day(today, int(found["month"]), int(found["day"]), found["year"])
    if found := _SLASHED.fullmatch(words):
        a, b = int(found["a"]), int(found["b"])
        if a > 12 or (b <= 12 and not month_first):
            month, day = b, a
        else:
            month, day = a, b
        return _next_such_day(today, month, day, found["year"])
    if found := _IN.fullmatch(words):
        count, unit = found["n"] or found["n2"], found["unit"] or found["unit2"]
        n = _COUNTS.get(count) or int(count)
        if unit == "month":
            return _months_later(today, n)
        return today + timedelta(days=n * (7 if unit == "week" else 1))
    return None


def _named_day(words: str, today: date) -> date | None:
    if words in _TODAY_WORDS:
        return today
    if words == "tomorrow":
        return today + timedelta(days=1)
    if words in {"eow", "end of week", "end of this week", "week's end", "end of week (eow)"}:
        return today + timedelta(days=(4 - today.weekday()) % 7)
    if words in {"end of next week", "eonw"}:
        return today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    if words in {"eom", "end of month", "end of this month", "month end"}:
        return _month_end(today.year, today.month)
    if words in {"end of next month", "next month end"}:
        following = _months_later(today.replace(day=1), 1)
        return _month_end(following.year, following.month)
    month_end = re.fullmatch(r"end of (\w+)\.?", words)
    if month_end and month_end.group(1) in _MONTHS:  # "end of January": its last day, still to come
        month = _MONTHS[month_end.group(1)]
        year = today.year if month >= today.month else today.year + 1
        return _month_end(year, month)
    if words in _WEEKDAYS:  # "Friday": the next one, today included
        return today + timedelta(days=(_WEEKDAYS[words] - today.weekday()) % 7)
    following = re.fullmatch(r"next (\w+)", words)
    if following and following.group(1) in _WEEKDAYS:  # "next Friday": the Friday of next week
        return today + timedelta(days=7 - today.weekday() + _WEEKDAYS[following.group(1)])
    if words == "next week":
        return today + timedelta(days=7 - today.weekday())
    return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_such_day(today: date, month: int, day: int, year: str | None) -> date | None:
    """Day and month in the given year, or else the next time they come (today included)."""
    try:
        if year:
            return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
        this_year = date(today.year, month, day)
        return this_year if this_year >= today else date(today.year + 1, month, day)
    except ValueError:
        return None  # 31 April, 13/13


def _months_later(today: date, months: int) -> date:
    month = today.month - 1 + months
    year, month = today.year + month // 12, month % 12 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def _dateparser(words: str, today: date, month_first: bool) -> date | None:
    if re.search(r"\d[.:/]\d", words) or words.split(" ")[0].strip(",") in _WEEKDAYS:
        return None  # numbers the grammar did not read (a time, 31.4.), a weekday that is not the date's
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
        "DATE_ORDER": "YMD" if re.match(r"\d{4}-", words) else ("MDY" if month_first else "DMY"),
    }
    parsed = dateparser.parse(words, languages=["en"], settings=settings)
    if parsed is None:
        return None
    day = parsed.date()
    if day == today and words not in _TODAY_WORDS:  # dateparser's "today" for words it half read
        return None
    if re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", words) and day < today:  # "the 15th": next month's
        month = today.month % 12 + 1
        day = day.replace(year=today.year + (month == 1), month=month)
    return day
