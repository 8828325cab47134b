"""`Resolver`: the facade users call. Cache, de-duplication, batches, lock file and policy.

One `RegistryTransport` per registry lives as long as the resolver, so pings, challenges,
tokens and TCP connections are paid once per registry. Identical lookups in flight at the
same time share one request, and results are cached for the resolver's lifetime (a program
run), so every resource in a stack sees the same digest for the same tag.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal

from image_digest.errors import (
    BatchResolutionError,
    DigestError,
    LockError,
    PlatformNotFoundError,
    RegistryError,
    printable,
)
from image_digest.keychain import Credential, Keychain, default_keychain
from image_digest.lockfile import REVISION_LABEL, LockFile, LockPin
from image_digest.mediatypes import is_index
from image_digest.platform import (
    Platform,
    available_platforms,
    parse_platform,
    platform_of,
    select_manifest,
)
from image_digest.reference import Reference, parse, validate_digest
from image_digest.registry import Descriptor, Manifest, RegistryClient
from image_digest.resolved import ResolvedImage, Source
from image_digest.transport import Deadline, RegistryTransport, TransportOptions

Mode = Literal["resolve", "locked", "fallback"]
MODES: tuple[Mode, ...] = ("resolve", "locked", "fallback")
MODE_ENV = "IMAGE_DIGEST_MODE"
LOCK_ENV = "IMAGE_DIGEST_LOCK"
DEFAULT_MAX_WORKERS = 16
#: Labels of a multi-platform image come from this platform's config when no platform was asked
#: for (else from the index's first real platform); `ResolvedImage.labels_platform` says which.
LABELS_DEFAULT_PLATFORM = "linux/amd64"
_LABELS_DEFAULT_PLATFORM = parse_platform(LABELS_DEFAULT_PLATFORM)

#: Lock fallbacks are logged here at WARNING (besides `ResolvedImage.warning`). The library
#: adds no handler, so without logging configured Python prints them on stderr.
logger = logging.getLogger("image_digest")


@dataclass(frozen=True)
class _Pin:
    """A lookup's answer, independent of how the user spelled the reference."""

    digest: str
    media_type: str | None
    platform: str | None
    labels: Mapping[str, str] | None = None
    source: Source = "registry"
    warning: str | None = None
    labels_platform: str | None = None


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
        options: TransportOptions | None = None,
        **option_overrides: Any,
    ):
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        base = options or TransportOptions()
        self.options = replace(
            base,
            insecure_registries=base.insecure_registries | frozenset(insecure_registries),
            ca_bundle=ca_bundle if ca_bundle is not None else base.ca_bundle,
            pool_size=max(base.pool_size, max_workers),
            **option_overrides,
        )
        self.max_workers = max_workers
        self.with_labels = with_labels
        self.mode = _mode(mode)
        lock_path = lock if lock is not None else os.environ.get(LOCK_ENV) or None
        self.lock = LockFile(lock_path) if lock_path else None
        if self.mode in ("locked", "fallback") and self.lock is None:
            raise LockError(
                f"mode {self.mode!r} needs a lock file: pass lock=PATH or set {LOCK_ENV}"
            )
        self._keychain = keychain or default_keychain(credentials)
        self._transports: dict[str, RegistryTransport] = {}
        self._pins: dict[tuple[str, str | None], Future[_Pin]] = {}
        self._configs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

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
        self, refs: Iterable[str], platform: str | None = None
    ) -> dict[str, ResolvedImage | DigestError]:
        """Like `resolve_many`, but returns each reference's result or error; never raises
        for a single reference."""
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
            futures = {r: pool.submit(self._pin, r, wanted, groups[r][0]) for r in groups}
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
        reference = parse(ref)
        wanted = parse_platform(platform) if platform is not None else None
        pin = self._from_registry(reference, wanted, ref, with_labels=True)
        return _resolved(ref, reference, pin)

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

    def _pin(self, reference: Reference, wanted: Platform | None, text: str) -> _Pin:
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
            pin = self._lookup(reference, wanted, text)
        except BaseException as exc:
            with self._lock:
                self._pins.pop(key, None)
            future.set_exception(exc)
            raise
        future.set_result(pin)
        return pin

    def _lookup(self, reference: Reference, wanted: Platform | None, text: str) -> _Pin:
        if reference.digest is not None:
            return _Pin(reference.digest, None, None, source="reference")
        if self.mode == "locked":
            return self._from_lock(reference, wanted, text)
        try:
            return self._from_registry(reference, wanted, text, self.with_labels)
        except RegistryError as exc:
            if self.mode != "fallback":
                raise
            return self._fall_back(reference, wanted, text, exc)

    def _fall_back(
        self, reference: Reference, wanted: Platform | None, text: str, error: RegistryError
    ) -> _Pin:
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
        return _Pin(entry.digest, entry.media_type, entry.platform, None, "lock", warning)

    def _from_lock(self, reference: Reference, wanted: Platform | None, text: str) -> _Pin:
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
        return _Pin(entry.digest, entry.media_type, entry.platform, None, "lock")

    def _from_registry(
        self, reference: Reference, wanted: Platform | None, text: str, with_labels: bool
    ) -> _Pin:
        client = self._client(reference)
        with Deadline(self.options.total_timeout) as deadline:
            try:
                return self._ask_registry(client, reference, wanted, text, with_labels, deadline)
            except DigestError as exc:
                # The last line of defence: whatever a hostile registry echoed into an error
                # (headers, index entries...), no credential we sent it leaves in a message.
                client.transport.scrub(exc)
                raise

    def _ask_registry(
        self,
        client: RegistryClient,
        reference: Reference,
        wanted: Platform | None,
        text: str,
        with_labels: bool,
        deadline: Deadline,
    ) -> _Pin:
        repo = reference.repository
        descriptor, manifest = client.descriptor(text, repo, reference.identifier, deadline)
        chosen, platform = descriptor, None
        if wanted is not None:
            if descriptor.media_type is None or is_index(descriptor.media_type):
                manifest = manifest or self._manifest(client, text, repo, descriptor, deadline)
                if manifest.descriptor.media_type != descriptor.media_type:
                    descriptor = replace(descriptor, media_type=manifest.descriptor.media_type)
            if is_index(descriptor.media_type):
                assert manifest is not None
                chosen = self._select(client, text, manifest, wanted)
            else:
                self._check_single_platform(client, text, repo, descriptor, wanted, deadline)
            platform = str(wanted)
        if not with_labels:
            return _Pin(chosen.digest, chosen.media_type, platform)
        labels, labels_platform = self._labels(client, text, repo, chosen, manifest, deadline)
        return _Pin(
            chosen.digest, chosen.media_type, platform, labels, labels_platform=labels_platform
        )

    def _select(
        self, client: RegistryClient, text: str, index: Manifest, wanted: Platform
    ) -> Descriptor:
        document = _index_json(index, text, client.registry)
        child = select_manifest(document, wanted)
        if child is None:
            offered = printable(", ".join(available_platforms(document)) or "none")
            raise PlatformNotFoundError(
                f"{text} is a multi-platform image without {wanted} (it offers: {offered}); "
                "pick one of those platforms",
                reference=text,
                registry=client.registry,
            )
        digest = child.get("digest")
        if not isinstance(digest, str) or not _is_digest(digest):
            raise RegistryError(
                f"registry {client.registry} served an index for {text} whose {wanted} entry "
                "has a malformed digest",
                reference=text,
                registry=client.registry,
            )
        media_type = child.get("mediaType")
        return Descriptor(digest, media_type if isinstance(media_type, str) else None)

    def _check_single_platform(
        self,
        client: RegistryClient,
        text: str,
        repo: str,
        descriptor: Descriptor,
        wanted: Platform,
        deadline: Deadline,
    ) -> None:
        config = self._config(client, text, repo, descriptor, None, deadline)
        found = platform_of(config)
        if found is None or not wanted.matches(found):
            raise PlatformNotFoundError(
                f"{text} is a single-platform image for "
                f"{printable(str(found)) if found else 'an unknown platform'}, "
                f"not {wanted}",
                reference=text,
                registry=client.registry,
            )

    def _labels(
        self,
        client: RegistryClient,
        text: str,
        repo: str,
        chosen: Descriptor,
        manifest: Manifest | None,
        deadline: Deadline,
    ) -> tuple[dict[str, str], str | None]:
        """The config labels of `chosen`, and the platform of the config they came from.

        For an index: the `linux/amd64` child's config, else the first child with a real
        platform (attestations, `unknown/unknown`, are skipped).
        """
        if manifest is not None and manifest.descriptor.digest != chosen.digest:
            manifest = None
        if chosen.media_type is None or is_index(chosen.media_type):
            manifest = manifest or self._manifest(client, text, repo, chosen, deadline)
            chosen = replace(chosen, media_type=manifest.descriptor.media_type)
        if is_index(chosen.media_type) or (manifest is not None and _looks_like_index(manifest)):
            assert manifest is not None
            document = _index_json(manifest, text, client.registry)
            wanted = _LABELS_DEFAULT_PLATFORM
            if select_manifest(document, wanted) is None:
                offered = [p for p in available_platforms(document) if "unknown" not in p]
                if not offered:
                    return {}, None
                wanted = parse_platform(offered[0])
            chosen, manifest = self._select(client, text, manifest, wanted), None
        config = self._config(client, text, repo, chosen, manifest, deadline)
        found = platform_of(config)
        inner = config.get("config")
        labels = inner.get("Labels") if isinstance(inner, dict) else None
        if not isinstance(labels, dict):
            return {}, str(found) if found else None
        return {str(k): str(v) for k, v in labels.items()}, str(found) if found else None

    def _config(
        self,
        client: RegistryClient,
        text: str,
        repo: str,
        descriptor: Descriptor,
        manifest: Manifest | None,
        deadline: Deadline,
    ) -> dict[str, Any]:
        with self._lock:
            cached = self._configs.get(descriptor.digest)
        if cached is not None:
            return cached
        manifest = manifest or self._manifest(client, text, repo, descriptor, deadline)
        config_ref = _manifest_json(manifest, text, client.registry).get("config")
        digest = config_ref.get("digest") if isinstance(config_ref, dict) else None
        value: Any = {}
        if isinstance(digest, str):
            if not _is_digest(digest):
                raise RegistryError(
                    f"registry {client.registry} served a manifest for {text} whose config "
                    "has a malformed digest",
                    reference=text,
                    registry=client.registry,
                )
            body = client.blob(text, repo, digest, deadline)
            with contextlib.suppress(ValueError, RecursionError):
                value = json.loads(body)
        config: dict[str, Any] = value if isinstance(value, dict) else {}
        # Keyed by the manifest's digest: content-addressed, so never stale.
        with self._lock:
            self._configs[descriptor.digest] = config
        return config

    def _manifest(
        self,
        client: RegistryClient,
        text: str,
        repo: str,
        descriptor: Descriptor,
        deadline: Deadline,
    ) -> Manifest:
        return client.manifest(text, repo, descriptor.digest, deadline, descriptor.digest)

    # -- plumbing -----------------------------------------------------------------------------

    def _client(self, reference: Reference) -> RegistryClient:
        with self._lock:
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
        with Deadline(self.options.total_timeout) as deadline:
            transport.prefetch_tokens(repositories, deadline)

    def _record(self, pins: Iterable[tuple[Reference, Platform | None, _Pin]]) -> None:
        if self.lock is None or self.mode == "locked":
            return
        self.lock.record(
            LockPin(
                str(r),
                str(w) if w else None,
                p.digest,
                p.media_type,
                p.labels.get(REVISION_LABEL) if p.labels else None,
            )
            for r, w, p in pins
            if p.source == "registry"
        )


