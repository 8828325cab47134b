"""Credential values. Their repr never shows a secret, so they are safe in logs and tracebacks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Basic:
    """A username and password (or access token used as a password)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class IdentityToken:
    """An OAuth2 refresh token (docker config `identitytoken`), exchanged at the token server."""

    token: str = field(repr=False)


Credential = Basic | IdentityToken
"""What an authenticator hands to the transport; `None` means anonymous."""
