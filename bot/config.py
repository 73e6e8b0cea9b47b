"""Settings read from the environment (entry points load `.env` first)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///cadence.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SLACK_OIDC_URL = "https://slack.com/"  # Slack's OpenID issuer: its authorize page and signing keys
EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "plan.yaml"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # An install in each organisation's workspace (Slack's OAuth v2) instead of one bot token.
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)  # encrypts the installations' tokens at rest
    plan_file: str | None = None
    port: int = 3000
    tick_seconds: float = 30.0
    teams_client_id: str | None = None
    teams_client_secret: str | None = field(default=None, repr=False)
    teams_tenant_id: str | None = None
    # Local development only (Agents Playground): accept /api/messages without a Bot Framework token.
    teams_allow_unauthenticated: bool = False
    teams_cloud: str = "Public"
    teams_openid_url: str | None = None  # where the Bot Framework's signing keys are described
    # Where the bot's token may go: Bot Connector URL prefixes replacing the cloud's own (tests, emulators).
    teams_service_urls: tuple[str, ...] = ()
    # Where `cadence serve` is reached from the internet (https://cadence.example.org): the address of the
    # charts Teams fetches (a Teams message cannot carry them inline: it is limited to about 28 KB).
    public_url: str | None = None
    # "Sign in with Slack" and "Sign in with Microsoft" on the web pages: where each OpenID provider is.
    slack_oidc_url: str = DEFAULT_SLACK_OIDC_URL
    microsoft_authority: str | None = None  # Entra's login address; None: TEAMS_CLOUD's own

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from environment variables; empty values count as unset."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=get("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
            secret_key=get("CADENCE_SECRET_KEY"),
            plan_file=get("CADENCE_PLAN"),
            port=int(get("PORT") or 3000),
            tick_seconds=float(get("CADENCE_TICK_SECONDS") or 30),
            teams_client_id=get("TEAMS_CLIENT_ID"),
            teams_client_secret=get("TEAMS_CLIENT_SECRET"),
            teams_tenant_id=get("TEAMS_TENANT_ID"),
            teams_allow_unauthenticated=(get("TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED") or "").lower()
            in {"1", "true", "yes"},
            teams_cloud=get("TEAMS_CLOUD") or "Public",
            teams_openid_url=get("TEAMS_OPENID_METADATA_URL"),
            teams_service_urls=_listed(get("TEAMS_SERVICE_URLS")),
            public_url=(get("CADENCE_PUBLIC_URL") or "").rstrip("/") or None,
            slack_oidc_url=_with_slash(get("SLACK_OIDC_URL") or DEFAULT_SLACK_OIDC_URL),
            microsoft_authority=(get("MICROSOFT_OIDC_AUTHORITY") or "").rstrip("/") or None,
        )

    @property
    def teams_tenants(self) -> tuple[str, ...]:
        """TEAMS_TENANT_ID as a list (lower case): the tenants of every side a plan names none for."""
        return tuple(t.lower() for t in _listed(self.teams_tenant_id))

    @property
    def teams_home_tenant(self) -> str | None:
        """The bot's own tenant (a single-tenant bot's): the first of TEAMS_TENANT_ID."""
        return next(iter(_listed(self.teams_tenant_id)), None)

    @property
    def teams_unsafe(self) -> str | None:
        """Why these Teams settings must not be served, if they must not."""
        if self.teams_allow_unauthenticated and (self.teams_client_id or self.teams_client_secret):
            return (
                "TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED=1 cannot be used with TEAMS_CLIENT_ID or "
                "TEAMS_CLIENT_SECRET: anyone could then make Cadence send its app token where they like. "
                "Unset one or the other."
            )
        return None

    @property
    def slack_oauth(self) -> bool:
        """Installs per workspace through Slack's OAuth, when the app's client id and secret are set."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def slack_sign_in(self) -> bool:
        """ "Sign in with Slack" is offered when the Slack app's client id and secret are set."""
        return self.slack_oauth

    @property
    def microsoft_sign_in(self) -> bool:
        """ "Sign in with Microsoft" (and Teams' tab sign-in) is offered when the Teams app's Entra client id
        and secret and the tenants whose people may sign in (TEAMS_TENANT_ID) are set."""
        return bool(self.teams_client_id and self.teams_client_secret and self.teams_tenants)

    @property
    def slack_http_ready(self) -> bool:
        return bool((self.slack_bot_token or self.slack_oauth) and self.slack_signing_secret)

    @property
    def teams_ready(self) -> bool:
        """Teams is served when its Entra app is configured, or explicitly unauthenticated for local use."""
        return bool(self.teams_client_id and self.teams_client_secret) or self.teams_allow_unauthenticated

    @property
    def slack_socket_ready(self) -> bool:
        return bool(self.slack_app_token and self.slack_bot_token)


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _listed(value: str | None) -> tuple[str, ...]:
    """A comma-separated setting's items, blanks dropped."""
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())
