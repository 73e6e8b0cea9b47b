"""Words every adapter uses the same way, so Slack and the console read alike."""

from __future__ import annotations

from bot.directory import Contact

_SIDES = {"sponsor": "Sponsor", "cro": "CRO"}


def side_label(side: str) -> str:
    return _SIDES.get(side, side)


def duration_label(minutes: float) -> str:
    """One rule for every span of time shown: minutes under 2 hours, hours under 2 days, then days
    ("45 min", "4.6 h", "2.4 d"), so two figures side by side read in units a person compares."""
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 2 * 24 * 60:
        return f"{minutes / 60:.1f}".removesuffix(".0") + " h"
    return f"{minutes / (24 * 60):.1f}".removesuffix(".0") + " d"


def describe_role(contact: Contact) -> str:
    """'Drug Safety Lead · CRO'."""
    return " · ".join(part for part in (contact.role, side_label(contact.side)) if part)


def describe_preference(contact: Contact) -> str:
    """How the person likes to be reached, in a few words."""
    match contact.prefers:
        case "email" if contact.email:
            return f"prefers e-mail: {contact.email}"
        case "email":
            return "prefers e-mail"
        case "dm":
            return "prefers a direct message"
        case "channel":
            return "prefers the study channel"
        case "teams":
            return "prefers Microsoft Teams"
    if contact.slack_id:
        return "reach on Slack"
    return f"reach by e-mail: {contact.email}" if contact.email else "no contact given"


def describe_match(query: str, matched: str, topic: str, exact: bool) -> str:
    """Why this topic answers the query."""
    if matched.casefold() == topic.casefold():
        return f"matched the topic “{topic}”" if exact else f"closest to “{query}”: the topic “{topic}”"
    if exact:
        return f"matched the keyword “{matched}”"
    return f"closest to “{query}”: the keyword “{matched}”"
