"""The credential a transport sends to its registry, and when it asks for another.

The keychain is asked once per registry. After that only the keychain that issued the
credential is asked, and only for a short-lived one (a cloud token), or while a cloud
keychain for the registry has none (its fetch failed): that keychain answers from memory
until a renewal or retry is due (see `keychain/refreshing.py`), so no other source (a
docker credential helper, say) runs again per request. A credential without an expiry
(explicit, docker config, a helper's answer) is kept for the transport's life, and asked for
again only after the registry refused it (`renew`), once per credential held: a second
refusal of the same answer means the credential is not what is wrong.
"""

from __future__ import annotations

import base64
import dataclasses
import threading
from dataclasses import dataclass

from image_digest.keychain.chain import Keychain, forget, issuer_of, renews
from image_digest.keychain.credentials import (
    Basic,
    Credential,
    ExchangeToken,
    IdentityToken,
    short_lived,
)
from image_digest.keychain.source import describe_source
from image_digest.transport.secrets import Secrets


@dataclass(frozen=True)
class _Grant:
    """One answer: the credential (None: anonymous), who to ask for its renewal (None: the
    whole chain, and only after a refusal), and its source in words."""

    credential: Credential | None
    issuer: Keychain | None
    source: str
    confirmed: bool = False


class HeldCredential:
    """The credential for one registry, shared by the threads of its transport."""

    def __init__(self, registry: str, keychain: Keychain, secrets: Secrets) -> None:
        self.registry = registry
        self._keychain = keychain
        self._secrets = secrets
        self._grant: _Grant | None = None
        self._lock = threading.Lock()

    def current(self) -> Credential | None:
        """The credential to send now (a short-lived one as its issuer renews it)."""
        grant = self._grant
        if grant is None:
            with self._lock:
                if self._grant is None:
                    self._grant = self._ask_chain()
                grant = self._grant
        if grant.issuer is None:
            return grant.credential
        credential = grant.issuer.credentials_for(self.registry)
        if credential is not grant.credential:
            with self._lock:
                if self._grant is grant:
                    self._grant = self._answer(credential, grant.issuer, grant.issuer)
        return credential

    @property
    def source(self) -> str:
        """Which credentials are sent, in words without any secret."""
        self.current()
        assert self._grant is not None
        return self._grant.source

    @property
    def generation(self) -> object:
        """A marker of the credential held now, for `renew` to tell whether it changed."""
        return self._grant

    def renew(self, since: object) -> bool:
        """After the registry refused the credential held at `since` (a `generation`): ask the
        keychain again, its remembered answers dropped. True when a different credential is
        now held (by this call or another thread's), so one more attempt can succeed."""
        with self._lock:
            grant = self._grant
            if grant is None:
                return False
            if grant is not since:
                return not isinstance(since, _Grant) or grant.credential != since.credential
            if grant.confirmed:
                return False
            forget(self._keychain, self.registry)
            renewed = self._ask_chain()
            changed = renewed.credential != grant.credential
            self._grant = renewed if changed else dataclasses.replace(renewed, confirmed=True)
            return changed

    def _ask_chain(self) -> _Grant:
        credential = self._keychain.credentials_for(self.registry)
        issuer = None
        if credential is None or short_lived(credential):
            # Its issuer renews a short-lived one; a cloud keychain that has none now (its
            # fetch failed) tries again after a backoff: never anonymous for good.
            candidate = issuer_of(self._keychain, self.registry)
            if candidate is not None and (credential or renews(candidate, self.registry)):
                issuer = candidate
        return self._answer(credential, self._keychain, issuer)

    def _answer(
        self, credential: Credential | None, asked: Keychain, issuer: Keychain | None
    ) -> _Grant:
        """`credential` as a grant, its secrets known to the scrubber before it is sent."""
        if isinstance(credential, Basic):
            raw = f"{credential.username}:{credential.password}".encode()
            self._secrets.add(credential.password, base64.b64encode(raw).decode())
        elif isinstance(credential, IdentityToken | ExchangeToken):
            self._secrets.add(credential.token)
        return _Grant(credential, issuer, describe_source(asked, self.registry, credential))
