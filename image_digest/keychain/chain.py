"""The Keychain protocol and its two simplest forms: explicit credentials and a chain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

from image_digest.keychain.credentials import Basic, Credential


@runtime_checkable
class Keychain(Protocol):
    """Finds the credential for a registry (e.g. `gcr.io`, `docker.io`), or None."""

    def credentials_for(self, registry: str) -> Credential | None: ...


class StaticKeychain:
    """Credentials given explicitly by the caller, keyed by registry host.

    Values are `(username, password)` pairs or `Credential` objects. Docker Hub may be keyed as
    `docker.io`, `index.docker.io` or `registry-1.docker.io`.
    """

    def __init__(self, credentials: Mapping[str, tuple[str, str] | Credential]):
        self._credentials: dict[str, Credential] = {}
        for host, value in credentials.items():
            credential = Basic(*value) if isinstance(value, tuple) else value
            self._credentials[_normalize_host(host)] = credential

    def credentials_for(self, registry: str) -> Credential | None:
        return self._credentials.get(_normalize_host(registry))

    def __repr__(self) -> str:
        return f"StaticKeychain(registries={sorted(self._credentials)})"


class MultiKeychain:
    """Asks each keychain in order; the first that knows the registry wins."""

    def __init__(self, keychains: Iterable[Keychain]):
        self.keychains = tuple(keychains)

    def credentials_for(self, registry: str) -> Credential | None:
        for keychain in self.keychains:
            credential = keychain.credentials_for(registry)
            if credential is not None:
                return credential
        return None


def _normalize_host(host: str) -> str:
    host = host.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host
