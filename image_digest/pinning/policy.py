"""`PinningPolicy`: which digest a deployment gets, and the one place that records it.

Over a read-only `Lookup`: the lock file and its modes (`resolve` asks the registry and records,
`locked` answers from the lock alone, `fallback` uses the lock when the registry fails),
`min_age` (keep the locked digest while a new one is too young), mirrors (which name a pin is
deployed from; a mirror whose digest differs from its upstream's is warned about), signature
verification (a digest is pinned only when a cosign signature by the key verifies for it: read
through the lookup for a registry's digest, again offline from the lock's record for a lock's
digest) and recording, signature included. Recording is one `LockFile.record` per call or
batch, concurrent calls coalesced (`recorder`); `deferred()` holds it until `commit()`, so a
command can write the lock only once everything else succeeded.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from image_digest.errors import DigestError, LockError, RegistryError
from image_digest.lookup import Found, Lookup
from image_digest.lookup.flight import SingleFlight
from image_digest.lookup.registries import resolved, spellings
from image_digest.names.mirrors import DeployFrom
from image_digest.names.platform import Platform, parse_platform
from image_digest.names.reference import Reference
from image_digest.names.resolved import ResolvedImage, Source
from image_digest.pinning.lockfile import LockFile, LockPin
from image_digest.pinning.modes import LOCK_ENV, Mode
from image_digest.pinning.recorder import Recorder
from image_digest.transport.deadline import Deadline

if TYPE_CHECKING:
    from image_digest.pinning.verify_key import VerifyOption
    from image_digest.signatures import Verification, VerificationKey

#: Lock fallbacks are logged here at WARNING (besides `ResolvedImage.warning`). The library
#: adds only a NullHandler: applications configure logging to see them.
logger = logging.getLogger("image_digest")


@dataclass(frozen=True)
class Pin:
    """A lookup's answer under the policy, independent of how the user spelled the reference:
    what was found, where it came from, and the warning to pass on when that was a fallback."""

    found: Found
    source: Source = "registry"
    warning: str | None = None
    held_back: str | None = None
    mirror: Reference | None = None
    verification: Verification | None = None


class PinningPolicy:
    """Pins references with `lookup` under a mode, a lock file and `min_age`; thread-safe.

    `keep_tag` writes readable pins (`repo:tag@sha256:...`); `deploy_from="mirror"` names a
    mirrored reference's mirror in its pin (the lock records the program's reference)."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        lock: LockFile | None,
        mode: Mode,
        min_age: timedelta | None,
        clock: Callable[[], datetime],
        keep_tag: bool = False,
        deploy_from: DeployFrom = "program",
        verify: VerifyOption = None,
    ):
        if mode in ("locked", "fallback") and lock is None:
            raise LockError(f"mode {mode!r} needs a lock file: pass lock=PATH or set {LOCK_ENV}")
        self.lookup = lookup
        self.lock = lock
        self.mode = mode
        self.min_age = min_age
        self.clock = clock
        self.keep_tag = keep_tag
        self.deploy_from = deploy_from
        self._pins: SingleFlight[Pin] = SingleFlight()
        self._recorder = Recorder(lock) if lock is not None else None
        self._pending: list[LockPin] = []
        self._deferred = 0
        self._lock = threading.Lock()
        self.verify_option = verify
        self._verify_key: VerificationKey | Literal[False] | None = False  # False: not yet read
        if verify is not None:
            self.verify_key()  # a bad key fails here, before any request

    def verify_key(self) -> VerificationKey | None:
        """The key digests are verified with (`verify=`, else the lock's `settings.verify_key`),
        or None: read once."""
        from image_digest.pinning.verify_key import verification_key

        with self._lock:
            if self._verify_key is False:
                self._verify_key = verification_key(self.verify_option, self.lock)
            return self._verify_key

    # -- pinning ------------------------------------------------------------------------------

    def pin_one(self, ref: str, reference: Reference, wanted: Platform | None) -> ResolvedImage:
        """Pin one reference and record it (or hold it for `commit`, when deferred)."""
        pin = self.pin(reference, wanted, ref)
        self.record([(reference, wanted, pin)])
        return self._result(ref, reference, pin)

    def pin_each(
        self, refs: Iterable[str], platform: str | None = None, *, fetch_manifests: bool = False
    ) -> dict[str, ResolvedImage | DigestError]:
        """Each reference's result or error, concurrently; recorded in one write."""
        refs = list(refs)
        wanted = parse_platform(platform) if platform is not None else None
        groups, outcome = spellings(refs)

        def work(reference: Reference, batch: Deadline) -> Pin:
            return self.pin(reference, wanted, groups[reference][0], fetch_manifests, batch)

        remote = [r for r in groups if self._remote(r, wanted)]
        pins = self.lookup.run(work, groups, remote)
        self.record((r, wanted, p) for r, p in pins.items() if isinstance(p, Pin))
        for reference, pin in pins.items():
            for ref in groups[reference]:
                outcome[ref] = (
                    pin if isinstance(pin, DigestError) else self._result(ref, reference, pin)
                )
        return {ref: outcome[ref] for ref in dict.fromkeys(refs) if ref in outcome}

    def pin(
        self,
        reference: Reference,
        wanted: Platform | None,
        text: str,
        fetch: bool = False,
        within: Deadline | None = None,
    ) -> Pin:
        """Once per (reference, platform), shared with concurrent callers and then kept, so a
        fallback or a held-back digest is the same answer for every resource."""
        key = (str(reference), str(wanted) if wanted else None)
        return self._pins.get(
            key,
            lambda: self._verified(
                reference,
                wanted,
                text,
                self._decide(reference, wanted, text, fetch, within),
                within,
            ),
        )

    def clear_cache(self) -> None:
        self._pins.clear()
        self.lookup.clear_cache()

    def _remote(self, reference: Reference, wanted: Platform | None) -> bool:
        """Whether pinning `reference` may ask a registry (else it runs without a pool)."""
        if self.mode == "locked":
            return False
        if self._pins.known((str(reference), str(wanted) if wanted else None)):
            return False
        if reference.digest is None:
            return True
        try:
            return self.verify_key() is not None  # a digest in the program is verified online
        except DigestError:
            return True  # a bad key is each reference's error, when it is pinned

    def _decide(
        self,
        reference: Reference,
        wanted: Platform | None,
        text: str,
        fetch: bool,
        within: Deadline | None,
    ) -> Pin:
        if reference.digest is not None:
            return Pin(Found(reference.digest, None, None), source="reference")
        if self.mode == "locked":
            return self._from_lock(reference, wanted, text)
        try:
            found = self.lookup.find(reference, wanted, text, fetch=fetch, within=within)
        except RegistryError as exc:
            if self.mode != "fallback":
                raise
            return self._fall_back(reference, wanted, text, exc)
        pin = Pin(found)
        if (mirror := self.lookup.mirrors.route(reference)) is not None:
            pin = self._against_upstream(reference, mirror, wanted, text, found)
        return pin if self.min_age is None else self._hold_back(reference, wanted, text, pin)

    def _against_upstream(
        self,
        reference: Reference,
        mirror: Reference,
        wanted: Platform | None,
        text: str,
        found: Found,
    ) -> Pin:
        """The mirror's answer; with a warning naming both digests when the upstream (asked
        once, without retries) answers another. An upstream that does not answer is fine."""
        from image_digest.names.mirrors import stale_message

        upstream = self.lookup.upstream(reference, wanted, text)
        if upstream is None or upstream.digest == found.digest:
            return Pin(found, mirror=mirror)
        warning = stale_message(text, mirror, reference, found.digest, upstream.digest)
        logger.warning("%s", warning)
        return Pin(found, warning=warning, mirror=mirror)

    def _verified(
        self,
        reference: Reference,
        wanted: Platform | None,
        text: str,
        pin: Pin,
        within: Deadline | None,
    ) -> Pin:
        """`pin` with the signature that verifies its digest, or a `SignatureError`: never an
        unverified pin.

        A lock's digest (mode locked, a fallback) must carry a recorded signature by this key
        that verifies again, offline; a held-back one too, else it is verified online. Any
        other digest is verified against its registry, through the read-only lookup."""
        key = self.verify_key()
        if key is None:
            return pin
        from image_digest.signatures import UnsignedImageError, from_record

        digest = pin.found.digest
        if pin.source == "lock" and self.lock is not None:
            entry = self.lock.get(str(reference), str(wanted) if wanted else None)
            record = entry.signature if entry is not None and entry.digest == digest else None
            held = pin.held_back is not None
            if not held or (record and record.get("key") == key.fingerprint):
                where = f"lock file {self.lock.path}"
                verified = from_record(record, key, reference, text, digest, where)
                return replace(pin, verification=verified)
        if self.mode == "locked":
            raise UnsignedImageError(
                f"refusing to pin {text}: its digest is written in the program, and mode "
                "'locked' makes no registry requests, so its signature cannot be verified; "
                "write the tag instead, so the lock records the signature, or use mode resolve",
                reference=text,
                digest=digest,
                key=key.fingerprint,
            )
        verified = self.lookup.signature(reference, text, digest, key, within)
        return replace(pin, verification=verified)

    def _hold_back(self, reference: Reference, wanted: Platform | None, text: str, pin: Pin) -> Pin:
        """`min_age`: keep the locked digest while the tag's new one is too young."""
        from image_digest.pinning.holdback import age_of, held_message, unheld_message

        assert self.min_age is not None
        platform = str(wanted) if wanted else None
        lock = self.lock
        entry = lock.get(str(reference), platform) if lock else None
        found = pin.found
        if entry is not None and entry.digest == found.digest:
            return pin
        if found.created is None:
            created = self.lookup.details(pin.mirror or reference, found, text).created
            found = replace(found, created=created)
        now = self.clock()

        def first_seen() -> str | None:
            if lock is None or entry is None:
                return None
            return lock.hold(str(reference), platform, found.digest)

        age = age_of(found.created, now, first_seen)
        if not age.young(now, self.min_age):
            return replace(pin, found=found)
        if entry is None:
            why = (
                f"lock file {lock.path} has no entry for it"
                if lock is not None
                else "no lock file is set (lock=, --lock or IMAGE_DIGEST_LOCK)"
            )
            warning = unheld_message(text, found.digest, why, age, self.min_age, now)
            logger.warning("%s", warning)
            return Pin(found, "registry", warning, mirror=pin.mirror)
        assert lock is not None
        warning = held_message(text, found.digest, entry.digest, lock.path, age, self.min_age, now)
        logger.warning("%s", warning)
        kept = Found(entry.digest, entry.media_type, entry.platform)
        return Pin(kept, "lock", warning, held_back=found.digest)

    def _fall_back(
        self, reference: Reference, wanted: Platform | None, text: str, error: RegistryError
    ) -> Pin:
        """The lock's entry instead of a failing registry, loudly; else the registry's error."""
        assert self.lock is not None
        try:
            entry = self.lock.get(str(reference), str(wanted) if wanted else None)
        except LockError as lock_error:
            raise LockError(
                f"{error} -- and mode 'fallback' cannot use the lock instead: {lock_error}",
                reference=text,
            ) from error
        if entry is None:
            error.add_note(
                f"mode 'fallback' found no entry for {reference}"
                f"{' (' + str(wanted) + ')' if wanted else ''} in lock file {self.lock.path} "
                "to fall back to"
            )
            raise error
        since = f" (locked since {entry.resolved_at})" if entry.resolved_at else ""
        warning = (
            f"registry failure for {text}, so using the digest from lock file {self.lock.path}"
            f": {entry.digest}{since}; it may be stale if the tag has moved since. "
            f"The registry said: {error}"
        )
        logger.warning("%s", warning)
        return Pin(Found(entry.digest, entry.media_type, entry.platform), "lock", warning)

    def _from_lock(self, reference: Reference, wanted: Platform | None, text: str) -> Pin:
        assert self.lock is not None
        entry = self.lock.get(str(reference), str(wanted) if wanted else None)
        if entry is None:
            flag = f" --platform {wanted}" if wanted else ""
            missing = "" if self.lock.exists() else " (the file does not exist)"
            canonical = [str(reference)] if str(reference) != text else []
            detail = ", ".join(canonical + ([f"platform {wanted}"] if wanted else []))
            raise LockError(
                f"{text}{f' ({detail})' if detail else ''} is not in lock file "
                f"{self.lock.path}{missing}, and mode {self.mode!r} makes no registry requests; "
                f"add it with: image-digest lock --lock {self.lock.path}{flag} {text}",
                reference=text,
            )
        return Pin(Found(entry.digest, entry.media_type, entry.platform), "lock")

    def _result(self, text: str, reference: Reference, pin: Pin) -> ResolvedImage:
        """`text`'s result, named as deployed: the program's reference, or its mirror's."""
        deployed = reference
        if self.deploy_from == "mirror":
            deployed = self.lookup.mirrors.route(reference) or reference
        return resolved(
            text,
            deployed,
            pin.found,
            pin.source,
            pin.warning,
            pin.held_back,
            keep_tag=self.keep_tag,
            mirror=pin.mirror,
            verified_by=pin.verification.key if pin.verification else None,
        )

    # -- recording ----------------------------------------------------------------------------

    def record(self, pins: Iterable[tuple[Reference, Platform | None, Pin]]) -> None:
        """Write the registry's answers into the lock (once), or hold them while deferred."""
        if self.lock is None or self.mode == "locked":
            return
        fresh = [
            LockPin(
                str(r),
                str(w) if w else None,
                p.found.digest,
                p.found.media_type,
                # Provenance when labels were read; `created` alone (min_age) is not recorded.
                *_provenance(p.found),
                signature=p.verification.to_json() if p.verification else None,
            )
            for r, w, p in pins
            if p.source == "registry"
        ]
        with self._lock:
            if self._deferred:
                self._pending.extend(fresh)
                return
        assert self._recorder is not None
        self._recorder.record(fresh)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold every recording until `commit()`; whatever is not committed when the block
        ends (an error, an early return) is dropped: the lock is left as it was."""
        with self._lock:
            self._deferred += 1
        try:
            yield
        finally:
            with self._lock:
                self._deferred -= 1
                if not self._deferred:
                    self._pending.clear()

    def commit(self) -> bool:
        """Write the held pins in one `LockFile.record`; returns whether the file changed."""
        with self._lock:
            pending, self._pending = self._pending, []
        if self.lock is None or not pending:
            return False
        return self.lock.record(pending)


def _provenance(found: Found) -> tuple[str | None, str | None, str | None, str | None]:
    from image_digest.names.provenance import Provenance

    if found.labels is None:
        return (None, None, None, None)
    known = Provenance.of(found.labels, found.created)
    return (known.revision, known.source, known.version, known.created)
