"""One lifetime for every short-lived credential (Google ADC, ECR, ACR): a cache that renews
each credential ahead of its expiry, once at a time, and retries with backoff after a failure.

A source without it either fetches on every request, keeps a token past its expiry, or gives
up for the rest of the process after one failed renewal. Here every credential has a known
expiry (a source that names none gets `default_lifetime`); it is renewed `renew_ahead`
seconds before that (or halfway, for a short one); one renewal per key runs at a time, and
callers wait for it unless the credential in hand is still valid; a failed renewal keeps the
valid credential and is tried again after a delay that doubles up to `max_retry`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from image_digest.keychain.credentials import Credential

Key = TypeVar("Key", bound=Hashable)

#: After a first failure, ask again this long later; the delay doubles up to `MAX_RETRY`.
FIRST_RETRY = 60.0
MAX_RETRY = 15 * 60.0


@dataclass
class _Slot:
    """One key's credential and when to fetch again (renewal or retry after a failure)."""

    credential: Credential | None = None
    due_at: float = 0.0
    failures: int = 0
    renewing: threading.Lock = field(default_factory=threading.Lock)


class RefreshingCredentials(Generic[Key]):
    """Credentials per key (a region, a registry, an identity), each fetched once per lifetime.

    `fetch(key)` returns a fresh credential or None on failure (it logs why); it runs with
    no lock of other keys held. `clock` gives seconds since the epoch, as `expires_at` does.
    """

    def __init__(
        self,
        fetch: Callable[[Key], Credential | None],
        *,
        renew_ahead: float,
        default_lifetime: float,
        clock: Callable[[], float] = time.time,
        first_retry: float = FIRST_RETRY,
        max_retry: float = MAX_RETRY,
    ) -> None:
        self._fetch = fetch
        self._renew_ahead = renew_ahead
        self._default_lifetime = default_lifetime
        self._clock = clock
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._slots: dict[Key, _Slot] = {}
        self._slots_lock = threading.Lock()

    def get(self, key: Key) -> Credential | None:
        """The credential for `key`: from memory until it is due, else renewed (one caller
        renews, the others wait for it or keep using the still-valid one)."""
        slot = self._slot(key)
        now = self._clock()
        if now < slot.due_at:
            return _valid(slot.credential, now)
        if not slot.renewing.acquire(blocking=False):
            in_hand = _valid(slot.credential, now)
            if in_hand is not None:
                return in_hand
            slot.renewing.acquire()
        try:
            if self._clock() < slot.due_at:  # renewed (or failed) while we waited
                return _valid(slot.credential, self._clock())
            return self._renew(key, slot)
        finally:
            slot.renewing.release()

    def holds(self, key: Key) -> bool:
        """Whether a credential was fetched for `key` and is still valid."""
        slot = self._slots.get(key)
        return slot is not None and _valid(slot.credential, self._clock()) is not None

    def asked(self) -> list[Key]:
        """The keys asked for so far."""
        with self._slots_lock:
            return list(self._slots)

    def _slot(self, key: Key) -> _Slot:
        slot = self._slots.get(key)
        if slot is None:
            with self._slots_lock:
                slot = self._slots.setdefault(key, _Slot())
        return slot

    def _renew(self, key: Key, slot: _Slot) -> Credential | None:
        fresh = self._fetch(key)
        now = self._clock()
        if fresh is not None and fresh.expires_at is None:
            fresh = dataclasses.replace(fresh, expires_at=now + self._default_lifetime)
        if fresh is None or fresh.expires_at is None or fresh.expires_at <= now:
            # Never "anonymous forever": keep a still-valid credential, and try again later,
            # before that credential expires.
            slot.failures += 1
            delay = min(self._first_retry * 2 ** (slot.failures - 1), self._max_retry)
            slot.credential = _valid(slot.credential, now)
            expiry = slot.credential.expires_at if slot.credential is not None else None
            slot.due_at = min(now + delay, expiry if expiry is not None else now + delay)
            return slot.credential
        lifetime = fresh.expires_at - now
        slot.credential, slot.failures = fresh, 0
        slot.due_at = fresh.expires_at - min(self._renew_ahead, lifetime / 2)
        return fresh


def _valid(credential: Credential | None, now: float) -> Credential | None:
    """`credential` while it has not expired, else None."""
    if credential is None or credential.expires_at is None or now < credential.expires_at:
        return credential
    return None
