"""User-facing errors: each carries a friendly message that adapters show as they are."""

from __future__ import annotations


class CadenceError(Exception):
    """A problem the user can act on; `message` is plain text, `hint` says what to do next."""

    def __init__(self, message: str, hint: str | None = None, channels: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        # Study key -> channel id, for adapters to link ("ACME-201: #acme-201") in their own format.
        self.channels = channels or {}


class NotConnected(CadenceError):
    """The command came from a channel that belongs to no study."""


class NotInStudy(CadenceError):
    """The person is not in the study's plan (or in no plan at all)."""


class NotAnAdmin(CadenceError):
    """Only the plan's admins may do this."""


class UnknownTopic(CadenceError):
    """No responsibility matches well enough to act on."""


class UnknownPerson(CadenceError):
    """A handle or mention that names nobody in the study."""


class BadCommand(CadenceError):
    """The command's words do not fit its usage."""


class DatabaseBusy(CadenceError):
    """The database could not be had in time (held by another, or out): the request did nothing."""

    def __init__(self) -> None:
        super().__init__("Cadence is busy, nothing was done — try again in a moment.")


class WebNotServed(CadenceError):
    """The web pages have no public address here (CADENCE_PUBLIC_URL is not set)."""

    def __init__(self) -> None:
        super().__init__(
            "Cadence's web pages are not switched on here: they need CADENCE_PUBLIC_URL set.",
            hint="Ask whoever runs Cadence to set CADENCE_PUBLIC_URL to the address where `cadence serve` "
            "is reached (https://…) and restart it.",
        )
