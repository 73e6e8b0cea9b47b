"""The import direction: handlers/ and schedules/ use bot/; bot/ (but its CLI) imports neither."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from bot.commands import command_names, help_for
from bot.config import Settings

REPO = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("handlers"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_core_imports_no_adapter_scheduler_or_chat_sdk():
    forbidden = {"handlers", "schedules", "slack_bolt", "slack_sdk", "apscheduler", "uvicorn"}
    for path in (REPO / "bot").rglob("*.py"):
        if path.name == "cli.py":
            continue
        bad = {name for name in imports_of(path) if name.split(".")[0] in forbidden}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_adapters_do_not_import_each_other():
    """Each chat draws the core's message model its own way: none borrows another's drawing."""
    adapters = ("slack", "console", "teams", "web")
    for adapter in adapters:
        others = {f"handlers.{o}" for o in adapters if o != adapter}
        for path in (REPO / "handlers" / adapter).rglob("*.py"):
            bad = {name for name in imports_of(path) if any(name.startswith(o) for o in others)}
            assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_the_manifest_declares_every_command_with_escaping():
    manifest = yaml.safe_load((REPO / "manifest.yaml").read_text())
    declared = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(declared) == set(command_names())
    assert all(c["should_escape"] for c in declared.values())
    assert manifest["settings"]["interactivity"]["is_enabled"]
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]


def test_an_install_asks_for_the_manifests_scopes():
    from handlers.slack.app import BOT_SCOPES

    manifest = yaml.safe_load((REPO / "manifest.yaml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)


def test_each_commands_usage_hint_in_the_manifest_names_its_verbs():
    """Slack shows the hint as people type: a verb missing there (`/cadence home`) is a verb unknown."""
    manifest = yaml.safe_load((REPO / "manifest.yaml").read_text())
    hints = {c["command"]: c["usage_hint"] for c in manifest["features"]["slash_commands"]}
    for info in help_for().commands:
        verbs = {
            words[1]
            for part in info.usage
            for usage in part.split("·")
            if len(words := usage.split()) > 1
            and words[0] == info.name
            and re.fullmatch(r"[a-z-]+", words[1])
        } - {"help"}
        missing = {verb for verb in verbs if verb not in hints[info.name]}
        assert not missing, f"{info.name}'s usage_hint lacks {sorted(missing)}"


def test_env_example_lists_every_setting():
    listed = {line.split("=")[0] for line in (REPO / ".env.example").read_text().splitlines() if "=" in line}
    expected = {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "CADENCE_SECRET_KEY",
        "DATABASE_URL",
        "CADENCE_PLAN",
        "PORT",
        "CADENCE_TICK_SECONDS",
        "TEAMS_CLIENT_ID",
        "TEAMS_CLIENT_SECRET",
        "TEAMS_TENANT_ID",
        "TEAMS_CLOUD",
        "TEAMS_OPENID_METADATA_URL",
        "TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED",
        "CADENCE_PUBLIC_URL",
    }
    assert expected <= listed
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-s1",
        "SLACK_SIGNING_SECRET": "sig-s2",
        "SLACK_APP_TOKEN": "xapp-s3",
        "TEAMS_CLIENT_SECRET": "teams-s4",
    }
    settings = Settings.from_env(secrets | {"PORT": "1", "CADENCE_TICK_SECONDS": "2", "CADENCE_PLAN": " "})
    assert settings.port == 1 and settings.tick_seconds == 2 and settings.slack_bot_token == "xoxb-s1"
    assert settings.plan_file is None  # blank counts as unset
    assert Settings.from_env({"CADENCE_PUBLIC_URL": "https://cadence.example.org/"}).public_url == (
        "https://cadence.example.org"
    )
    assert not any(secret in repr(settings) for secret in secrets.values())  # secrets stay out of logs
    signing_in = Settings.from_env(
        {"SLACK_OIDC_URL": "http://127.0.0.1:9", "MICROSOFT_OIDC_AUTHORITY": "http://x/"}
    )
    assert (signing_in.slack_oidc_url, signing_in.microsoft_authority) == ("http://127.0.0.1:9/", "http://x")
    assert (Settings().slack_oidc_url, Settings().microsoft_authority) == ("https://slack.com/", None)


def test_every_notifier_implements_the_whole_port():
    from bot.replies import Notifier
    from bot.routing import RoutingNotifier
    from handlers.console.notifier import ConsoleNotifier
    from handlers.slack.notifier import SlackNotifier
    from handlers.teams.notifier import TeamsNotifier

    port = {name for name in vars(Notifier) if not name.startswith("_") and callable(getattr(Notifier, name))}
    for adapter in (SlackNotifier, ConsoleNotifier, TeamsNotifier, RoutingNotifier):
        assert port <= set(dir(adapter)), f"{adapter.__name__} lacks {port - set(dir(adapter))}"


def test_the_core_speaks_no_chats_vocabulary():
    """People, times and threads travel as Cadence's own: the adapters map them to their chat's."""
    words = ("<@", "mrkdwn", "<!date", "thread_ts", "message_ts", 'startswith("D")')
    for path in (REPO / "bot").rglob("*.py"):
        text = path.read_text()
        assert not [w for w in words if w in text], f"{path.relative_to(REPO)} speaks a chat's vocabulary"


def test_no_adapter_module_is_over_700_lines():
    for path in (REPO / "handlers").rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 700, f"{path.relative_to(REPO)} is over 700 lines"
