"""A fake Slack Web API on loopback that records every call the bot makes (as slack-bolt's tests do)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER_ID = "UBOTCADENCE"
TEAM_ID = "T0SPONSOR"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


Responder = Callable[[Call], tuple[int, dict[str, Any], dict[str, str]]]


class FakeSlack:
    """Answers Web API methods like Slack; `respond_with` overrides one method's answer."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._responders: dict[str, Responder] = {}
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
        self._server.shutdown()
        self._server.server_close()

    def respond_with(self, method: str, responder: Responder) -> None:
        self._responders[method] = responder

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def _answer(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(call)
        if call.method in self._responders:
            return self._responders[call.method](call)
        if call.headers.get("authorization", "") != "Bearer xoxb-test-token":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if call.method == "auth.test":
            return 200, {"ok": True, "user_id": BOT_USER_ID, "bot_id": "BCADENCE", "team_id": TEAM_ID}, {}
        return 200, {"ok": True}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode()
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

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
