"""A Docker token-auth server (https://distribution.github.io/distribution/spec/auth/token/).

Real registries such as Docker Hub, GHCR and GCR hand out Bearer tokens from a separate server;
this one lets tests run docker-registry in ``auth.token`` mode and observe the token traffic.
Tokens are RS256 JWTs whose header carries the signing certificate in ``x5c``; docker-registry
trusts them because the same self-signed certificate is its ``rootcertbundle``.
"""

from __future__ import annotations

import base64
import datetime
import json
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.certs import self_signed_ca

TokenField = Literal["token", "access_token", "both"]
_SECRET_PARAMS = frozenset({"password", "refresh_token", "client_secret"})


class TokenRequest(NamedTuple):
    """One request the server saw: path and parsed query, with any secrets redacted."""

    path: str
    query: dict[str, list[str]]


def _self_signed(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """An RSA key (RS256 needs one) and a CA certificate that may sign: the registry's
    `rootcertbundle` trusts tokens whose `x5c` header carries it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return key, self_signed_ca(key, common_name, extensions=[(usage, True)])


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """``repository:a/b:pull,push`` -> ``("repository", "a/b", ["pull", "push"])``.

    The name sits between the first and the last colon, so names with a port-like colon work.
    """
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if not kind or not name:
        return None
    return kind, name, [action for action in actions.split(",") if action]


class TokenServer:
    """Threaded token server on 127.0.0.1; start it, point a registry's realm at ``.realm``.

    Authenticated requests (``username``/``password``) get every action they ask for;
    anonymous ones get ``pull`` only, or 401 when ``allow_anonymous`` is False; wrong
    credentials always get 401. With ``multi_scope=False`` only the first requested repository
    scope is granted, like token servers that ignore the rest.
    """

    def __init__(
        self,
        *,
        username: str = "alice",
        password: str = "wonderland",
        allow_anonymous: bool = True,
        multi_scope: bool = True,
        expires_in: int = 300,
        field: TokenField = "token",
        issuer: str = "test-token-issuer",
    ) -> None:
        self.username = username
        self.password = password
        self.allow_anonymous = allow_anonymous
        self.multi_scope = multi_scope
        self.expires_in = expires_in
        self.field = field
        self.issuer = issuer
        self.requests: list[TokenRequest] = []
        self.issued: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._key, self._cert = _self_signed(issuer)
        self._tmp = tempfile.TemporaryDirectory(prefix="token-server-")
        self.cert_pem_path = Path(self._tmp.name) / "token-cert.pem"
        self.cert_pem_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(self._cert.public_bytes(serialization.Encoding.DER)).decode()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> TokenServer:
        handler = type("_BoundHandler", (_Handler,), {"token_server": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="token-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._tmp.cleanup()

    def __enter__(self) -> TokenServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("token server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def realm(self) -> str:
        """The URL to configure as the registry's ``auth.token.realm``."""
        return f"{self.url}/token"

    def token_requests(self) -> list[TokenRequest]:
        """Requests to ``/token`` only (a snapshot)."""
        with self._lock:
            return [request for request in self.requests if request.path == "/token"]

    def reset(self) -> None:
        """Forget recorded requests and issued tokens, e.g. between tests."""
        with self._lock:
            self.requests.clear()
            self.issued.clear()

    # -- token logic -----------------------------------------------------------------------

    def public_key_pem(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def grant(self, user: str | None, scopes: list[str]) -> list[dict[str, Any]]:
        """The ``access`` claim for ``user`` (None: anonymous) asking for ``scopes``."""
        access: list[dict[str, Any]] = []
        repositories_granted = 0
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            kind, name, actions = parsed
            if kind == "repository":
                if repositories_granted and not self.multi_scope:
                    continue
                repositories_granted += 1
            if user is None:
                actions = [action for action in actions if action == "pull"]
            access.append({"type": kind, "name": name, "actions": actions})
        return access

    def issue(self, user: str | None, service: str, scopes: list[str]) -> dict[str, Any]:
        """Build the JSON body of a token response."""
        now = int(datetime.datetime.now(datetime.UTC).timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": service,
            "exp": now + self.expires_in,
            "nbf": now - 5,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": self.grant(user, scopes),
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"x5c": [self._x5c]})
        with self._lock:
            self.issued.append(claims)
        body: dict[str, Any] = {
            "expires_in": self.expires_in,
            "issued_at": datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(),
        }
        if self.field in ("token", "both"):
            body["token"] = token
        if self.field in ("access_token", "both"):
            body["access_token"] = token
        return body

    def authenticate(self, authorization: str | None) -> tuple[bool, str | None]:
        """``(allowed, user)`` for an Authorization header; user None means anonymous."""
        if not authorization:
            return self.allow_anonymous, None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False, None
        try:
            username, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False, None
        if (username, password) == (self.username, self.password):
            return True, username
        return False, None

    def record(self, path: str, query: dict[str, list[str]]) -> None:
        redacted = {
            key: ["<redacted>"] * len(values) if key in _SECRET_PARAMS else list(values)
            for key, values in query.items()
        }
        with self._lock:
            self.requests.append(TokenRequest(path, redacted))


class _Handler(BaseHTTPRequestHandler):
    token_server: TokenServer

    def do_GET(self) -> None:
        server = self.token_server
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        server.record(parts.path, query)
        if parts.path != "/token":
            self._reply(404, {"errors": [{"code": "NOT_FOUND", "message": parts.path}]})
            return
        allowed, user = server.authenticate(self.headers.get("Authorization"))
        if not allowed:
            self._reply(
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                {"WWW-Authenticate": 'Basic realm="token-server"'},
            )
            return
        scopes = [scope for value in query.get("scope", []) for scope in value.split()]
        service = query.get("service", [""])[0]
        self._reply(200, server.issue(user, service, scopes))

    def _reply(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; ``TokenServer.requests`` keeps the record."""
