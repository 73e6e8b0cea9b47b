"""Each person's working calendar: their working hours and days, their country's public holidays, the
plan's own days off and their `/away` periods. Every deadline someone must meet counts their working time,
and every message Cadence starts itself reaches them at a working moment (bot.outbox).

A person's country is their timezone's (tzdata's zone.tab: Europe/Warsaw is PL) unless the plan names
one (`country: US-CA`); public holidays come from the `holidays` library.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as public_holidays
from rapidfuzz import process

from bot.timing import Duration

if TYPE_CHECKING:
    from bot.directory import Contact, StudyView

DEFAULT_HOURS = (time(9, 0), time(18, 0))
WORKING_WEEKDAYS = frozenset(range(5))  # Monday to Friday
DEFAULT_WORKING_HOURS = "09:00-18:00"
_HOURS = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*[-–]\s*([01]?\d|2[0-4]):([0-5]\d)\s*$")
_LONGEST_SEARCH = 800  # days: a calendar with no working day that far ahead is given up on (away for years)


def parse_working_hours(value: object) -> tuple[time, time]:
    """Read `08:30-17:00` (local, start before end); raise ValueError with a plain reason otherwise."""
    match = _HOURS.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not working hours (use a start and an end, e.g. '09:00-18:00')")
    start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
    if end_h == 24 and end_m:
        raise ValueError(f"'{value}': a day ends at 24:00 at the latest")
    starts = time(start_h, start_m)
    ends = time(23, 59, 59, 999999) if end_h == 24 else time(end_h, end_m)
    if ends <= starts:
        raise ValueError(f"'{value}': the end comes before the start (working hours stay within one day)")
    return starts, ends


def hours_text(hours: tuple[time, time]) -> str:
    ends = "24:00" if hours[1] >= time(23, 59, 59) else f"{hours[1]:%H:%M}"
    return f"{hours[0]:%H:%M}-{ends}"


@functools.cache
def _zone_countries() -> dict[str, str]:
    """Each IANA zone's country code, from tzdata's zone.tab; old names (Asia/Calcutta) through its links."""
    folder = importlib.resources.files("tzdata").joinpath("zoneinfo")
    countries: dict[str, str] = {}
    for line in folder.joinpath("zone.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _, zone, *_ = line.split("\t")
            countries[zone] = code
    for line in folder.joinpath("tzdata.zi").read_text(encoding="utf-8").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            if target in countries:
                countries.setdefault(alias, countries[target])
    return countries


@functools.cache
def _country_names() -> dict[str, str]:
    """Country code -> name, from tzdata's iso3166.tab (for "did you mean")."""
    folder = importlib.resources.files("tzdata").joinpath("zoneinfo")
    names: dict[str, str] = {}
    for line in folder.joinpath("iso3166.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _, name = line.partition("\t")
            names[code] = name.strip()
    return names


def country_of_zone(zone: str) -> str | None:
    """The country an IANA zone belongs to (Europe/Warsaw: PL), or None (UTC, Etc/…)."""
    return _zone_countries().get(zone)


def parse_country(value: object, subdivision: object = None) -> tuple[str, str | None]:
    """Read `PL`, `US-CA` (or `US` with subdivision `CA`): a country whose public holidays Cadence knows,
    and one of its subdivisions; raise ValueError saying what was meant otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a country (use a two-letter code such as PL or US-CA)")
    code, _, sub = value.strip().partition("-")
    code = code.upper()
    if subdivision is not None:
        if sub:
            raise ValueError(f"'{value}' already names a subdivision; give it once")
        sub = str(subdivision).strip()
    supported = public_holidays.list_supported_countries()
    if code not in supported:
        raise ValueError(f"unknown country '{value}'{_country_suggestion(value.strip())}")
    if not sub:
        return code, None
    known = {s.upper(): s for s in supported[code]}
    if sub.upper() not in known:
        best = process.extractOne(sub.upper(), list(known), score_cutoff=60)
        listed = f" ({code} has {_listed(known.values())})"
        hint = f" (did you mean '{code}-{known[best[0]]}'?)" if best else listed
        raise ValueError(f"'{sub}' is not a subdivision of {code}{hint}")
    return code, known[sub.upper()]


def _country_suggestion(value: str) -> str:
    supported = public_holidays.list_supported_countries()
    names = {name: code for code, name in _country_names().items() if code in supported}
    best = process.extractOne(value, list(names), score_cutoff=75)
    if best:
        return f" (did you mean '{names[best[0]]}' for {best[0]}?)"
    best = process.extractOne(value.upper(), list(supported), score_cutoff=50)
    if best:
        return f" (did you mean '{best[0]}', {_country_names().get(best[0], best[0])}?)"
    return " (use a two-letter country code such as PL, US or IN)"


def _listed(values: Iterable[str]) -> str:
    shown = sorted(values)
    return ", ".join(shown[:12]) + (", …" if len(shown) > 12 else "")


@functools.lru_cache(maxsize=512)
def _holidays_in(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    try:
        found = public_holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError:  # a country code the installed `holidays` no longer knows
        return {}
    return dict(found.items())


def public_holiday(country: str | None, subdivision: str | None, day: date) -> str | None:
    """The name of the public holiday `day` is in that country, or None."""
    if not country:
        return None
    return _holidays_in(country, subdivision, day.year).get(day)


@dataclass(frozen=True)
class WorkingCalendar:
    """When one person works: `starts`–`ends` local time on weekdays that are neither a public holiday of
    their country, nor one of the plan's days off, nor a day they are away."""

    zone: ZoneInfo
    starts: time = DEFAULT_HOURS[0]
    ends: time = DEFAULT_HOURS[1]
    country: str | None = None
    subdivision: str | None = None
    days_off: frozenset[date] = frozenset()
    away: tuple[tuple[date, date], ...] = ()

    @property
    def hours(self) -> str:
        return hours_text((self.starts, self.ends))

    @property
    def day_length(self) -> timedelta:
        """A business day (`1bd`): one working day's hours."""
        return _utc(date(2001, 1, 1), self.ends, UTC) - _utc(date(2001, 1, 1), self.starts, UTC)

    def day_off(self, day: date) -> str | None:
        """Why `day` is not a working day (its holiday's name, "a weekend", "away"), or None."""
        if day.weekday() not in WORKING_WEEKDAYS:
            return "a weekend"
        if day in self.days_off:
            return "a day off in the plan"
        if any(first <= day <= last for first, last in self.away):
            return "away"
        return public_holiday(self.country, self.subdivision, day)

    def holiday(self, day: date) -> str | None:
        """The public holiday (its name) or the plan's day off `day` is for this person, or None."""
        if day in self.days_off:
            return "a day off in the plan"
        return public_holiday(self.country, self.subdivision, day)

    def working_at(self, moment: datetime) -> bool:
        """Whether `moment` is in this person's working hours."""
        local = moment.astimezone(self.zone)
        return self.starts <= local.time() < self.ends and self.day_off(local.date()) is None

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` itself when the person is at work then, else the start of their next working hours."""
        for start, end in self._working_spans(moment):
            if moment < end:
                return max(moment, start).astimezone(moment.tzinfo)
        return moment  # no working day in sight: better sent than never

    def add_working_time(self, moment: datetime, length: timedelta) -> datetime:
        """The moment `length` of this person's working time after `moment` (it ends at the end of a working
        day rather than at the start of the next)."""
        left = length
        for start, end in self._working_spans(moment):
            start = max(start, moment)
            if start >= end:
                continue
            if end - start >= left:
                return (start + left).astimezone(moment.tzinfo)
            left -= end - start
        return moment + length  # no working time in sight: calendar time

    def add(self, moment: datetime, duration: Duration) -> datetime:
        """`moment` plus a deadline's duration: business days (`1bd`) and hours, minutes and seconds count
        this person's working time; calendar days and weeks (`2d`, `1w`) run on the calendar."""
        if duration.business_days:
            return self.add_working_time(moment, self.day_length * duration.amount)
        if duration.unit in {"d", "w"}:
            return moment + duration.as_timedelta()
        return self.add_working_time(moment, duration.as_timedelta())

    def _working_spans(self, moment: datetime):
        """Each working day's hours from `moment`'s local day on, as UTC pairs."""
        day = moment.astimezone(self.zone).date()
        for offset in range(_LONGEST_SEARCH):
            current = day + timedelta(days=offset)
            if self.day_off(current) is None:
                yield _utc(current, self.starts, self.zone), _utc(current, self.ends, self.zone)


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def from_spec(timezone: str, spec: dict[str, Any] | None) -> WorkingCalendar:
    """A person's calendar from what the plan says of it (`calendar_spec`); defaults for the rest."""
    spec = spec or {}
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    try:
        starts, ends = parse_working_hours(spec.get("working_hours") or DEFAULT_WORKING_HOURS)
    except ValueError:
        starts, ends = DEFAULT_HOURS
    country, subdivision = country_of_zone(zone.key), None
    if spec.get("country"):
        try:
            country, subdivision = parse_country(spec["country"])
        except ValueError:
            pass  # validated when the plan was applied; a later `holidays` release may drop a code
    days_off = frozenset(date.fromisoformat(d) for d in spec.get("holidays") or [])
    return WorkingCalendar(zone, starts, ends, country, subdivision, days_off)


def calendar_spec(person: dict[str, Any], study: dict[str, Any], side: str | None = None) -> dict[str, Any]:
    """What a normalised plan says of one person's calendar: their working hours (else the study's), their
    country (else the study's; None: their timezone's) and the study's days off for everyone and for their
    side."""
    days_off = study.get("holidays") or {}
    dates = sorted(set(days_off.get("all") or []) | set(days_off.get(side or person.get("side") or "") or []))
    return {
        "working_hours": person.get("working_hours") or study.get("working_hours"),
        "country": person.get("country") or study.get("country"),
        "holidays": dates,
    }


def of(study: StudyView, person: Contact) -> WorkingCalendar:
    """The person's calendar in this study, with the `/away` periods they have set."""
    periods = tuple((a.starts_on, a.until) for a in study.away if a.handle == person.handle)
    calendar = person.calendar or from_spec(person.timezone, None)
    return replace(calendar, away=periods) if periods else calendar


def earliest(calendars: Iterable[WorkingCalendar], moment: datetime, duration: Duration) -> datetime | None:
    """The first of these people's deadlines: a level is due when its earliest member's time runs out."""
    return min((calendar.add(moment, duration) for calendar in calendars), default=None)
