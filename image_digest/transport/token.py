"""Bearer tokens from a registry's token server (the Docker token / OAuth2 protocols).

Tokens are cached per repository scope until shortly before they expire. Several repository
scopes can be asked for in one request; when the token is a JWT carrying an `access` claim we
only trust it for the repositories it actually grants, so a server that refuses multi-scope
tokens costs one request per repository, not a failed request per repository.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from image_digest.errors import AuthenticationError, RegistryError
from image_digest.keychain.credentials import Basic, Credential, IdentityToken
from image_digest.transport.challenge import Challenge

DEFAULT_EXPIRES_IN = 60.0
_EXPIRY_MARGIN = 10.0
CLIENT_ID = "image-digest"


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float

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


def fetch_token(
    session: requests.Session,
    challenge: Challenge,
    scopes: Sequence[str],
    credential: Credential | None,
    *,
    registry: str,
    registry_scheme: str,
    timeout: tuple[float, float],
) -> tuple[Token, set[str]]:
    """Ask the token server for `scopes`; return the token and the scopes it grants."""
    realm = challenge.realm
    if not realm:
        raise AuthenticationError(
            f"registry {registry} asked for a Bearer token but named no realm to get it from",
            registry=registry,
        )
    realm_scheme = urlsplit(realm).scheme.lower()
    if realm_scheme not in ("http", "https"):
        raise AuthenticationError(
            f"registry {registry} named an unusable token realm scheme {realm_scheme!r}",
            registry=registry,
        )
    if registry_scheme == "https" and realm_scheme != "https":
        raise AuthenticationError(
            f"registry {registry} is served over HTTPS but sent its token realm over plain HTTP; "
            "refusing to send credentials or trust tokens over an unencrypted channel",
            registry=registry,
        )
    service = challenge.params.get("service")
    realm_host = urlsplit(realm).netloc
    try:
        if isinstance(credential, IdentityToken):
            form = {
                "grant_type": "refresh_token",
                "refresh_token": credential.token,
                "client_id": CLIENT_ID,
                "scope": " ".join(scopes),
                **({"service": service} if service else {}),
            }
            response = session.post(realm, data=form, timeout=timeout)
        else:
            params: list[tuple[str, str]] = [("service", service)] if service else []
            params += [("scope", scope) for scope in scopes]
            auth = (
                (credential.username, credential.password)
                if isinstance(credential, Basic)
                else None
            )
            response = session.get(realm, params=params, auth=auth, timeout=timeout)
    except requests.RequestException as exc:
        raise RegistryError(
            f"token server {realm_host} for registry {registry} is unreachable: "
            f"{type(exc).__name__}",
            registry=registry,
        ) from None
    with response:
        if response.status_code in (401, 403):
            who = "the configured credentials" if credential else "anonymous access"
            raise AuthenticationError(
                f"token server {realm_host} for registry {registry} refused {who} "
                f"(HTTP {response.status_code}); check your docker login or explicit credentials",
                registry=registry,
            )
        if response.status_code != 200:
            raise RegistryError(
                f"token server {realm_host} for registry {registry} answered HTTP "
                f"{response.status_code}",
                registry=registry,
                status=response.status_code,
            )
        body = _json_object(response.content[:1_048_576])
    value = body.get("token") or body.get("access_token") if body else None
    if not isinstance(value, str) or not value:
        raise RegistryError(
            f"token server {realm_host} for registry {registry} returned no token "
            "(expected JSON with 'token' or 'access_token')",
            registry=registry,
        )
    expires_in = body.get("expires_in") if body else None
    lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 0.0
    lifetime = lifetime or DEFAULT_EXPIRES_IN
    token = Token(value, time.monotonic() + max(lifetime - _EXPIRY_MARGIN, lifetime / 2))
    return token, granted_scopes(value, scopes)


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
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
