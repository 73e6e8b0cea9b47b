"""The real Teams app (the Teams SDK's App with Cadence's handlers) served over HTTP on loopback, its
Bot Framework tokens checked against the fake's signing key, its replies landing on the fake Bot
Connector; and the example study moved to Teams: its channel a Teams channel, its people Entra ids."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import ManualClock, process_clock
from bot.config import EXAMPLE_PLAN, Settings
from bot.db import run_in_session
from bot.outbox import DeliveryWorker
from bot.plan import load_plan
from bot.routing import RoutingNotifier
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.teams.app import build_teams_app, teams_notifier
from tests.conftest import STUDY_APPLIED, loopback_socket, serve_in_thread
from tests.fake_teams import BOT_ID, TENANT, FakeTeams, account

# A Monday, 10:00 in New York and 09:00 in Chicago: everyone at work (it was 14:00 UTC, 08:00 for Ben in
# Chicago, before working calendars held his messages until his 09:00).
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CHANNEL = "19:acme201-study@thread.tacv2"
_ids = itertools.count(1)


@dataclass(frozen=True)
class User:
    handle: str
    aad_id: str
    name: str
    email: str

    @property
    def user_id(self) -> str:
        return f"29:{self.aad_id}"

    @property
    def chat(self) -> str:
        """Their personal chat with Cadence (the id the fake gives a chat it opens with them)."""
        return f"a:chat-{self.user_id}"


def _user(handle: str, name: str, email: str) -> User:
    return User(handle, f"aad-{handle}", name, email)


ALICE = _user("alice", "Alice Chen", "alice@acme.example")
BEN = _user("ben", "Ben Okafor", "ben@acme.example")
RAJ = _user("raj", "Raj Patel", "raj@cro.example")
MEI = _user("mei", "Mei Lin", "mei@cro.example")  # in the plan by e-mail only
TOM = _user("tom", "Tom Becker", "tom@cro.example")
SOFIA = _user("sofia", "Sofia Novak", "sofia@cro.example")
STRANGER = User("eve", "aad-eve", "Eve Stranger", "eve@elsewhere.example")
EVERYONE = [ALICE, BEN, RAJ, MEI, TOM, SOFIA, _user("carla", "Carla Rossi", "carla@acme.example"),
            _user("dev", "Dev Sharma", "dev@acme.example"), _user("omar", "Omar Haddad", "omar@cro.example")]  # fmt: skip


def teams_plan_text(keep_on_slack: tuple[str, ...] = ()) -> str:
    """The example plan on Teams: a Teams channel, and each person's Slack id swapped for an Entra id
    (Mei by e-mail alone); people in `keep_on_slack` stay on Slack."""
    text = EXAMPLE_PLAN.read_text().replace("channel: C0STUDY", f'channel: "{CHANNEL}"')

    def swap(match: re.Match) -> str:
        handle = match.group(1)
        if handle in keep_on_slack:
            return match.group(0)
        if handle == "mei":
            return f"  {handle}:{match.group(2)}"
        return f"  {handle}:{match.group(2)}teams: aad-{handle},"

    return re.sub(r"^  (\w+):(\s+\{name: [^,]+,[^}]*?)slack: U0\w+,", lambda m: swap(m), text, flags=re.M)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def fake_teams() -> Iterator[FakeTeams]:
    fake = FakeTeams().start()
    fake.members[CHANNEL] = [account(u.aad_id, u.name, u.email) for u in EVERYONE]
    yield fake
    fake.stop()


@pytest.fixture
def teams_settings(database_url: str, fake_teams: FakeTeams) -> Settings:
    return Settings(
        database_url=database_url,
        teams_client_id=BOT_ID,
        teams_openid_url=fake_teams.openid_url,
        teams_service_urls=(fake_teams.url,),  # the fake Bot Connector stands for Microsoft's
    )


@pytest.fixture
def teams_study(engine):
    plan = load_plan(teams_plan_text())
    with process_clock(ManualClock(STUDY_APPLIED)):  # set up before the moments the tests pick
        run_in_session(engine, apply_plan, plan=plan, actor="test")
    return plan


@dataclass
class TeamsBot:
    """Cadence in Teams as the tests reach it: activities in over HTTP, deliveries out through the outbox."""

    url: str
    fake: FakeTeams
    engine: Any
    clock: ManualClock
    worker: DeliveryWorker

    def post(self, activity: dict[str, Any], token: str | None = "valid") -> int:
        headers = {"Content-Type": "application/json"}
        if token == "valid":
            token = self.fake.activity_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            f"{self.url}/api/messages", data=json.dumps(activity).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def say(self, user: User, text: str, *, channel: bool = False, value: dict | None = None) -> int:
        """`user` writes to Cadence: in their personal chat, or @-mentioning it in the study channel."""
        self.post(message(self.fake, user, text, channel=channel, value=value))
        return len(self.fake.sent)

    def answer(self, user: User, *, channel: bool = False):
        """The last thing Cadence said in that conversation."""
        return self.fake.last_to(CHANNEL if channel else user.chat)

    def press(self, user: User, button: dict[str, Any], *, channel: bool = False, **inputs: Any) -> int:
        """Press an Action.Submit: Teams sends a message whose value is the button's data and the inputs."""
        return self.say(user, "", channel=channel, value={**button["data"], **inputs})

    def deliver(self) -> None:
        self.worker.drain()

    def posts(self) -> list:
        """What Cadence posted at the top level of the study channel (not thread replies, not edits)."""
        return [s for s in self.fake.sent if s.conversation == CHANNEL and not s.update_of]

    def dms(self, user: User) -> list:
        return self.fake.to(user.chat)


