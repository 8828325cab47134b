"""Bearer tokens from a registry's token server (the Docker token / OAuth2 protocols).

Tokens are cached per repository scope until shortly before they expire. Several repository
scopes can be asked for in one request; when the token is a JWT carrying an `access` claim we
only trust it for the repositories it actually grants, so a server that refuses multi-scope
tokens costs one request per repository, not a failed request per repository.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from image_digest.errors import AuthenticationError, RegistryError, quoted
from image_digest.keychain.credentials import Basic, Credential, IdentityToken
from image_digest.transport.body import BodyTooLargeError, read_capped
from image_digest.transport.challenge import Challenge

DEFAULT_EXPIRES_IN = 60.0
MAX_EXPIRES_IN = 24 * 3600.0
MAX_TOKEN_RESPONSE_BYTES = 1_048_576
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")
_EXPIRY_MARGIN = 10.0
CLIENT_ID = "image-digest"


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


@dataclass(frozen=True)
class Token:
    """An access token; `grants_nothing` when it is a JWT whose `access` claim is empty (the
    token server refused every scope: asking it again would give the same)."""

    value: str = field(repr=False)
    expires_at: float
    grants_nothing: bool = False

    def fresh(self, now: float) -> bool:
        return now < self.expires_at


class TokenCache:
    """Thread-safe map of scope -> token."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def get(self, scope: str) -> Token | None:
        with self._lock:
            token = self._tokens.get(scope)
            return token if token is not None and token.fresh(time.monotonic()) else None

    def put(self, scopes: Iterable[str], token: Token) -> None:
        with self._lock:
            for scope in scopes:
                self._tokens[scope] = token

    def discard(self, scope: str, token: Token | None = None) -> None:
        with self._lock:
            if token is None or self._tokens.get(scope) is token:
                self._tokens.pop(scope, None)


class Send(Protocol):
    """How the transport sends a token request: with its retries, time bound and TLS rules."""

    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: list[tuple[str, str]] | None = None,
        data: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
    ) -> requests.Response: ...


class Refused(Protocol):
    """Builds the error for a token server's 401/403 (it knows which credentials were sent)."""

    def __call__(self, response: requests.Response, repositories: str) -> AuthenticationError: ...


def fetch_token(
    send: Send,
    challenge: Challenge,
    scopes: Sequence[str],
    credential: Credential | None,
    *,
    registry: str,
    registry_scheme: str,
    reference: str,
    refused: Refused,
) -> tuple[Token, set[str]]:
    """Ask the token server for `scopes`; return the token and the scopes it grants.

    `refused(response, repositories)` builds the error for a 401/403 from the token server.
    Credentials go only to the realm the registry named, only over HTTPS when the registry is
    served over HTTPS, and never along a redirect to another host: a Basic header is dropped
    by the redirect rules of the session, and a refresh-token form is never re-sent at all.
    """
    while_resolving = f" (while resolving {reference})"
    realm = challenge.realm
    if not realm:
        raise AuthenticationError(
            f"registry {registry} asked for a Bearer token but named no realm to get it from"
            f"{while_resolving}",
            reference=reference,
            registry=registry,
        )
    realm_parts = urlsplit(realm)
    realm_scheme, realm_host = realm_parts.scheme.lower(), url_host(realm)
    if realm_scheme not in ("http", "https") or not realm_host:
        raise AuthenticationError(
            f"registry {registry} named an unusable token realm {quoted(realm, 80)}"
            f"{while_resolving}",
            reference=reference,
            registry=registry,
        )
    if registry_scheme == "https" and realm_scheme != "https":
        raise AuthenticationError(
            f"registry {registry} is served over HTTPS but sent its token realm over plain HTTP "
            f"({realm_host}); refusing to send credentials or trust tokens over an unencrypted "
            f"channel{while_resolving}",
            reference=reference,
            registry=registry,
        )
    service = challenge.params.get("service")
    if isinstance(credential, IdentityToken):
        form = {
            "grant_type": "refresh_token",
            "refresh_token": credential.token,
            "client_id": CLIENT_ID,
            "scope": " ".join(scopes),
            **({"service": service} if service else {}),
        }
        # A 307/308 redirect would re-send the form (and its refresh token) elsewhere.
        response = send("POST", realm, headers={}, data=form, allow_redirects=False)
    else:
        params: list[tuple[str, str]] = [("service", service)] if service else []
        params += [("scope", scope) for scope in scopes]
        headers = (
            {"Authorization": basic_header(credential)} if isinstance(credential, Basic) else {}
        )
        response = send("GET", realm, headers=headers, params=params)
    where = f"token server {realm_host} for registry {registry}"
    with response:
        if response.status_code in (401, 403):
            raise refused(response, _repositories(scopes))
        if response.status_code != 200:
            raise RegistryError(
                f"{where} answered HTTP {response.status_code}{while_resolving}",
                reference=reference,
                registry=registry,
                status=response.status_code,
            )
        body = _json_object(_read_limited(response, where, while_resolving, registry, reference))
    value = (body.get("token") or body.get("access_token")) if body else None
    if not isinstance(value, str) or not value:
        raise RegistryError(
            f"{where} returned no token (expected JSON with 'token' or 'access_token')"
            f"{while_resolving}",
            reference=reference,
            registry=registry,
        )
    if not _TOKEN_RE.fullmatch(value):
        raise RegistryError(
            f"{where} returned a token that is not printable ASCII without spaces, so it "
            f"cannot be sent as a header{while_resolving}",
            reference=reference,
            registry=registry,
        )
    expires_in = body.get("expires_in") if body else None
    lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 0.0
    lifetime = min(lifetime or DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN)
    expires_at = time.monotonic() + max(lifetime - _EXPIRY_MARGIN, lifetime / 2)
    token = Token(value, expires_at, grants_nothing=grants_nothing(value))
    return token, granted_scopes(value, scopes)


