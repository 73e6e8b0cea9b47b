"""Where the bot's app token may go: the Bot Connector of the configured cloud, and nowhere else.

Every reply and proactive message is sent to the service URL an activity named, with the bot's app
token. An activity without a valid Bot Framework token (development mode) may name any URL, so a URL
outside the cloud's Bot Connector hosts, as Microsoft documents them for proactive messages, is never
stored nor called. TEAMS_SERVICE_URLS replaces the list (an emulator, a test's fake Bot Connector).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.config import Settings

# https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages
CLOUD_SERVICE_URLS: dict[str, tuple[str, ...]] = {
    "public": ("https://smba.trafficmanager.net/", "https://smba.infra.gcc.teams.microsoft.com/"),
    "usgov": ("https://smba.infra.gov.teams.microsoft.us/",),  # GCC High
    "usgovdod": ("https://smba.infra.dod.teams.microsoft.us/",),
    "china": (),  # 21Vianet publishes no fixed host: set TEAMS_SERVICE_URLS
}
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class ServiceUrls:
    """An allow-list of Bot Connector URL prefixes (scheme, host, port and leading path)."""

    def __init__(self, prefixes: tuple[str, ...], *, loopback: bool = False):
        self.prefixes = tuple(urlsplit(p) for p in prefixes)
        self.loopback = loopback  # development mode: the Agents Playground on this machine

    def allows(self, url: object) -> bool:
        if not isinstance(url, str) or not url:
            return False
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError:
            return False
        if parts.scheme not in {"https", "http"} or "@" in parts.netloc or not hostname:
            return False
        if self.loopback and hostname in _LOOPBACK:
            return True
        netloc = parts.netloc.lower()
        return any(
            parts.scheme == p.scheme and netloc == p.netloc.lower() and _under(parts.path, p.path)
            for p in self.prefixes
        )


def _under(path: str, base: str) -> bool:
    base = base.rstrip("/")
    return not base or path == base or path.startswith(base + "/")


def for_settings(settings: Settings) -> ServiceUrls:
    """TEAMS_SERVICE_URLS when set, else the cloud's; loopback too in development mode, where the bot has
    no credentials (`cadence serve` refuses development mode with them)."""
    prefixes = settings.teams_service_urls or CLOUD_SERVICE_URLS.get(settings.teams_cloud.lower(), ())
    development = settings.teams_allow_unauthenticated and not settings.teams_service_urls
    return ServiceUrls(prefixes, loopback=development)
