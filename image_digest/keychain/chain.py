"""The Keychain protocol and its two simplest forms: explicit credentials and a chain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

from image_digest.errors import printable
from image_digest.keychain.credentials import Basic, Credential, ExchangeToken, IdentityToken
from image_digest.keychain.source import describe_keychain, keychain_label


@runtime_checkable
class Keychain(Protocol):
    """Finds the credential for a registry (e.g. `gcr.io`, `docker.io`), or None."""

    def credentials_for(self, registry: str) -> Credential | None: ...


# Optional, on the keychains of this package (see `source.py`): `label`, what a keychain
# consults, and `source_for(registry)`, where the credential it last returned came from;
# `renews(registry)`, whether it renews short-lived credentials for `registry` itself (so it
# is asked again even while it has none: a cloud keychain whose fetch failed); `issuer_for`,
# the keychain inside a chain to ask again; `forget(registry)`, drop a remembered answer that
# the registry refused.


def renews(keychain: Keychain, registry: str) -> bool:
    """Whether `keychain` renews short-lived credentials for `registry` itself."""
    check = getattr(keychain, "renews", None)
    return bool(check(registry)) if callable(check) else False


def issuer_of(keychain: Keychain, registry: str) -> Keychain | None:
    """The keychain to ask again for `registry`, rather than the whole chain: the one that
    gave the last answer, or while none did, one that renews credentials for `registry`."""
    issuer_for = getattr(keychain, "issuer_for", None)
    if not callable(issuer_for):
        return keychain
    issuer = issuer_for(registry)
    return issuer if isinstance(issuer, Keychain) else None


def forget(keychain: Keychain, registry: str) -> None:
    """Have `keychain` (and every keychain in it) ask its sources again for `registry`."""
    drop = getattr(keychain, "forget", None)
    if callable(drop):
        drop(registry)


class StaticKeychain:
    """Credentials given explicitly by the caller, keyed by registry host.

    Values are `(username, password)` pairs or `Credential` objects. Docker Hub may be keyed as
    `docker.io`, `index.docker.io` or `registry-1.docker.io`.
    """

    def __init__(self, credentials: Mapping[str, tuple[str, str] | Credential]):
        if not isinstance(credentials, Mapping):
            raise TypeError(
                f"credentials takes a mapping of registry host to credential, like {_EXAMPLE}, "
                f"not {type(credentials).__name__}"
            )
        self._credentials: dict[str, Credential] = {}
        for host, value in credentials.items():
            if not isinstance(host, str):
                raise TypeError(f"credentials keys are registry hosts as strings, like {_EXAMPLE}")
            self._credentials[_normalize_host(host)] = _credential(host, value)

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

    def issuer_for(self, registry: str) -> Keychain | None:
        """The keychain that gave the credential last returned for `registry`, or while none
        did, the first that renews credentials for it."""
        keychain = self._answered.get(registry)
        if keychain is None:
            keychain = next((k for k in self.keychains if renews(k, registry)), None)
        return issuer_of(keychain, registry) if keychain is not None else None

    def renews(self, registry: str) -> bool:
        return any(renews(keychain, registry) for keychain in self.keychains)

    def forget(self, registry: str) -> None:
        for keychain in self.keychains:
            forget(keychain, registry)

    @property
    def label(self) -> str:
        return ", ".join(keychain_label(keychain) for keychain in self.keychains)


_EXAMPLE = '{"registry.example.com": ("user", "password")}'
_FORMS = (
    'a ("user", "password") tuple, Basic("user", "password") or IdentityToken("refresh-token") '
    "(both from image_digest)"
)


def _credential(host: str, value: object) -> Credential:
    """One credential, in an accepted form; anything else is a TypeError that shows them (and
    never the value, which may be a secret)."""
    if isinstance(value, Basic | IdentityToken | ExchangeToken):
        return value
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return Basic(value[0], value[1])
    what = f"a {type(value).__name__}"
    if isinstance(value, tuple | list):
        what += f" of {len(value)} items" if len(value) != 2 else " (not of two strings)"
    hint = (
        "; a token alone is a password: pair it with its user name, e.g. "
        '("oauth2accesstoken", token) for Google registries'
        if isinstance(value, str)
        else ""
    )
    raise TypeError(
        f"credentials[{printable(repr(host), 80)}] is {what}; give each registry {_FORMS}{hint}"
    )


def _normalize_host(host: str) -> str:
    host = host.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host
