"""The web pages served over HTTP on loopback by `cadence serve`'s ASGI app, with sign-in configured: the
Slack app's and the Teams app's credentials, and a plan whose sides' workspaces and tenants are known."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine

from bot.config import EXAMPLE_PLAN, Settings
from handlers.server import build_asgi
from handlers.web.app import WebSettings
from tests.conftest import serve_in_thread

SLACK_CLIENT, SLACK_SECRET = "1111.2222", "slack-client-secret"
TEAMS_CLIENT, TEAMS_SECRET = "00000000-0000-4000-8000-00000000c1d0", "entra-client-secret"
ACME, CRO, EVIL = "aaaaaaaa-0000-4000-8000-0000000000a1", "cccccccc-0000-4000-8000-0000000000c2", "eeeeeeee-0000-4000-8000-0000000000e3"  # fmt: skip
# Mei is in the plan by e-mail alone, Alice also on Teams; each side's workspace and tenant are the plan's.
PLAN = (
    EXAMPLE_PLAN.read_text()
    .replace("slack: U02MEI,   ", "")
    .replace("slack: U01ALICE, ", "slack: U01ALICE, teams: aad-alice, ")
    + "\norganisations:\n"
    + f"  sponsor: {{slack_teams: [T0SPONSOR], teams_tenants: [{ACME}]}}\n"
    + f"  cro: {{slack_teams: [T0CRO], teams_tenants: [{CRO}]}}\n"
)


def sign_in_settings(provider_url: str, **overrides) -> Settings:
    """Both ways of signing in, pointed at the fake OpenID provider."""
    values = dict(
        slack_client_id=SLACK_CLIENT, slack_client_secret=SLACK_SECRET, slack_api_url=f"{provider_url}/api/",
        slack_oidc_url=f"{provider_url}/", teams_client_id=TEAMS_CLIENT, teams_client_secret=TEAMS_SECRET,
        teams_tenant_id=f"{ACME},{CRO}", microsoft_authority=provider_url, secret_key="a test secret",
    )  # fmt: skip
    return Settings(**{**values, **overrides})


def serve_web(settings: Settings, engine: Engine) -> tuple[str, Callable[[], None]]:
    return serve_in_thread(build_asgi(None, engine, web=WebSettings.from_settings(settings)))
