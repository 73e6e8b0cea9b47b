"""A fake of Microsoft's side of a Teams bot, on loopback: the Bot Connector API that replies and
proactive messages land on (recorded), and the Bot Framework's signing keys.

It signs the tokens that come with activities the way the Bot Framework does (RS256, issuer
https://api.botframework.com, audience the bot's app id, a serviceurl claim), publishes the key at
an OpenID metadata URL the app is pointed at, and insists on the bot's own bearer token for every
Bot Connector call. It can answer with Teams' throttling (429) and transient errors on demand, and like
Teams it refuses (413) an activity over 28 KB, recording its size.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_ID = "00000000-0000-4000-8000-00000000b07a"
TENANT = "tenant-acme"
ISSUER = "https://api.botframework.com"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_KID = "fake-teams-key"
_ACTIVITY = re.compile(r"^/v3/conversations/(?P<conversation>[^/]+)/activities(?:/(?P<activity>[^/]+))?$")
MAX_ACTIVITY_BYTES = 28_000  # Teams refuses a message whose activity passes about 28 KB
_MEMBERS = re.compile(r"^/v3/conversations/(?P<conversation>[^/]+)/members(?:/(?P<member>[^/]+))?$")


@dataclass
class Sent:
    conversation: str
    activity: dict[str, Any]
    activity_id: str
    update_of: str | None = None
    size: int = 0  # the bytes of the activity as the bot sent it

    @property
    def card(self) -> dict[str, Any]:
        attachments = self.activity.get("attachments") or [{}]
        return attachments[0].get("content") or {}

    @property
    def text(self) -> str:
        """Every piece of text in the message and its card, joined: what a reader sees."""
        parts = [self.activity.get("text") or ""]
        for node in dicts_in([self.card.get("body"), self.card.get("actions")]):
            parts += [node[key] for key in ("text", "title", "label") if isinstance(node.get(key), str)]
        return "\n".join(p for p in parts if p)

    def buttons(self) -> list[dict[str, Any]]:
        return submit_actions(self.card)

    def button(self, title_part: str) -> dict[str, Any]:
        return next(b for b in self.buttons() if title_part in b["title"])


@dataclass
class FakeTeams:
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # conversation -> roster
    sent: list[Sent] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status
    failures: list[tuple[int, dict[str, str]]] = field(
        default_factory=list
    )  # answers to give next (0: as usual)
    too_large: list[dict[str, Any]] = field(default_factory=list)  # activities refused for their size
    require_auth: bool = True  # Agents Playground, like a bot in development mode, sends no token
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakeTeams:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real Bot Connector

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PUT(self) -> None:
                fake._handle(self, "PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openid_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    # --- tokens ----------------------------------------------------------------------------------

    def activity_token(self, *, audience: str = BOT_ID, service_url: str | None = None, **claims: Any) -> str:
        """What the Bot Framework sends with an activity."""
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": audience,
            "serviceurl": service_url or self.url,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(payload, _KEY, algorithm="RS256", headers={"kid": _KID})

    def bot_token(self, *args: Any) -> str:
        """The bot's own app token (what Entra would issue it): the SDK calls this for each scope."""
        now = int(time.time())
        payload = {"iss": "https://login.microsoftonline.com/fake/v2.0", "aud": "https://api.botframework.com",
                   "appid": BOT_ID, "iat": now, "exp": now + 3600}  # fmt: skip
        return jwt.encode(payload, _KEY, algorithm="RS256", headers={"kid": _KID})

    def _authorized(self, header: str) -> bool:
        if not header.startswith("Bearer "):
            return False
        try:
            claims = jwt.decode(header[7:], _KEY.public_key(), algorithms=["RS256"], audience=ISSUER)
        except jwt.InvalidTokenError:
            return False
        return claims.get("appid") == BOT_ID

    # --- what the bot sent -------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, *, after: int = 0, **headers: str) -> None:
        """Answer the next `times` calls with `status`, once `after` calls have been answered as usual."""
        self.failures.extend([(0, {})] * after + [(status, headers)] * times)

    def to(self, conversation: str) -> list[Sent]:
        return [s for s in self.sent if s.conversation.split(";")[0] == conversation and not s.update_of]

    def last_to(self, conversation: str) -> Sent:
        return self.to(conversation)[-1]

    def clear(self) -> None:
        self.sent.clear()

    # --- the server ------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = request.path.split("?", 1)[0]
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"{}") if length else {}
        status, answer, headers = self._answer(
            method, path, body, request.headers.get("Authorization") or "", length
        )
        with self._lock:
            self.requests.append((method, path, status))
        data = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _answer(
        self, method: str, path: str, body: Any, authorization: str, size: int = 0
    ) -> tuple[int, Any, dict]:
        if path == "/v1/.well-known/openidconfiguration":
            return 200, {"issuer": ISSUER, "jwks_uri": f"{self.url}/v1/.well-known/keys"}, {}
        if path == "/v1/.well-known/keys":
            key = json.loads(RSAAlgorithm.to_jwk(_KEY.public_key()))
            return 200, {"keys": [{**key, "kid": _KID, "use": "sig", "alg": "RS256"}]}, {}
        if self.require_auth and not self._authorized(authorization):
            return 401, {"error": {"code": "Unauthorized", "message": "no valid bot token"}}, {}
        with self._lock:
            status, headers = self.failures.pop(0) if self.failures else (0, {})
            if status:
                return status, {"error": {"code": "Throttled" if status == 429 else "ServiceError"}}, headers
        if path == "/v3/conversations" and method == "POST":
            return self._create(body)
        if _ACTIVITY.match(path) and size > MAX_ACTIVITY_BYTES:
            self.too_large.append(body)
            return 413, {"error": {"code": "MessageSizeTooBig", "message": "Message size too large"}}, {}
        if match := _ACTIVITY.match(path):
            conversation = unquote(match["conversation"])
            activity_id = unquote(match["activity"]) if match["activity"] else None
            with self._lock:
                new_id = f"act-{next(self._ids)}"
                if method == "PUT" and activity_id:
                    self.sent.append(Sent(conversation, body, activity_id, update_of=activity_id, size=size))
                    return 200, {"id": activity_id}, {}
                self.sent.append(Sent(conversation, body, new_id, size=size))
            return 200, {"id": new_id}, {}
        if match := _MEMBERS.match(path):
            roster = self.members.get(unquote(match["conversation"]), [])
            if match["member"]:
                wanted = unquote(match["member"])
                found = next((m for m in roster if wanted in (m["id"], m.get("aadObjectId"))), None)
                return (200, found, {}) if found else (404, {"error": {"code": "MemberNotFound"}}, {})
            return 200, roster, {}
        return 404, {"error": {"code": "NotFound"}}, {}

    def _create(self, body: dict[str, Any]) -> tuple[int, Any, dict]:
        member = (body.get("members") or [{}])[0].get("id", "")
        with self._lock:
            self.created.append(body)
        return 200, {"id": f"a:chat-{member}", "serviceUrl": self.url}, {}


def dicts_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a card, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from dicts_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from dicts_in(value)


def submit_actions(card: Any) -> list[dict[str, Any]]:
    """A card's Action.Submit buttons, in order."""
    return [node for node in dicts_in(card) if node.get("type") == "Action.Submit"]


def account(aad_id: str, name: str, email: str | None = None) -> dict[str, Any]:
    """A roster entry as the Bot Connector lists it."""
    entry = {"id": f"29:{aad_id}", "aadObjectId": aad_id, "name": name}
    if email:
        entry |= {"email": email, "userPrincipalName": email}
    return entry
