"""The Keychain protocol and its two simplest forms: explicit credentials and a chain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

from image_digest.keychain.credentials import Basic, Credential
from image_digest.keychain.source import describe_keychain, keychain_label


@runtime_checkable
class Keychain(Protocol):
    """Finds the credential for a registry (e.g. `gcr.io`, `docker.io`), or None."""

    def credentials_for(self, registry: str) -> Credential | None: ...


# Optional, on the keychains of this package (see `source.py`): `label`, what a keychain
# consults, and `source_for(registry)`, where the credential it last returned came from.


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

    label = "explicit credentials"

    def credentials_for(self, registry: str) -> Credential | None:
        return self._credentials.get(_normalize_host(registry))

    def source_for(self, registry: str) -> str | None:
        known = _normalize_host(registry) in self._credentials
        return f"explicit credentials for {registry} (credentials=)" if known else None

    def __repr__(self) -> str:
        return f"StaticKeychain(registries={sorted(self._credentials)})"


class MultiKeychain:
    """Asks each keychain in order; the first that knows the registry wins."""

    def __init__(self, keychains: Iterable[Keychain]):
        self.keychains = tuple(keychains)
        self._answered: dict[str, Keychain] = {}

    def credentials_for(self, registry: str) -> Credential | None:
        for keychain in self.keychains:
            credential = keychain.credentials_for(registry)
            if credential is not None:
                self._answered[registry] = keychain
                return credential
        self._answered.pop(registry, None)
        return None

    def source_for(self, registry: str) -> str | None:
        """Where the credential last returned for `registry` came from (None: anonymous)."""
        keychain = self._answered.get(registry)
        return describe_keychain(keychain, registry) if keychain is not None else None

    @property
    def label(self) -> str:
        return ", ".join(keychain_label(keychain) for keychain in self.keychains)


def _normalize_host(host: str) -> str:
    host = host.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host