def _repositories(scopes: Sequence[str]) -> str:
    """`a/b` (or `a/b, c/d`) from `repository:a/b:pull` scopes, for messages."""
    names = [scope.split(":")[1] for scope in scopes if scope.count(":") >= 2]
    shown = ", ".join(names[:3])
    return f"{shown} and {len(names) - 3} more" if len(names) > 3 else shown


def url_host(url: str) -> str:
    """`host[:port]` of a URL for messages: never its user-info, which may hold a secret."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port is not None else host


def basic_header(credential: Basic) -> str:
    """`Basic base64(user:password)` in UTF-8, like docker. (requests' own helper encodes
    latin-1 and fails on anything else with an exception whose repr holds the password.)"""
    raw = f"{credential.username}:{credential.password}".encode()
    return f"Basic {base64.b64encode(raw).decode()}"


def _read_limited(
    response: requests.Response, where: str, while_resolving: str, registry: str, reference: str
) -> bytes:
    try:
        return read_capped(response, MAX_TOKEN_RESPONSE_BYTES)
    except BodyTooLargeError:
        raise RegistryError(
            f"{where} sent a token response over {MAX_TOKEN_RESPONSE_BYTES} bytes{while_resolving}",
            reference=reference,
            registry=registry,
        ) from None
    except requests.RequestException as exc:
        raise RegistryError(
            f"{where} broke off its answer{while_resolving}: {type(exc).__name__}",
            reference=reference,
            registry=registry,
        ) from None


def granted_scopes(token: str, requested: Sequence[str]) -> set[str]:
    """Requested pull scopes this token grants, read from a JWT `access` claim if it has one."""
    claims = _jwt_claims(token)
    access = claims.get("access") if claims else None
    if not isinstance(access, list):
        return set(requested)
    granted = set()
    for entry in access:
        if not isinstance(entry, dict) or entry.get("type") != "repository":
            continue
        actions = entry.get("actions")
        if isinstance(actions, list) and ("pull" in actions or "*" in actions):
            granted.add(pull_scope(str(entry.get("name"))))
    return granted & set(requested)


def grants_nothing(token: str) -> bool:
    """True for a JWT whose `access` claim is present and empty. Only the payload is decoded
    (no signature check: the claim is a hint to stop early, the registry still decides)."""
    claims = _jwt_claims(token)
    return claims is not None and claims.get("access") == []


def _jwt_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        return _json_object(payload)
    except ValueError:
        return None


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # hostile nesting raises RecursionError
        return None
    return value if isinstance(value, dict) else None
