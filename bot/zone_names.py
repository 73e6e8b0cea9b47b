"""Timezones as people write them: a city, a country or a UTC offset, turned into the IANA names they mean.

The names come from the tz database itself (tzdata's zone names, zone1970.tab, zonenow.tab and
iso3166.tab); only cities that are not a zone's name are in the small table below.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from rapidfuzz import process

# Cities people name that the tz database names by another city of the same clocks.
CITY_ALIASES = {
    "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata", "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata",
    "chennai": "Asia/Kolkata", "hyderabad": "Asia/Kolkata", "pune": "Asia/Kolkata",
    "calcutta": "Asia/Kolkata", "beijing": "Asia/Shanghai", "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles", "boston": "America/New_York", "washington": "America/New_York",
    "philadelphia": "America/New_York", "miami": "America/New_York", "atlanta": "America/New_York",
    "houston": "America/Chicago", "dallas": "America/Chicago", "frankfurt": "Europe/Berlin",
    "munich": "Europe/Berlin", "krakow": "Europe/Warsaw", "cracow": "Europe/Warsaw",
    "geneva": "Europe/Zurich", "basel": "Europe/Zurich", "cambridge": "Europe/London",
    "oxford": "Europe/London", "manchester": "Europe/London", "edinburgh": "Europe/London",
    "barcelona": "Europe/Madrid", "milan": "Europe/Rome", "montreal": "America/Toronto",
    "tel aviv": "Asia/Jerusalem", "osaka": "Asia/Tokyo",
}  # fmt: skip
_OFFSET = re.compile(r"^(?:UTC|GMT|Z)?\s*([+-−])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
MAX_LISTED = 4


def meant_zones(written: str, *, now: datetime | None = None) -> list[str]:
    """The IANA names someone who wrote `written` for a timezone most likely means; empty when unsure."""
    text = " ".join(written.strip().split())
    if match := _OFFSET.match(text):
        return zones_at_offset(_offset(match), now=now or datetime.now(UTC))
    if "/" in text:  # a zone's name with a wrong region or a typo: Asia/Bangalore, Europe/Warsw
        exact = _by_folded_name().get(text.casefold().replace(" ", "_"))
        if exact:
            return [exact]
        city = text.rsplit("/", 1)[-1]
        return _by_place(city) or _close_names(text)
    return _by_place(text)


def zones_at_offset(offset: timedelta, *, now: datetime) -> list[str]:
    """The tz database's zones whose clocks are `offset` from UTC at `now` (one for each set of clocks)."""
    return [zone for zone, _ in _zones_now() if ZoneInfo(zone).utcoffset(now) == offset][:MAX_LISTED]


def describe(zone: str) -> str:
    """`Asia/Kolkata [India (IST)]`: a zone with where it is, where the tz database says so."""
    where = dict(_zones_now()).get(zone)
    return f"{zone} [{where}]" if where else zone


def _offset(match: re.Match) -> timedelta:
    sign = -1 if match.group(1) in "-−" else 1
    return sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))


def _by_place(place: str) -> list[str]:
    key = _plain(place).replace("_", " ").replace("-", " ")
    if key in CITY_ALIASES:
        return [CITY_ALIASES[key]]
    if key in _cities():
        return [_cities()[key]]
    # A country of several zones: the ones that stand for a set of clocks first (New York before Detroit).
    representative = {zone for zone, _ in _zones_now()}
    return sorted(_countries().get(key, []), key=lambda zone: zone not in representative)[:MAX_LISTED]


def _plain(text: str) -> str:
    """`São Paulo` → `sao paulo`: tz names are ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _close_names(text: str) -> list[str]:
    best = process.extractOne(text, sorted(_canonical()), score_cutoff=85)
    return [best[0]] if best else []


def _table(name: str) -> list[list[str]]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def _canonical() -> tuple[str, ...]:
    return tuple(row[2] for row in _table("zone1970.tab"))


@cache
def _by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


@cache
def _cities() -> dict[str, str]:
    """`new york` → America/New_York: each zone's city; canonical zones win over old names (Calcutta)."""
    cities: dict[str, str] = {}
    for name in sorted(available_timezones(), key=lambda n: n in _canonical()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            cities[name.rsplit("/", 1)[-1].replace("_", " ").casefold()] = name
    return cities


@cache
def _countries() -> dict[str, list[str]]:
    """`poland` → [Europe/Warsaw]: a country's zones, from iso3166.tab and zone.tab."""
    codes = {row[0]: row[1].casefold() for row in _table("iso3166.tab")}
    zones: dict[str, list[str]] = {}
    for row in _table("zone.tab"):
        zones.setdefault(codes.get(row[0], row[0].casefold()), []).append(row[2])
    return zones


@cache
def _zones_now() -> tuple[tuple[str, str], ...]:
    """One zone for each set of clocks that agree from now on, with where it is (zonenow.tab)."""
    return tuple((row[2], row[3] if len(row) > 3 else "") for row in _table("zonenow.tab"))
