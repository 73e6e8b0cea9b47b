"""A fake OpenID provider on loopback, shaped both as Slack's ("Sign in with Slack") and as Microsoft's
Entra ID: discovery documents, the authorize page (which signs in whoever the test says is at the browser
and sends the browser back with a code), the token endpoint (code for tokens, once, with the client's
secret and the same redirect address), Slack's userInfo, and the signing keys (JWKS) of a key made here.

Slack's paths: /openid/connect/authorize, /openid/connect/keys, /api/openid.connect.token and
/api/openid.connect.userInfo (point SLACK_OIDC_URL at the fake and SLACK_API_URL at its /api/).
Microsoft's: /<tenant>/oauth2/v2.0/authorize and /token, /<tenant>/discovery/v2.0/keys (point
MICROSOFT_OIDC_AUTHORITY at the fake). It also signs the token Teams gives a tab (`tab_token`).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KID = "fake-oidc-key"


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    team_id: str
    email: str | None = None
    name: str = "Someone"
    email_in_id_token: bool = True  # False: the e-mail only from openid.connect.userInfo


@dataclass(frozen=True)
class EntraUser:
    oid: str
    tenant: str
    email: str | None = None
    name: str = "Someone"


@dataclass
class Grant:
    """What the authorize page handed out with a code, checked at the token endpoint."""

    user: SlackUser | EntraUser
    client_id: str
    redirect_uri: str
    nonce: str | None
    issuer: str


@dataclass
class FakeOpenID:
    client_secrets: dict[str, str] = field(default_factory=dict)  # client id -> secret
    at_browser: SlackUser | EntraUser | None = None  # who signs in at the next authorize
    grants: dict[str, Grant] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # method, path
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    forge_with: Any = None  # a key not in the JWKS: ID tokens signed with it are forgeries
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakeOpenID:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                fake._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- tokens --------------------------------------------------------------------------------------

    def sign(self, claims: dict[str, Any], *, key: Any = None) -> str:
        now = int(time.time())  # the provider's own clock, as a real one's: PyJWT checks it against the wall
        return jwt.encode({"iat": now, "nbf": now, "exp": now + 600, **claims}, key or self.key, algorithm="RS256",
                          headers={"kid": KID})  # fmt: skip

    def id_token(self, grant: Grant, client_id: str) -> str:
        user = grant.user
        claims: dict[str, Any] = {"iss": grant.issuer, "aud": client_id, "name": user.name}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if isinstance(user, SlackUser):
            claims |= {"sub": user.user_id, "https://slack.com/user_id": user.user_id,
                       "https://slack.com/team_id": user.team_id}  # fmt: skip
            if user.email and user.email_in_id_token:
                claims |= {"email": user.email, "email_verified": True}
        else:
            claims |= {"oid": user.oid, "tid": user.tenant, "sub": f"pairwise-{user.oid}", "ver": "2.0"}
            if user.email:
                claims["preferred_username"] = user.email
        return self.sign(claims, key=self.forge_with)

    def tab_token(
        self, user: EntraUser, *, audience: str, scope: str = "access_as_user", **extra: Any
    ) -> str:
        """What Teams' getAuthToken gives a tab: an Entra access token for the app's own API."""
        claims = {"iss": f"{self.url}/{user.tenant}/v2.0", "aud": audience, "oid": user.oid, "tid": user.tenant,
                  "scp": scope, "preferred_username": user.email, "ver": "2.0", **extra}  # fmt: skip
        return self.sign(claims)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}

    # --- HTTP ----------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append((method, path))
        body = b""
        if method == "POST":
            body = request.rfile.read(int(request.headers.get("content-length") or 0))
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        segments = path.strip("/").split("/")
        if method == "GET" and path == "/.well-known/openid-configuration":
            return self._json(request, 200, self._slack_discovery())
        if method == "GET" and path == "/openid/connect/keys":
            return self._json(request, 200, self.jwks())
        if method == "GET" and path == "/openid/connect/authorize":
            return self._authorize(request, query, issuer=self.url)
        if method == "POST" and path == "/api/openid.connect.token":
            return self._token(request, form, slack=True)
        if method == "GET" and path == "/api/openid.connect.userInfo":
            return self._userinfo(request)
        if len(segments) == 4 and segments[1:] == ["discovery", "v2.0", "keys"]:
            return self._json(request, 200, self.jwks())
        if method == "GET" and segments[1:] == ["oauth2", "v2.0", "authorize"]:
            return self._authorize(request, query, issuer=None)
        if method == "POST" and segments[1:] == ["oauth2", "v2.0", "token"]:
            return self._token(request, form, slack=False)
        return self._json(request, 404, {"error": "not_found"})

    def _slack_discovery(self) -> dict[str, Any]:
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/openid/connect/authorize",
                "token_endpoint": f"{self.url}/api/openid.connect.token",
                "userinfo_endpoint": f"{self.url}/api/openid.connect.userInfo",
                "jwks_uri": f"{self.url}/openid/connect/keys", "id_token_signing_alg_values_supported": ["RS256"]}  # fmt: skip

    def _authorize(
        self, request: BaseHTTPRequestHandler, query: dict[str, str], *, issuer: str | None
    ) -> None:
        user = self.at_browser
        if (
            user is None
            or query.get("client_id") not in self.client_secrets
            or query.get("response_type") != "code"
        ):
            return self._json(request, 400, {"error": "invalid_request"})
        if "openid" not in (query.get("scope") or "").split():
            return self._json(request, 400, {"error": "invalid_scope"})
        code = secrets.token_urlsafe(16)
        issuer = issuer or f"{self.url}/{user.tenant}/v2.0"  # Entra: the signing-in person's tenant
        with self._lock:
            self.grants[code] = Grant(
                user, query["client_id"], query["redirect_uri"], query.get("nonce"), issuer
            )
        back = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
        request.send_response(302)
        request.send_header("Location", back)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def _token(self, request: BaseHTTPRequestHandler, form: dict[str, str], *, slack: bool) -> None:
        with self._lock:
            grant = self.grants.pop(form.get("code", ""), None)  # a code works once
        client_id = form.get("client_id", "")
        if (
            grant is None
            or grant.client_id != client_id
            or self.client_secrets.get(client_id) != form.get("client_secret")
            or grant.redirect_uri != form.get("redirect_uri")
        ):
            return self._json(
                request, 400, {"ok": False, "error": "invalid_grant"} if slack else {"error": "invalid_grant"}
            )
        access = "fake-access-" + secrets.token_urlsafe(8)
        with self._lock:
            self.grants["access:" + access] = grant
        answer = {"access_token": access, "token_type": "Bearer", "id_token": self.id_token(grant, client_id)}
        self._json(request, 200, {"ok": True, **answer} if slack else answer)

    def _userinfo(self, request: BaseHTTPRequestHandler) -> None:
        access = (request.headers.get("authorization") or "").removeprefix("Bearer ")
        grant = self.grants.get("access:" + access)
        if grant is None or not isinstance(grant.user, SlackUser):
            return self._json(request, 200, {"ok": False, "error": "invalid_auth"})
        user = grant.user
        info = {"ok": True, "sub": user.user_id, "https://slack.com/user_id": user.user_id,
                "https://slack.com/team_id": user.team_id, "name": user.name}  # fmt: skip
        if user.email:
            info |= {"email": user.email, "email_verified": True}
        self._json(request, 200, info)

    def _json(self, request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
