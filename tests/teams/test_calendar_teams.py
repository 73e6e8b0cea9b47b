"""`cadence calendar` typed in Teams: the address comes in the personal chat, and the feed it names is
served by the same `cadence serve`."""

from __future__ import annotations

import re
import urllib.request

import icalendar

from tests.teams.conftest import ALICE


def test_the_calendar_address_comes_in_the_teams_chat_and_opens_the_feed(teams):
    teams.say(ALICE, "cadence calendar")
    assert "is on its way by direct message" in teams.answer(ALICE).text
    teams.deliver()
    [dm] = [s.text for s in teams.dms(ALICE) if "/calendar/" in s.text]
    assert "Outlook" in dm and "Google Calendar" in dm
    [address] = re.findall(r"http://127\.0\.0\.1:\d+/calendar/[A-Za-z0-9_-]{43}\.ics", dm)
    with urllib.request.urlopen(address, timeout=10) as response:
        feed = icalendar.Calendar.from_ical(response.read())
    assert any(str(e["UID"]).startswith("milestone-") for e in feed.walk("VEVENT"))
