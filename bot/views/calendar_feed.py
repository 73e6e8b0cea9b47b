"""Calendar feeds: the address, by direct message, with how to subscribe to it."""

from __future__ import annotations

from typing import Any

from bot import messages as m
from bot.calendar_feed import STUDY, CalendarAddressHeld, CalendarAddressSent
from bot.views import context, message, notice_view, reply, section


def _feed(scope: str, study_key: str) -> str:
    return f"{study_key}'s calendar" if scope == STUDY else f"your {study_key} calendar"


def _command(scope: str) -> str:
    return "/cadence calendar study" if scope == STUDY else "/cadence calendar"


@reply.register
def _(result: CalendarAddressSent) -> m.Message:
    text = m.line(
        ":calendar: The address of {feed} is on its way by direct message{was}.",
        feed=_feed(result.scope, result.study_key),
        was=", and the address you had stops working now" if result.reset else None,
    )
    return message("Your calendar address is on its way", section(text))


@reply.register
def _(result: CalendarAddressHeld) -> m.Message:
    text = m.line(
        ":calendar: The address of {feed} came to you by direct message on {when}: it is there. Lost it? "
        "{reset} makes a new one (and the old one stops working).",
        feed=_feed(result.scope, result.study_key),
        when=f"{result.since:%a %d %b %Y}",
        reset=m.Code(f"{_command(result.scope)} reset"),
    )
    return message("You have a calendar address already", section(text))


@notice_view("calendar_address")
def _(data: dict[str, Any]) -> m.Message:
    feed = _feed(data["scope"], data["study_key"])
    shows = (
        "every meeting, milestone, dated action item and check-in day of the study"
        if data["scope"] == STUDY
        else "your meetings, the milestones, your action items' due dates and your check-in days"
    )
    blocks: list[m.Block] = [
        section(
            m.line(":calendar: *The address of {feed}*", feed=feed),
            m.line("{url}", url=m.Code(data["url"])),
            m.line("It shows {shows}, and moves an event when its date changes.", shows=shows),
        ),
        section(
            m.line(
                "*Outlook:* Add calendar → Subscribe from web (classic Outlook: Add Calendar → From "
                "Internet) → paste the address."
            ),
            m.line("*Google Calendar:* Other calendars + → From URL → paste the address → Add calendar."),
            m.line("Both fetch it again by themselves: Outlook within hours, Google up to a day later."),
        ),
        context(
            m.line(
                "Keep it to yourself: whoever has the address sees the calendar. {reset} makes a new one "
                "and this one stops working.",
                reset=m.Code(f"{_command(data['scope'])} reset"),
            )
        ),
    ]
    return message(m.line("The address of {feed}: {url}", feed=feed, url=data["url"]), *blocks)
