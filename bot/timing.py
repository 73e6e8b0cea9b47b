"""The plan's durations (`30s 30m 4h 2d 1bd 1w`), weekly schedules (`mon 09:00`) and monthly ones
(`first mon 10:00`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.zone_names import describe, meant_zones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {"daily": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(bd|s|m|h|d|w)$")
_MOST = {"s": 366 * 86400, "m": 366 * 1440, "h": 366 * 24, "d": 366, "bd": 262, "w": 53}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: str  # one of s m h d w bd

    @property
    def business_days(self) -> bool:
        return self.unit == "bd"

    def as_timedelta(self) -> timedelta:
        """Calendar length; business days need a calendar and a timezone, so they are refused here."""
        if self.business_days:
            raise ValueError("business days depend on the calendar")
        return timedelta(**{_UNITS[self.unit]: self.amount})

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount}{self.unit}"


def parse_duration(value: object) -> Duration:
    """Read `30s`, `30m`, `4h`, `2d`, `1bd` or `1w`; raise ValueError with a plain reason otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{value!r} is not a duration (use 30s, 30m, 4h, 2d, 1bd or 1w)")
    if isinstance(value, int | float):
        raise ValueError(f"{value!r} has no unit (use 30s, 30m, 4h, 2d, 1bd or 1w)")
    match = _DURATION.match(value.strip().lower())
    if not match:
        raise ValueError(f"'{value}' is not a duration (use 30s, 30m, 4h, 2d, 1bd or 1w)")
    amount, unit = float(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError(f"'{value}' must be longer than zero")
    if amount > _MOST[unit]:
        raise ValueError(f"'{value}' is longer than a year (a plan's durations stay within one)")
    return Duration(amount, unit)


@dataclass(frozen=True)
class Schedule:
    days: tuple[str, ...]
    at: time

    @property
    def day_of_week(self) -> str:
        """The days as APScheduler's cron `day_of_week` field."""
        return ",".join(self.days)

    def __str__(self) -> str:
        return f"{','.join(self.days)} {self.at:%H:%M}"


def parse_schedule(value: object) -> Schedule:
    """Read `mon 09:00`, `mon,thu 15:00`, `mon-fri 09:30`, `weekdays 09:00` or `daily 08:00`."""
    hint = "use a day and a time, e.g. 'mon 09:00'"
    if not isinstance(value, str) or len(value.split()) != 2:
        raise ValueError(f"{value!r} is not a schedule ({hint})")
    day_part, time_part = value.lower().split()
    days = _parse_days(day_part)
    if days is None:
        raise ValueError(f"'{value}': unknown day '{day_part}' (days are {', '.join(DAYS)})")
    match = _TIME.match(time_part)
    if not match:
        raise ValueError(f"'{value}': '{time_part}' is not a time of day (HH:MM, 24-hour)")
    return Schedule(days, time(int(match.group(1)), int(match.group(2))))


ORDINALS = ("first", "second", "third", "fourth", "last")


@dataclass(frozen=True)
class MonthlySchedule:
    """A day of each month, e.g. the first Monday, at a local time."""

    nth: str  # one of ORDINALS
    day: str  # one of DAYS
    at: time

    def day_in(self, year: int, month: int) -> date:
        """This schedule's day in the given month."""
        weekday = DAYS.index(self.day)
        first = date(year, month, 1)
        day = first + timedelta(days=(weekday - first.weekday()) % 7)
        if self.nth != "last":
            return day + timedelta(weeks=ORDINALS.index(self.nth))
        following = date(year + month // 12, month % 12 + 1, 1)
        while day + timedelta(weeks=1) < following:
            day += timedelta(weeks=1)
        return day

    def __str__(self) -> str:
        return f"{self.nth} {self.day} {self.at:%H:%M}"


def parse_monthly(value: object) -> MonthlySchedule:
    """Read `first mon 10:00`, `second tue 09:30` or `last fri 16:00`."""
    hint = "use which day of the month and a time, e.g. 'first mon 10:00'"
    parts = value.lower().split() if isinstance(value, str) else []
    if len(parts) != 3:
        raise ValueError(f"{value!r} is not a monthly schedule ({hint})")
    nth, day, at = parts
    if nth not in ORDINALS:
        raise ValueError(f"'{value}': '{nth}' is not one of {', '.join(ORDINALS)}")
    if day not in DAYS:
        raise ValueError(f"'{value}': unknown day '{day}' (days are {', '.join(DAYS)})")
    match = _TIME.match(at)
    if not match:
        raise ValueError(f"'{value}': '{at}' is not a time of day (HH:MM, 24-hour)")
    return MonthlySchedule(nth, day, time(int(match.group(1)), int(match.group(2))))


def _parse_days(text: str) -> tuple[str, ...] | None:
    if text in _DAY_ALIASES:
        return _DAY_ALIASES[text]
    days: list[str] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            return None
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            return None
        days.extend(d for d in DAYS[start : end + 1] if d not in days)
    return tuple(days)


_ABBREVIATIONS = {
    "EST": "America/New_York", "EDT": "America/New_York", "CST": "America/Chicago",
    "CDT": "America/Chicago", "MST": "America/Denver", "MDT": "America/Denver",
    "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "GMT": "Europe/London",
    "BST": "Europe/London", "WET": "Europe/Lisbon", "CET": "Europe/Paris", "CEST": "Europe/Paris",
    "MET": "Europe/Paris", "EET": "Europe/Athens", "EEST": "Europe/Athens", "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
}  # fmt: skip


_UTC_OFFSET = re.compile(r"^(UTC|GMT|Z)?\s*[+-−]\s*\d", re.IGNORECASE)


def parse_timezone(value: object) -> ZoneInfo:
    """Return the IANA zone named `value`; raise ValueError if there is none."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a timezone (use an IANA name such as Europe/Warsaw)")
    named = value.strip()
    if named.upper() in _ABBREVIATIONS:  # EST, CET: zones without daylight saving's rules
        meant = _ABBREVIATIONS[named.upper()]
        raise ValueError(f"'{value}' is an abbreviation, not a place's timezone (did you mean {meant}?)")
    # Bare legacy names (EST5EDT, Poland, PRC) are valid to zoneinfo but are not how a place is named.
    if "/" in named or named.upper() == "UTC":
        try:
            return ZoneInfo(named)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ValueError(_not_a_zone(named))


def _not_a_zone(named: str) -> str:
    """Why `named` is no IANA name, and the names its writer most likely meant (a city, an offset)."""
    meant = meant_zones(named)
    if _UTC_OFFSET.match(named):
        listed = ", ".join(describe(zone) for zone in meant)
        hint = f"at that offset now: {listed}" if meant else "use an IANA name such as Asia/Kolkata"
        return f"'{named}' is an offset from UTC, not a place's timezone, and misses daylight saving ({hint})"
    listed = " or ".join(meant)
    if meant and "/" not in named:
        return f"'{named}' is a place, not a timezone's name (use {listed})"
    if meant:
        return f"unknown timezone '{named}' (did you mean {listed}?)"
    what = f"unknown timezone '{named}'" if "/" in named else f"'{named}' is not a place's timezone"
    return f"{what} (use an IANA name such as Europe/Warsaw)"


def add_duration(moment: datetime, duration: Duration, zone: ZoneInfo) -> datetime:
    """`moment` plus `duration`; business days skip Saturdays and Sundays as `zone` sees them."""
    if not duration.business_days:
        return moment + duration.as_timedelta()
    # Business time runs on weekdays only: a weekend, or the part of one a duration would reach into,
    # does not count (half a business day from Friday 19:00 ends Monday 07:00, not Saturday).
    local, left = moment.astimezone(zone), timedelta(days=duration.amount)
    while left > timedelta(0):
        if local.weekday() >= 5:
            local = datetime.combine(local.date() + timedelta(days=7 - local.weekday()), time(0), tzinfo=zone)
            continue
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
        step = min(left, midnight - local)
        local, left = local + step, left - step
    return local.astimezone(moment.tzinfo)


def local_moments(
    after: datetime,
    at: time,
    zone: ZoneInfo,
    *,
    days: tuple[str, ...] = DAYS,
    back: int = 1,
    ahead: int = 8,
) -> list[datetime]:
    """Each `at` in `zone` on one of `days`, from `back` days before `after`'s day to `ahead` days after."""
    today = after.astimezone(zone).date()
    dates = (today + timedelta(days=offset) for offset in range(-back, ahead + 1))
    return [datetime.combine(d, at, tzinfo=zone) for d in dates if DAYS[d.weekday()] in days]


def next_local(after: datetime, at: time, zone: ZoneInfo, *, days: tuple[str, ...] = DAYS) -> datetime | None:
    """The first `at` in `zone`, on one of `days`, after `after`."""
    return next((m for m in local_moments(after, at, zone, days=days) if m > after), None)
