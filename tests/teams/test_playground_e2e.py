"""End to end with Microsoft's Agents Playground (npm: @microsoft/m365agentsplayground, pinned in
tests/playground/package.json), driven through its own HTTP interface as its web page drives it:
messages go in over HTTP, Cadence's replies come back on the Playground's WebSocket. No browser.

The Playground plays Teams: it installs the app in a personal chat, sends activities to Cadence's
/api/messages without a token (Cadence runs with TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED, as on a
developer's machine) and takes Cadence's Bot Connector calls, replies and proactive messages alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import Session, select

from bot.config import EXAMPLE_PLAN, Settings
from bot.db import run_in_session
from bot.models import Escalation
from bot.outbox import DeliveryWorker
from bot.plan import load_plan
from bot.routing import RoutingNotifier
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.teams.app import build_teams_app, teams_notifier
from tests.conftest import serve_in_thread
from tests.fake_teams import submit_actions
from tests.npm_packages import installed

PLAYGROUND_USER = "00000000-0000-0000-0000-0000000000020"  # the Playground's default user's Entra id

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm")), reason="Node.js and npm are needed for the Playground"
)


@pytest.fixture(scope="session")
def playground_cli() -> Path:
    """The Playground, installed from the npm registry at the pinned version (once per checkout)."""
    return installed("@microsoft/m365agentsplayground/cli.js")


@pytest.fixture
def cadence(database_url, engine, clock) -> Iterator[tuple[str, DeliveryWorker]]:
    """Cadence serving Teams without tokens, with the Playground's user as Ben (project manager, level 1
    of the escalation path) and no study channel: what would go to the channel comes to him directly."""
    text = EXAMPLE_PLAN.read_text().replace("  channel: C0STUDY", "")
    text = text.replace("slack: U01BEN,", f"teams: {PLAYGROUND_USER},")
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    settings = Settings(database_url=database_url, teams_allow_unauthenticated=True)
    app, routes = build_teams_app(settings, engine, clock=clock)
    url, stop = serve_in_thread(build_asgi(None, engine, teams=routes, on_startup=app.initialize))
    worker = DeliveryWorker(
        engine, RoutingNotifier({"teams": teams_notifier(app, engine, settings, clock)}), clock
    )
    yield url, worker
    stop()


@pytest.fixture
def playground(playground_cli, cadence, tmp_path) -> Iterator[str]:
    """The Playground pointed at Cadence, on a free port; its base URL."""
    url, _worker = cadence
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH_")}  # AUTH_* would turn on its auth
    env |= {
        "TEAMSAPPTESTER_BROWSER": "none",  # it would try to open a browser, and exit when it cannot
        "APPLICATION_INSIGHTS_NO_STATSBEAT": "1",
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(tmp_path / "playground.log"),
    }
    process = subprocess.Popen(
        ["node", str(playground_cli), "-e", f"{url}/api/messages", "-c", "msteams", "-p", "0", "--dt"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        port = _listening_port(process)
        yield f"http://localhost:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _listening_port(process: subprocess.Popen) -> int:
    assert process.stdout is not None
    for line in process.stdout:  # it prints "Listening on <port>" when its output is not a terminal
        if line.startswith("Listening on "):
            return int(line.split()[-1])
    raise AssertionError(f"the Playground exited ({process.wait()}) before listening")


class PlaygroundChat:
    """A personal chat with Cadence in the Playground: what the user types, what Cadence answers."""

    def __init__(self, http: aiohttp.ClientSession, base: str):
        self.http, self.base = http, base

    async def open(self) -> None:
        async with self.http.get(f"{self.base}/_internal/v1/config") as response:
            config = (await response.json())["config"]
        self.user, self.chat = config["currentUser"]["id"], config["personalChat"]["id"]
        self.socket = await self.http.ws_connect(
            f"{self.base.replace('http', 'ws')}/_ws_conversation/v1/conversations/stream"
        )
        await self._post(f"/_debug/conversation/{self.chat}/installation", {})  # what opening the app does

    async def say(self, text: str) -> None:
        body = {"text": text, "textFormat": "plain", "from": {"id": self.user}}
        await self._post(f"/_conversation/v1/conversations/{self.chat}/messages", body)

    async def press(self, message: dict[str, Any], title: str) -> None:
        """Press a card's Action.Submit: the Playground sends Cadence the button's data as the value."""
        [action] = [a for a in submit_actions(message.get("attachments")) if title in a["title"]]
        body = {"conversation": {"id": self.chat}, "replyToId": message["messageId"], "value": action["data"],
                "from": {"id": self.user}}  # fmt: skip
        await self._post("/_conversation/v1/submit", body)

    async def next_from_cadence(self, containing: str, timeout: float = 20) -> dict[str, Any]:
        """The next message Cadence sends whose card or text contains `containing`."""
        async with asyncio.timeout(timeout):
            while True:
                event = json.loads((await self.socket.receive()).data)
                message = event.get("message") or {}
                if event.get("action") == "createMessage" and containing in json.dumps(
                    message, ensure_ascii=False
                ):
                    return message

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        async with self.http.post(f"{self.base}{path}", json=body) as response:
            assert response.status < 300, await response.text()


def test_who_owns_and_an_escalation_opened_and_acknowledged_in_the_playground(playground, cadence, engine):
    _url, worker = cadence

    async def conversation() -> None:
        async with aiohttp.ClientSession() as http:
            chat = PlaygroundChat(http, playground)
            await chat.open()
            await chat.next_from_cadence("keeps the sponsor and the CRO")  # the hello on installation

            await chat.say("who-owns SAE")
            answer = await chat.next_from_cadence("Safety reporting")
            assert answer["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
            assert "Mei Lin" in json.dumps(answer)

            await chat.say("escalate high Temperature excursion on kit shipment 14")
            await chat.next_from_cadence("Raised **ACME-201-E1**")
            await asyncio.to_thread(worker.drain)  # the outbox: level 1 (Ben) is told, in this chat
            notice = await chat.next_from_cadence("Temperature excursion on kit shipment 14")
            await chat.press(notice, "Acknowledge")
            await chat.next_from_cadence("acknowledged")

    asyncio.run(conversation())
    with Session(engine) as session:
        [issue] = session.exec(select(Escalation)).all()
    assert issue.state == "acknowledged" and issue.acknowledged_by == "Ben Okafor"