def resolve(ref: str, *, platform: str | None = None) -> ResolvedImage:
    """Pin one reference with a fresh default `Resolver`; reuse a `Resolver` for many."""
    with Resolver() as resolver:
        return resolver.resolve(ref, platform=platform)


def _resolved(text: str, reference: Reference, pin: _Pin) -> ResolvedImage:
    return ResolvedImage(
        reference=text,
        digest=pin.digest,
        repo_digest=reference.with_digest(pin.digest),
        media_type=pin.media_type,
        platform=pin.platform,
        labels=pin.labels,
        source=pin.source,
        warning=pin.warning,
        labels_platform=pin.labels_platform,
    )


def _looks_like_index(manifest: Manifest) -> bool:
    """An index served without a media type (plain `application/json`, no `mediaType`)."""
    try:
        return isinstance(manifest.json().get("manifests"), list)
    except RegistryError:
        return False


def _is_digest(value: str) -> bool:
    """Validity of a digest a registry sent, without an exception that would quote it."""
    try:
        validate_digest(value)
    except DigestError:
        return False
    return True


def _manifest_json(manifest: Manifest, text: str, registry: str) -> dict[str, Any]:
    try:
        return manifest.json()
    except RegistryError:
        raise RegistryError(
            f"registry {registry} served a manifest for {text} that is not a JSON object",
            reference=text,
            registry=registry,
        ) from None


def _index_json(index: Manifest, text: str, registry: str) -> dict[str, Any]:
    try:
        document = index.json()
    except RegistryError:
        document = {}
    if not isinstance(document.get("manifests"), list):
        raise RegistryError(
            f"registry {registry} served an index for {text} that is not valid index JSON "
            "(no 'manifests' list), so no platform can be selected",
            reference=text,
            registry=registry,
        )
    return document


def _mode(mode: str | None) -> Mode:
    value = mode if mode is not None else os.environ.get(MODE_ENV) or "resolve"
    for known in MODES:
        if value == known:
            return known
    source = "mode" if mode is not None else f"environment variable {MODE_ENV}"
    raise ValueError(f"{source} is {value!r}, which is not a mode; use one of: {', '.join(MODES)}")
