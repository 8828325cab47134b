"""`Resolver`: the facade users call. Cache, de-duplication, batches, lock file and policy.

One `RegistryTransport` per registry lives as long as the resolver, so pings, challenges,
tokens and TCP connections are paid once per registry. Identical lookups in flight at the
same time share one request, and results are cached for the resolver's lifetime (a program
run), so every resource in a stack sees the same digest for the same tag.

The HTTP stack (requests, urllib3: most of `import image_digest`'s cost) is imported on first
use, so programs and `image-digest --help` that never reach a registry do not pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from image_digest.age import parse_duration, utc_now
from image_digest.errors import (
    BatchResolutionError,
    DigestError,
    LockError,
    NotFoundError,
    RegistryError,
)
from image_digest.keychain import Credential, Keychain, default_keychain
from image_digest.lockfile import LockFile, LockPin
from image_digest.platform import (
    Platform,
    parse_platform,
)
from image_digest.reference import Reference, parse
from image_digest.resolved import ResolvedImage, Source
from image_digest.transport.options import TransportOptions, host_set
from image_digest.transport.tls import check_ca_bundle

if TYPE_CHECKING:
    from image_digest.drift import Finding
    from image_digest.lookup import Found, ManifestLookup
    from image_digest.registry import RegistryClient
    from image_digest.signatures import Verification, VerificationKey, VerifyOption
    from image_digest.transport.http import RegistryTransport

Mode = Literal["resolve", "locked", "fallback"]
MODES: tuple[Mode, ...] = ("resolve", "locked", "fallback")
MODE_ENV = "IMAGE_DIGEST_MODE"
LOCK_ENV = "IMAGE_DIGEST_LOCK"
DEFAULT_MAX_WORKERS = 16
#: Lock fallbacks are logged here at WARNING (besides `ResolvedImage.warning`). The library
#: adds only a NullHandler: applications configure logging to see them.
logger = logging.getLogger("image_digest")


@dataclass(frozen=True)
class _Pin:
    """A lookup's answer, independent of how the user spelled the reference: what was found,
    where it came from, and the warning to pass on when that was a fallback."""

    found: Found
    source: Source = "registry"
    warning: str | None = None
    held_back: str | None = None
    verification: Verification | None = None


class Resolver:
    """Resolves image references to digests; thread-safe; reuse one per program run.

    `credentials` maps registry hosts to `(username, password)`; they are tried before the
    docker config and Google ADC (or pass a whole `keychain`). `mode` and `lock` default to
    the `IMAGE_DIGEST_MODE` and `IMAGE_DIGEST_LOCK` environment variables (`lock=""` means no
    lock file, whatever the environment says):

    - `resolve` (default): always ask the registry; record each answer in the lock, if any.
    - `locked`: answer from the lock only, with no network at all; a reference missing from
      it is a `LockError` naming it and the `image-digest lock` command that adds it.
    - `fallback`: ask the registry (and record, like `resolve`); when the registry is
      unreachable or failing (`RegistryError`), use the lock's entry, set
      `ResolvedImage.warning` and log it at WARNING on the `image_digest` logger. Not found
      and authentication errors never fall back, and nothing ever falls back to the tag.

    `with_labels=True` also reads each image's config labels (one or two more requests per
    reference), for tags the registry answered; digests taken from the lock or from the
    reference itself carry no labels (use `inspect` for those).

    Timeouts, retries and TLS take their defaults from `TransportOptions` (see there); pass
    a whole `options`, or override single fields by name (`retries=0`, `total_timeout=30`).

    `min_age` (`"6h"`, `"2d"`, a `timedelta`): a tag whose new digest is younger than that
    (config `created`, else when the lock first saw it) resolves to the digest already in
    the lock, with a `warning` naming the held-back digest and when it becomes eligible;
    with no locked digest to keep, it resolves normally and the warning says so. Only a
    changed digest costs anything (its config: one or two requests). `clock` (a function
    returning an aware `datetime`) replaces the system clock for `min_age` and lock dates.

    `verify` (a PEM public key's path, or an `image_digest.signatures.VerificationKey`; by
    default the lock's `settings.verify_key`): every digest is pinned only when a cosign
    signature by that key verifies for it (see `image_digest.signatures`), else a
    `SignatureError` says why; never an unverified pin instead. A digest from the registry (or
    written in the program) is verified there and the lock records the signature; a digest
    from the lock (mode `locked`, a `fallback`) only if the lock records a signature by the
    same key that verifies again, offline. `ResolvedImage.verified_by` names the key.
    """

    def __init__(
        self,
        *,
        credentials: Mapping[str, tuple[str, str] | Credential] | None = None,
        keychain: Keychain | None = None,
        insecure_registries: Iterable[str] = (),
        ca_bundle: str | None = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        lock: str | os.PathLike[str] | None = None,
        mode: str | None = None,
        with_labels: bool = False,
        min_age: str | timedelta | None = None,
        clock: Callable[[], datetime] | None = None,
        verify: VerifyOption = None,
        options: TransportOptions | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        total_timeout: float | None = None,
        retries: int | None = None,
        backoff_factor: float | None = None,
        backoff_jitter: float | None = None,
        max_retry_after: float | None = None,
        secure_registries: Iterable[str] | None = None,
        user_agent: str | None = None,
    ):
        if not isinstance(max_workers, int) or isinstance(max_workers, bool):
            raise TypeError(
                f"max_workers takes an integer, like max_workers=16, not {max_workers!r}"
            )
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        base = options or TransportOptions()
        given: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "total_timeout": total_timeout,
            "retries": retries,
            "backoff_factor": backoff_factor,
            "backoff_jitter": backoff_jitter,
            "max_retry_after": max_retry_after,
            "secure_registries": secure_registries,
            "user_agent": user_agent,
        }
        overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        insecure = host_set("insecure_registries", insecure_registries)
        self.options = replace(
            base,
            insecure_registries=base.insecure_registries | insecure,
            ca_bundle=ca_bundle if ca_bundle is not None else base.ca_bundle,
            pool_size=max(base.pool_size, max_workers),
            **overrides,
        )
        check_ca_bundle(self.options)
        self.max_workers = max_workers
        self.with_labels = with_labels
        self.min_age = parse_duration(min_age) if min_age is not None else None
        self.clock = clock or utc_now
        self.mode = _mode(mode)
        lock_path = lock if lock is not None else os.environ.get(LOCK_ENV) or None
        self.lock = LockFile(lock_path, clock=self.clock) if lock_path else None
        if self.mode in ("locked", "fallback") and self.lock is None:
            raise LockError(
                f"mode {self.mode!r} needs a lock file: pass lock=PATH or set {LOCK_ENV}"
            )
        self._verify_option = verify
        self._verify_key: VerificationKey | Literal[False] | None = False  # False: not yet read
        self._keychain = keychain or default_keychain(credentials)
        self._transports: dict[str, RegistryTransport] = {}
        self._pins: dict[tuple[str, str | None], Future[_Pin]] = {}
        self._manifests: ManifestLookup | None = None
        self._lock = threading.Lock()
        if verify is not None:
            self.verify_key()  # a bad key fails here, before any request

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, ref: str, platform: str | None = None) -> ResolvedImage:
        """Pin one reference (see `resolve_many` for many)."""
        reference = parse(ref)
        wanted = parse_platform(platform) if platform is not None else None
        pin = self._pin(reference, wanted, ref)
        self._record([(reference, wanted, pin)])
        return _resolved(ref, reference, pin)

    def resolve_many(
        self, refs: Iterable[str], platform: str | None = None
    ) -> dict[str, ResolvedImage]:
        """Pin many references concurrently; raise `BatchResolutionError` if any failed.

        The error carries every failure (`.errors`) and every success (`.results`).
        """
        outcome = self.resolve_each(refs, platform)
        errors = {ref: value for ref, value in outcome.items() if isinstance(value, DigestError)}
        results = {ref: v for ref, v in outcome.items() if isinstance(v, ResolvedImage)}
        if errors:
            raise BatchResolutionError(errors, results)
        return results

    def resolve_each(
        self, refs: Iterable[str], platform: str | None = None, *, fetch_manifests: bool = False
    ) -> dict[str, ResolvedImage | DigestError]:
        """Like `resolve_many`, but returns each reference's result or error; never raises
        for a single reference.

        `fetch_manifests` GETs each tag's manifest instead of a HEAD (the same number of
        requests, but Docker Hub counts a GET as a pull), so that `inspect` of a digest that
        turned out to be new costs only its config blob: one request.
        """
        wanted = parse_platform(platform) if platform is not None else None
        outcome: dict[str, ResolvedImage | DigestError] = {}
        groups: dict[Reference, list[str]] = defaultdict(list)
        for ref in dict.fromkeys(refs):
            try:
                groups[parse(ref)].append(ref)
            except DigestError as exc:
                outcome[ref] = exc
        network = [r for r in groups if r.digest is None and self.mode != "locked"]
        pins: dict[Reference, _Pin | DigestError] = {}
        workers = min(self.max_workers, max(1, len(network)))
        with ThreadPoolExecutor(workers, thread_name_prefix="image-digest") as pool:
            self._prefetch_tokens(pool, network)
            futures = {
                r: pool.submit(self._pin, r, wanted, groups[r][0], fetch_manifests) for r in groups
            }
            for reference, future in futures.items():
                try:
                    pins[reference] = future.result()
                except DigestError as exc:
                    pins[reference] = exc
        self._record((r, wanted, p) for r, p in pins.items() if isinstance(p, _Pin))
        for reference, spellings in groups.items():
            pin = pins[reference]
            for ref in spellings:
                outcome[ref] = (
                    pin if isinstance(pin, DigestError) else _resolved(ref, reference, pin)
                )
        return {ref: outcome[ref] for ref in dict.fromkeys(refs) if ref in outcome}

    def inspect(self, ref: str, platform: str | None = None) -> ResolvedImage:
        """Ask the registry about `ref`, a tag or a digest, and read its labels.

        Unlike `resolve`, a reference that carries a digest is looked up too (so labels of a
        pinned or locked digest can be read, e.g. by `image-digest check`), the lock is
        neither read nor written, and the answer is not cached. Raises `LockError` in mode
        `locked`, which makes no registry requests; `NotFoundError` when the digest is gone.
        """
        if self.mode == "locked":
            raise LockError(
                f"cannot inspect {ref}: mode 'locked' makes no registry requests; use mode "
                f"'resolve' or 'fallback' (or unset {MODE_ENV})",
                reference=ref,
            )
        from image_digest.lookup import Found

        reference = parse(ref)
        wanted = parse_platform(platform) if platform is not None else None
        if reference.digest is not None and wanted is None:
            # A digest names fixed content: no HEAD, and a manifest this resolver already
            # fetched is not fetched again, so only the config blob is asked for.
            found = self._details(reference, Found(reference.digest, None, None), ref)
            return _resolved(ref, reference, _Pin(found))
        fetch = reference.digest is not None
        pin = self._from_registry(reference, wanted, ref, with_labels=True, fetch=fetch)
        return _resolved(ref, reference, pin)

    def exists(self, ref: str) -> bool:
        """Whether the registry still has the manifest `ref` (which must carry a digest) names:
        one HEAD by digest, never by tag. False when it answers not found (deleted); raises
        `AuthenticationError` when these credentials cannot see it, `RegistryError` when it
        fails."""
        reference = parse(ref)
        if reference.digest is None:
            raise ValueError(
                f"exists() needs a reference with a digest (repo@sha256:...), not {ref}"
            )
        from image_digest.transport.deadline import Deadline

        client = self._client(reference)
        with Deadline(self.options.total_timeout) as deadline:
            try:
                client.descriptor(ref, reference.repository, reference.digest, deadline)
            except NotFoundError:
                return False
            except DigestError as exc:
                client.transport.scrub(exc)
                raise
        return True

    def check(
        self, lock: str | os.PathLike[str] | None = None, *, verify_exists: bool = False
    ) -> list[Finding]:
        """Compare every entry of a lock file (default: this resolver's) with the registry,
        without writing it; see `image_digest.drift`. `verify_exists=True` asks instead
        whether every locked digest still exists (HEAD by digest, never by tag)."""
        from image_digest.drift import check_lock

        chosen = LockFile(lock, clock=self.clock) if lock is not None else self.lock
        if chosen is None:
            raise LockError(f"check() needs a lock file: pass lock=PATH or set {LOCK_ENV}")
        return check_lock(self, chosen, verify_exists=verify_exists)

    def verify_key(self) -> VerificationKey | None:
        """The key digests are verified with (`verify=`, else the lock's settings), or None."""
        from image_digest.signatures import verification_key

        with self._lock:
            if self._verify_key is False:
                self._verify_key = verification_key(self._verify_option, self.lock)
            return self._verify_key

    def clear_cache(self) -> None:
        """Forget resolved tags, so the next lookups ask the registry again."""
        with self._lock:
            self._pins.clear()

    def request_count(self) -> int:
        """HTTP requests sent so far (pings, tokens, manifests, retries), for diagnostics."""
        with self._lock:
            return sum(t.request_count for t in self._transports.values())

    def close(self) -> None:
        with self._lock:
            for transport in self._transports.values():
                transport.close()
            self._transports.clear()

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- lookups ------------------------------------------------------------------------------

    def _pin(
        self, reference: Reference, wanted: Platform | None, text: str, fetch: bool = False
    ) -> _Pin:
        """Look up once per (reference, platform), sharing the answer with concurrent callers."""
        key = (str(reference), str(wanted) if wanted else None)
        with self._lock:
            future = self._pins.get(key)
            owner = future is None
            if future is None:
                future = self._pins[key] = Future()
        if not owner:
            return future.result()
        try:
            pin = self._verified(
                reference, wanted, text, self._lookup(reference, wanted, text, fetch)
            )
        except BaseException as exc:
            with self._lock:
                self._pins.pop(key, None)
            future.set_exception(exc)
            raise
        future.set_result(pin)
        return pin

    def _lookup(
        self, reference: Reference, wanted: Platform | None, text: str, fetch: bool
    ) -> _Pin:
        from image_digest.lookup import Found

        if reference.digest is not None:
            return _Pin(Found(reference.digest, None, None), source="reference")
        if self.mode == "locked":
            return self._from_lock(reference, wanted, text)
        try:
            pin = self._from_registry(reference, wanted, text, self.with_labels, fetch)
        except RegistryError as exc:
            if self.mode != "fallback":
                raise
            return self._fall_back(reference, wanted, text, exc)
        return pin if self.min_age is None else self._hold_back(reference, wanted, text, pin)

    def _verified(
        self, reference: Reference, wanted: Platform | None, text: str, pin: _Pin
    ) -> _Pin:
        """`pin` with the signature that verifies its digest, or a `SignatureError`.

        A lock's digest (mode locked, a fallback) must carry a recorded signature by this key
        that verifies again, offline; a held-back one too, else it is verified online. Any
        other digest is verified against its registry."""
        key = self.verify_key()
        if key is None:
            return pin
        from image_digest.signatures import UnsignedImageError, from_record, verify_digest
        from image_digest.transport.deadline import Deadline

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
        client = self._client(reference)
        with Deadline(self.options.total_timeout) as deadline:
            verified = verify_digest(client, reference, text, digest, key, deadline)
        return replace(pin, verification=verified)

    def _hold_back(
        self, reference: Reference, wanted: Platform | None, text: str, pin: _Pin
    ) -> _Pin:
        """`min_age`: keep the locked digest while the tag's new one is too young."""
        from image_digest.holdback import age_of, held_message, unheld_message
        from image_digest.lookup import Found

        assert self.min_age is not None
        platform = str(wanted) if wanted else None
        entry = self.lock.get(str(reference), platform) if self.lock else None
        found = pin.found
        if entry is not None and entry.digest == found.digest:
            return pin
        if found.created is None:
            created = self._details(reference, found, text).created
            found = replace(found, created=created)
        now = self.clock()
        lock = self.lock

        def first_seen() -> str | None:
            if lock is None:
                return None
            if entry is None:
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
            return _Pin(found, "registry", warning)
        assert lock is not None
        warning = held_message(text, found.digest, entry.digest, lock.path, age, self.min_age, now)
        logger.warning("%s", warning)
        kept = Found(entry.digest, entry.media_type, entry.platform)
        return _Pin(kept, "lock", warning, held_back=found.digest)

    def _details(self, reference: Reference, found: Found, text: str) -> Found:
        """`found` with its config's labels and created (the manifest if not yet fetched,
        then the config blob)."""
        from image_digest.transport.deadline import Deadline

        client, manifests = self._client(reference), self._manifests
        assert manifests is not None
        with Deadline(self.options.total_timeout) as deadline:
            try:
                return manifests.details(client, reference, found, text, deadline)
            except DigestError as exc:
                client.transport.scrub(exc)
                raise

    def _fall_back(
        self, reference: Reference, wanted: Platform | None, text: str, error: RegistryError
    ) -> _Pin:
        """The lock's entry instead of a failing registry, loudly; else the registry's error."""
        from image_digest.lookup import Found

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
        return _Pin(Found(entry.digest, entry.media_type, entry.platform), "lock", warning)

    def _from_lock(self, reference: Reference, wanted: Platform | None, text: str) -> _Pin:
        from image_digest.lookup import Found

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
        return _Pin(Found(entry.digest, entry.media_type, entry.platform), "lock")

    def _from_registry(
        self,
        reference: Reference,
        wanted: Platform | None,
        text: str,
        with_labels: bool,
        fetch: bool = False,
    ) -> _Pin:
        from image_digest.transport.deadline import Deadline

        client, manifests = self._client(reference), self._manifests
        assert manifests is not None  # made with the first client
        with Deadline(self.options.total_timeout) as deadline:
            try:
                found = manifests.find(
                    client, reference, wanted, text, with_labels, deadline, fetch=fetch
                )
            except DigestError as exc:
                # The last line of defence: whatever a hostile registry echoed into an error
                # (headers, index entries...), no credential we sent it leaves in a message.
                client.transport.scrub(exc)
                raise
        return _Pin(found)

    # -- plumbing -----------------------------------------------------------------------------

    def _client(self, reference: Reference) -> RegistryClient:
        from image_digest.lookup import ManifestLookup
        from image_digest.registry import RegistryClient
        from image_digest.transport.http import RegistryTransport

        with self._lock:
            if self._manifests is None:
                self._manifests = ManifestLookup()
            transport = self._transports.get(reference.registry)
            if transport is None:
                transport = RegistryTransport(
                    reference.registry, reference.api_host, self._keychain, self.options
                )
                self._transports[reference.registry] = transport
        return RegistryClient(transport)

    def _prefetch_tokens(self, pool: ThreadPoolExecutor, references: list[Reference]) -> None:
        """One token request per registry for all its repositories, before the HEADs."""
        by_registry: dict[str, list[Reference]] = defaultdict(list)
        for reference in references:
            by_registry[reference.registry].append(reference)
        jobs = [
            pool.submit(
                self._prefetch, self._client(refs[0]).transport, {r.repository for r in refs}
            )
            for refs in by_registry.values()
            if len({r.repository for r in refs}) > 1
        ]
        for job in jobs:
            # Each lookup then reports a failure for its own reference.
            with contextlib.suppress(DigestError):
                job.result()

    def _prefetch(self, transport: RegistryTransport, repositories: set[str]) -> None:
        from image_digest.transport.deadline import Deadline

        with Deadline(self.options.total_timeout) as deadline:
            transport.prefetch_tokens(repositories, deadline)

    def _record(self, pins: Iterable[tuple[Reference, Platform | None, _Pin]]) -> None:
        if self.lock is None or self.mode == "locked":
            return
        self.lock.record(
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
        )


def resolve(ref: str, platform: str | None = None) -> ResolvedImage:
    """Pin one reference with a fresh default `Resolver`; reuse a `Resolver` for many."""
    with Resolver() as resolver:
        return resolver.resolve(ref, platform=platform)


def _provenance(found: Found) -> tuple[str | None, str | None, str | None, str | None]:
    from image_digest.provenance import Provenance

    if found.labels is None:
        return (None, None, None, None)
    known = Provenance.of(found.labels, found.created)
    return (known.revision, known.source, known.version, known.created)


def _resolved(text: str, reference: Reference, pin: _Pin) -> ResolvedImage:
    found = pin.found
    return ResolvedImage(
        reference=text,
        digest=found.digest,
        repo_digest=reference.with_digest(found.digest),
        media_type=found.media_type,
        platform=found.platform,
        labels=found.labels,
        source=pin.source,
        warning=pin.warning,
        labels_platform=found.labels_platform,
        created=found.created,
        held_back=pin.held_back,
        verified_by=pin.verification.key if pin.verification else None,
    )


def _mode(mode: str | None) -> Mode:
    value = mode if mode is not None else os.environ.get(MODE_ENV) or "resolve"
    for known in MODES:
        if value == known:
            return known
    source = "mode" if mode is not None else f"environment variable {MODE_ENV}"
    raise ValueError(f"{source} is {value!r}, which is not a mode; use one of: {', '.join(MODES)}")
