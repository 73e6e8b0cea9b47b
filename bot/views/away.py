"""/away: who is away until when, and who covers."""

from __future__ import annotations

from bot import messages as m
from bot.away import AwayEnded, AwaySet, AwayShown
from bot.dates import in_words
from bot.views import context, message, person, reply, section


@reply.register
def _(result: AwaySet) -> m.Message:
    cover = (
        m.line(" {p} covers for you.", p=person(result.cover))
        if result.cover
        else m.line(" Your topics' backups cover for you.")
    )
    text = m.line(":palm_tree: You are away until {until}.{cover}", until=in_words(result.until), cover=cover)
    note = m.line(
        "/who-owns points people to your cover, and check-ins skip you. /away off when you are back."
    )
    return message(f"You are away until {in_words(result.until)}", section(text), context(note))


@reply.register
def _(result: AwayEnded) -> m.Message:
    text = "Welcome back: you are no longer away." if result.was_away else "You were not marked away."
    return message(text, section(m.line("{text}", text=text)))


@reply.register
def _(result: AwayShown) -> m.Message:
    if result.away is None:
        text = "You are not marked away. /away until <YYYY-MM-DD> [backup @person] when you will be."
        return message(text, section(m.line("{text}", text=text)))
    cover = m.line(", covered by {p}", p=person(result.cover)) if result.cover else None
    text = m.line("You are away until {until}{cover}.", until=in_words(result.away.until), cover=cover)
    return message(f"You are away until {in_words(result.away.until)}", section(text))
