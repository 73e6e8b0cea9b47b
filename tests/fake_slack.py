"""A fake Slack Web API on loopback that records every call the bot makes (as slack-bolt's tests do)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER_ID = "UBOTCADENCE"
BOT_TOKEN = "xoxb-test-token"
TEAM_ID = "T0SPONSOR"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


Responder = Callable[[Call], tuple[int, dict[str, Any], dict[str, str]]]


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    blocks: list[Any]
    metadata: dict[str, Any] | None
    thread_ts: str | None

    @property
    def key(self) -> str | None:
        return (self.metadata or {}).get("event_payload", {}).get("key")


class FakeSlack:
    """Answers Web API methods like Slack; `respond_with` overrides one method's answer.

    Messages posted are kept (with their metadata) so that conversations.history can find them.
    With `limits`, chat.postMessage enforces Slack-like rate limits: per channel and workspace-wide
    messages per second, answered with 429 and Retry-After past them.
    """

    def __init__(
        self,
        *,
        per_channel_per_second: float | None = None,
        per_second: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.calls: list[Call] = []
        self.posted: list[Posted] = []
        self.limited = 0
        self._per_channel = per_channel_per_second
        self._per_second = per_second
        self._clock = clock or time.monotonic
        self._last_in_channel: dict[str, float] = {}
        self._window: list[float] = []
        self._responders: dict[str, Responder] = {}
        self.ts_clock: Callable[[], float] = time.time  # where message timestamps come from
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes uploaded to its URL
        self.shared: list[dict[str, Any]] = []  # files.completeUploadExternal calls: files, channel, thread
        self.users: dict[str, str] = {}  # Slack user id -> e-mail, for users.lookupByEmail and users.info
        self.user_teams: dict[str, str] = {}  # Slack user id -> their workspace, when not TEAM_ID
        self.tokens: dict[str, tuple[str, str]] = {BOT_TOKEN: (TEAM_ID, BOT_USER_ID)}  # -> team, bot user
        self.codes: dict[str, tuple[str, str]] = {}  # OAuth code -> the bot token and team it installs
        self._hanging: set[str] = set()
        self._released = threading.Event()  # hanging methods answer once the fake stops
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def respond_with(self, method: str, responder: Responder) -> None:
        self._responders[method] = responder

    def hang(self, method: str) -> None:
        """`method` never answers while the test runs (a Slack that accepted the connection and went quiet)."""
        self._hanging.add(method)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def _user(self, uid: str) -> dict[str, Any]:
        return {
            "id": uid,
            "team_id": self.user_teams.get(uid, TEAM_ID),
            "profile": {"email": self.users[uid]},
        }

    def _answer(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(call)
        if call.method in self._hanging:
            self._released.wait()
            return 503, {"ok": False, "error": "fake_slack_stopped"}, {}
        if call.method in self._responders:
            return self._responders[call.method](call)
        if call.method == "oauth.v2.access":
            return self._install(call)
        token = call.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if call.method == "auth.test":
            team, bot_user = self.tokens[token]
            return 200, {"ok": True, "user_id": bot_user, "bot_id": "BCADENCE", "team_id": team}, {}
        if call.method == "chat.postMessage":
            return self._post_message(call)
        if call.method == "files.getUploadURLExternal":
            file_id = f"F{len(self.uploads) + len(self.shared) + 1:06d}{int(time.time() * 1000) % 100000}"
            return 200, {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}, {}
        if call.method == "files.completeUploadExternal":
            files = call.params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            with self._lock:
                self.shared.append(
                    {
                        "files": files,
                        "channel": call.params.get("channel_id"),
                        "thread_ts": call.params.get("thread_ts"),
                    }
                )
            return 200, {"ok": True, "files": files}, {}
        if call.method == "users.lookupByEmail":
            wanted = str(call.params.get("email", "")).casefold()
            found = next((uid for uid, email in self.users.items() if email.casefold() == wanted), None)
            if found is None:
                return 200, {"ok": False, "error": "users_not_found"}, {}
            return 200, {"ok": True, "user": self._user(found)}, {}
        if call.method == "users.info":
            uid = str(call.params.get("user", ""))
            if uid not in self.users:
                return 200, {"ok": False, "error": "user_not_found"}, {}
            return 200, {"ok": True, "user": self._user(uid)}, {}
        if call.method == "chat.update":
            return 200, {"ok": True, "channel": call.params["channel"], "ts": call.params["ts"]}, {}
        if call.method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": _dm_channel(call.params["users"])}}, {}
        if call.method == "conversations.history":
            oldest = float(call.params.get("oldest") or 0)
            with self._lock:
                found = [
                    p for p in self.posted if p.channel == call.params["channel"] and float(p.ts) > oldest
                ]
            messages = [{"ts": p.ts, "text": p.text, "metadata": p.metadata} for p in reversed(found)]
            return 200, {"ok": True, "messages": messages, "has_more": False}, {}
        return 200, {"ok": True}, {}

    def _install(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Slack's OAuth v2 code exchange: the code an install redirect carried, for its workspace's token."""
        if not call.headers.get("authorization", "").startswith("Basic "):  # the app's id and secret
            return 200, {"ok": False, "error": "invalid_client_id"}, {}
        found = self.codes.get(str(call.params.get("code")))
        if found is None:
            return 200, {"ok": False, "error": "invalid_code"}, {}
        token, team = found
        self.tokens[token] = (team, f"UBOT{team}")
        return 200, {
            "ok": True, "access_token": token, "token_type": "bot", "scope": "commands,chat:write",
            "bot_user_id": f"UBOT{team}", "app_id": "A0CADENCE", "team": {"id": team, "name": f"Workspace {team}"},
            "authed_user": {"id": "U0INSTALLER"},
        }, {}  # fmt: skip

    def _post_message(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        channel = call.params["channel"]
        if channel.startswith(("U", "W")):
            channel = _dm_channel(channel)
        with self._lock:
            now = self._clock()
            retry_after = self._rate_limit(channel, now)
            if retry_after:
                self.limited += 1
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
            ts = f"{self.ts_clock():.0f}.{len(self.posted) + 1:06d}"
            metadata = call.params.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            blocks = call.params.get("blocks") or []
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            self.posted.append(
                Posted(
                    channel, ts, call.params.get("text", ""), blocks, metadata, call.params.get("thread_ts")
                )
            )
        return 200, {"ok": True, "channel": channel, "ts": ts}, {}

    def _rate_limit(self, channel: str, now: float) -> int:
        if self._per_channel:
            last = self._last_in_channel.get(channel)
            if last is not None and now - last < 1 / self._per_channel:
                return 1
        if self._per_second:
            self._window = [t for t in self._window if now - t < 1]
            if len(self._window) >= self._per_second:
                return 1
            self._window.append(now)
        self._last_in_channel[channel] = now
        return 0

    def posted_keys(self) -> list[str | None]:
        with self._lock:
            return [p.key for p in self.posted]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                data = self.rfile.read(length)
                if "/upload/" in self.path:  # the URL files.getUploadURLExternal handed out: raw file bytes
                    with fake._lock:
                        fake.uploads[self.path.rsplit("/", 1)[-1]] = data
                    self.send_response(200)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")
                    return
                raw = data.decode()
                if self.headers.get("content-type", "").startswith("application/json"):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                path, _, query = self.path.partition("?")
                params |= {k: v[0] for k, v in parse_qs(query).items()}
                method = path.rsplit("/", 1)[-1]
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body, extra = fake._answer(Call(method, params, headers))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 (slack_sdk reads some methods with GET)
                self.do_POST()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _dm_channel(user_id: str) -> str:
    return "D" + user_id[1:]