def message(
    fake: FakeTeams, user: User, text: str, *, channel: bool = False, value: dict | None = None
) -> dict:
    number = next(_ids)
    activity: dict[str, Any] = {
        "type": "message",
        "id": f"m-{number}",
        "timestamp": datetime.now(UTC).isoformat(),
        "serviceUrl": fake.url,
        "channelId": "msteams",
        "from": {"id": user.user_id, "aadObjectId": user.aad_id, "name": user.name},
        "recipient": {"id": f"28:{BOT_ID}", "name": "Cadence"},
        "channelData": {"tenant": {"id": TENANT}},
        "text": text,
    }
    if channel:
        activity["conversation"] = {
            "id": f"{CHANNEL};messageid=root-{number}",
            "conversationType": "channel",
            "tenantId": TENANT,
        }
        activity["channelData"] |= {"team": {"id": "19:team@thread.tacv2"}, "channel": {"id": CHANNEL}}
        if text:
            activity["text"] = f"<at>Cadence</at> {text}"
            activity["entities"] = [
                {
                    "type": "mention",
                    "text": "<at>Cadence</at>",
                    "mentioned": {"id": f"28:{BOT_ID}", "name": "Cadence"},
                }
            ]
    else:
        activity["conversation"] = {"id": user.chat, "conversationType": "personal", "tenantId": TENANT}
    if value is not None:
        activity["value"] = value
    return activity


def install(fake: FakeTeams, user: User | None = None) -> dict:
    """The conversationUpdate Teams sends when Cadence is added to the study's team (or a chat)."""
    conversation = (
        {"id": CHANNEL, "conversationType": "channel", "tenantId": TENANT}
        if user is None
        else {"id": user.chat, "conversationType": "personal", "tenantId": TENANT}
    )
    return {
        "type": "conversationUpdate",
        "id": f"cu-{next(_ids)}",
        "serviceUrl": fake.url,
        "channelId": "msteams",
        "from": {"id": (user or ALICE).user_id, "aadObjectId": (user or ALICE).aad_id},
        "recipient": {"id": f"28:{BOT_ID}", "name": "Cadence"},
        "conversation": conversation,
        "membersAdded": [{"id": f"28:{BOT_ID}"}],
        "channelData": {"tenant": {"id": TENANT}, "eventType": "teamMemberAdded"},
    }


@pytest.fixture
def teams(teams_settings, engine, teams_study, fake_teams, clock) -> Iterator[TeamsBot]:
    """Cadence's Teams app on loopback, installed in the study's team, with a delivery worker; its address
    is its public one (CADENCE_PUBLIC_URL), where Teams fetches charts."""
    sock, url = loopback_socket()
    settings = replace(teams_settings, public_url=url)
    app, routes = build_teams_app(settings, engine, clock=clock, token=fake_teams.bot_token)
    url, stop = serve_in_thread(
        build_asgi(None, engine, teams=routes, on_startup=app.initialize, clock=clock), sock
    )
    notifier = teams_notifier(app, engine, settings, clock)
    bot = TeamsBot(
        url, fake_teams, engine, clock, DeliveryWorker(engine, RoutingNotifier({"teams": notifier}), clock)
    )
    assert bot.post(install(fake_teams)) == 200
    fake_teams.clear()
    yield bot
    stop()


def run(coroutine):
    return asyncio.run(coroutine)
