"""Credential values. Their repr never shows a secret, so they are safe in logs and tracebacks.

`expires_at` (seconds since the epoch, by the issuing keychain's clock) marks a short-lived
credential from a cloud keychain: the transport asks that keychain (only) again before each
use, and it answers from memory until the renewal is due (see `refreshing.py`), so a long run
outlives the credential without fetching one per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Basic:
    """A username and password (or access token used as a password)."""

    username: str
    password: str = field(repr=False)
    expires_at: float | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class IdentityToken:
    """An OAuth2 refresh token (docker config `identitytoken`), exchanged at the token server."""

    token: str = field(repr=False)
    expires_at: float | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ExchangeToken:
    """A Microsoft Entra access token for an Azure Container Registry: the registry's
    `/oauth2/exchange` turns it into a refresh token, then used like an `IdentityToken`."""

    token: str = field(repr=False)
    tenant: str | None = None
    expires_at: float | None = field(default=None, repr=False, compare=False)


Credential = Basic | IdentityToken | ExchangeToken
"""What an authenticator hands to the transport; `None` means anonymous."""


def short_lived(credential: Credential | None) -> bool:
    """Whether the keychain must be asked again before `credential` is used again."""
    return credential is not None and credential.expires_at is not None
