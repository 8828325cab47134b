"""`Resolver`: the facade users call, over a read-only lookup and a pinning policy.

`Resolver.lookup` (`image_digest.lookup.Lookup`) asks registries: clients, cache,
de-duplication, batches, existence; it has no way to reach a lock file. `Resolver.policy`
(`image_digest.pinning.PinningPolicy`) decides which digest a deployment gets (modes, fallback,
`min_age`) and is the one place that records into the lock. `check`, `exists` and `inspect`
use the lookup alone, so they cannot write by construction.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from image_digest.errors import BatchResolutionError, DigestError, InvalidOptionError, LockError
from image_digest.keychain import Credential, Keychain, default_keychain
from image_digest.lookup import Lookup
from image_digest.names.mirrors import DEPLOY_FROM, DeployFrom, Mirrors, parse_mirrors
from image_digest.names.platform import parse_platform
from image_digest.names.reference import parse
from image_digest.names.resolved import ResolvedImage
from image_digest.pinning import LOCK_ENV, MODE_ENV, MODES, Mode, PinningPolicy, parse_mode
from image_digest.pinning.age import parse_duration, utc_now
from image_digest.pinning.lockfile import LockFile
from image_digest.transport.options import (
    TIMEOUT_ENV,
    TransportOptions,
    host_set,
    timeout_seconds,
)
from image_digest.transport.tls import check_ca_bundle

if TYPE_CHECKING:
    from image_digest.pinning.drift import Finding
    from image_digest.pinning.verify_key import VerifyOption
    from image_digest.signatures import VerificationKey

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "LOCK_ENV",
    "MODES",
    "MODE_ENV",
    "TIMEOUT_ENV",
    "Mode",
    "Resolver",
    "resolve",
]

DEFAULT_MAX_WORKERS = 16


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
    a whole `options`, or override single fields by name (`retries=0`, `total_timeout=10`).
    Each reference gets 30 s unless `total_timeout=` or `IMAGE_DIGEST_TIMEOUT` says otherwise
    (a whole `options` decides by itself);
    a batch (`resolve_many`, `resolve_each`, `check`) gets `batch_timeout` (default: twice
    that) as a whole.

    Reads never write: `check`, `exists` and `inspect` use `lookup` (a read-only
    `image_digest.lookup.Lookup`), and only `policy` (the `PinningPolicy` behind `resolve`,
    `resolve_many` and `resolve_each`) records into the lock.

    `min_age` (`"6h"`, `"2d"`, a `timedelta`): a tag whose new digest is younger than that
    (config `created`, else when the lock first saw it) resolves to the digest already in
    the lock, with a `warning` naming the held-back digest and when it becomes eligible;
    with no locked digest to keep, it resolves normally and the warning says so. Only a
    changed digest costs anything (its config: one or two requests). `clock` (a function
    returning an aware `datetime`) replaces the system clock for `min_age` and lock dates.

    `keep_tag=True` writes readable pins: `repo_digest` keeps the tag as written
    (`nginx:1.27@sha256:...`); the digest alone decides what is pulled, and the lock is the same.

    `mirrors` (`{"docker.io": "mirror.example:5000/hub"}`, see `image_digest.names.mirrors`)
    resolves matching references through the mirror; `repo_digest` names what the program wrote
    (`deploy_from="program"`) or the mirror (`deploy_from="mirror"`), and the lock records the
    program's reference; both default to the lock file's `settings`, if any. When the upstream
    answers too (one quick request, no retries; one that does not is not asked again), a
    mirror whose digest differs is named in `ResolvedImage.warning` with both digests.

    `verify` (a PEM public key's path, or an `image_digest.signatures.VerificationKey`; by
    default the lock's `settings.verify_key`): every digest is pinned only when a cosign
    signature by that key verifies for it (see `image_digest.signatures`), else a
    `SignatureError` says why; never an unverified pin instead. A digest from the registry (or
    written in the program) is verified there and the lock records the signature; a digest
    from the lock (mode `locked`, a `fallback`, a `min_age` hold) only if the lock records a
    signature by the same key that verifies again, offline. `ResolvedImage.verified_by` names
    the key. `check` verifies every locked digest again, with the lookup (read-only).
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
        batch_timeout: float | None = None,
        retries: int | None = None,
        backoff_factor: float | None = None,
        backoff_jitter: float | None = None,
        max_retry_after: float | None = None,
        secure_registries: Iterable[str] | None = None,
        user_agent: str | None = None,
        keep_tag: bool = False,
        mirrors: Mapping[str, str] | Iterable[str] | Mirrors | None = None,
        deploy_from: str | None = None,
    ):
        if not isinstance(max_workers, int) or isinstance(max_workers, bool):
            raise TypeError(
                f"max_workers takes an integer, like max_workers=16, not {max_workers!r}"
            )
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        if total_timeout is None and options is None and os.environ.get(TIMEOUT_ENV):
            total_timeout = timeout_seconds(
                os.environ[TIMEOUT_ENV], f"environment variable {TIMEOUT_ENV}"
            )
        base = options or TransportOptions()
        given: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "total_timeout": total_timeout,
            "batch_timeout": batch_timeout,
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
        self.mode = parse_mode(mode)
        lock_path = lock if lock is not None else os.environ.get(LOCK_ENV) or None
        self.lock = LockFile(lock_path, clock=self.clock) if lock_path else None
        self.keep_tag = keep_tag
        self.mirrors, self.deploy_from = _mirror_options(mirrors, deploy_from, self.lock)
        #: The read-only half: registry clients, cache, batches, existence. No lock.
        self.lookup = Lookup(
            keychain=keychain or default_keychain(credentials),
            options=self.options,
            max_workers=max_workers,
            with_labels=with_labels,
            mirrors=self.mirrors,
        )
        #: The pinning half: modes, fallback, min_age, and the only writer of the lock.
        self.policy = PinningPolicy(
            self.lookup,
            lock=self.lock,
            mode=self.mode,
            min_age=self.min_age,
            clock=self.clock,
            keep_tag=keep_tag,
            deploy_from=self.deploy_from,
            verify=verify,
        )

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, ref: str, platform: str | None = None) -> ResolvedImage:
        """Pin one reference (see `resolve_many` for many)."""
        reference = parse(ref)
        wanted = parse_platform(platform) if platform is not None else None
        return self.policy.pin_one(ref, reference, wanted)

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
        return self.policy.pin_each(refs, platform, fetch_manifests=fetch_manifests)

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
        return self.lookup.inspect(ref, platform)

    def exists(self, ref: str) -> bool:
        """Whether the registry still has the manifest `ref` (which must carry a digest) names:
        one HEAD by digest, never by tag. False when it answers not found (deleted); raises
        `AuthenticationError` when these credentials cannot see it, `RegistryError` when it
        fails."""
        return self.lookup.exists(ref)

    def check(
        self, lock: str | os.PathLike[str] | None = None, *, verify_exists: bool = False
    ) -> list[Finding]:
        """Compare every entry of a lock file (default: this resolver's) with the registry,
        without writing it, whatever this resolver's mode; see `image_digest.pinning.drift`.
        `verify_exists=True` asks instead whether every locked digest still exists (HEAD by
        digest, never by tag). With a verification key (`verify=`, else that lock's
        `settings.verify_key`) every current digest's signature is verified again."""
        from image_digest.pinning.drift import check_lock
        from image_digest.pinning.verify_key import verification_key

        chosen = LockFile(lock, clock=self.clock) if lock is not None else self.lock
        if chosen is None:
            raise LockError(f"check() needs a lock file: pass lock=PATH or set {LOCK_ENV}")
        key = (
            self.policy.verify_key()
            if chosen is self.lock
            else verification_key(self.policy.verify_option, chosen)
        )
        return check_lock(self.lookup, chosen, verify_exists=verify_exists, key=key)

    def verify_key(self) -> VerificationKey | None:
        """The key digests are verified with (`verify=`, else the lock's settings), or None."""
        return self.policy.verify_key()

    def clear_cache(self) -> None:
        """Forget resolved tags, so the next lookups ask the registry again."""
        self.policy.clear_cache()

    def request_count(self) -> int:
        """HTTP requests sent so far (pings, tokens, manifests, retries), for diagnostics."""
        return self.lookup.request_count()

    def close(self) -> None:
        self.lookup.close()

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def resolve(ref: str, platform: str | None = None) -> ResolvedImage:
    """Pin one reference with a fresh default `Resolver`; reuse a `Resolver` for many."""
    with Resolver() as resolver:
        return resolver.resolve(ref, platform=platform)


def _mirror_options(
    mirrors: Mapping[str, str] | Iterable[str] | Mirrors | None,
    deploy_from: str | None,
    lock: LockFile | None,
) -> tuple[Mirrors, DeployFrom]:
    """The options as given, else the lock file's `settings`, else none and "program"."""
    settings: dict[str, Any] = {}
    if lock is not None and (mirrors is None or not deploy_from):
        # A lock that cannot be read fails where it is used, with what was being done
        # (a fallback names the registry error too); building the resolver is not that place.
        with contextlib.suppress(LockError):
            settings = lock.settings()
    where = f" (settings of lock file {lock.path})" if lock is not None else ""
    if mirrors is None:
        try:
            mirrors = parse_mirrors(settings.get("mirrors"))
        except (InvalidOptionError, TypeError) as exc:
            raise InvalidOptionError(f"{exc}{where}") from None
    value = deploy_from or settings.get("deploy_from") or "program"
    for known in DEPLOY_FROM:
        if value == known:
            return parse_mirrors(mirrors), known
    source = "deploy_from" if deploy_from else f'"deploy_from"{where}'
    raise InvalidOptionError(f"{source} is {value!r}; use one of: {', '.join(DEPLOY_FROM)}")
