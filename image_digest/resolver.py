"""`Resolver`: the facade users call. Cache, de-duplication, batches, lock file and policy.

One `RegistryTransport` per registry lives as long as the resolver, so pings, challenges,
tokens and TCP connections are paid once per registry. Identical lookups in flight at the
same time share one request, and results are cached for the resolver's lifetime (a program
run), so every resource in a stack sees the same digest for the same tag.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from image_digest.errors import (
    BatchResolutionError,
    DigestError,
    LockError,
    PlatformNotFoundError,
    RegistryError,
)
from image_digest.keychain import Credential, Keychain, default_keychain
from image_digest.lockfile import LockFile
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
_LABELS_DEFAULT_PLATFORM = Platform("linux", "amd64")


@dataclass(frozen=True)
class _Pin:
    """A lookup's answer, independent of how the user spelled the reference."""

    digest: str
    media_type: str | None
    platform: str | None
    labels: Mapping[str, str] | None = None
    source: Source = "registry"
    warning: str | None = None


class Resolver:
    """Resolves image references to digests; thread-safe; reuse one per program run.

    `credentials` maps registry hosts to `(username, password)`; they are tried before the
    docker config and Google ADC (or pass a whole `keychain`). `mode` and `lock` default to
    the `IMAGE_DIGEST_MODE` and `IMAGE_DIGEST_LOCK` environment variables.
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
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, ref: str, platform: str | None = None) -> ResolvedImage:
        """Pin one reference (see `resolve_many` for many)."""
        reference = parse(ref)
        wanted = parse_platform(platform) if platform else None
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
        wanted = parse_platform(platform) if platform else None
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
            return self._from_lock(reference, wanted, text, warning=None)
        try:
            return self._from_registry(reference, wanted, text)
        except RegistryError as exc:
            if self.mode != "fallback":
                raise
            warning = (
                f"registry unavailable, using the digest locked in {self._lock_path()} for "
                f"{text}: {exc}"
            )
            try:
                return self._from_lock(reference, wanted, text, warning=warning)
            except LockError:
                raise exc from None

    def _from_lock(
        self, reference: Reference, wanted: Platform | None, text: str, warning: str | None
    ) -> _Pin:
        assert self.lock is not None
        entry = self.lock.get(str(reference), str(wanted) if wanted else None)
        if entry is None:
            flag = f" --platform {wanted}" if wanted else ""
            raise LockError(
                f"{text} ({reference}{', ' + str(wanted) if wanted else ''}) is not in lock file "
                f"{self.lock.path} and mode {self.mode!r} may not ask the registry; add it "
                f"with: image-digest lock --lock {self.lock.path}{flag} {text}",
                reference=text,
            )
        return _Pin(entry.digest, entry.media_type, entry.platform, None, "lock", warning)

    def _from_registry(self, reference: Reference, wanted: Platform | None, text: str) -> _Pin:
        client = self._client(reference)
        deadline = Deadline(self.options.total_timeout)
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
        labels = None
        if self.with_labels:
            labels = self._labels(client, text, repo, chosen, manifest, deadline)
        return _Pin(chosen.digest, chosen.media_type, platform, labels)

    def _select(
        self, client: RegistryClient, text: str, index: Manifest, wanted: Platform
    ) -> Descriptor:
        document = _index_json(index, text, client.registry)
        child = select_manifest(document, wanted)
        if child is None:
            offered = ", ".join(available_platforms(document)) or "none"
            raise PlatformNotFoundError(
                f"{text} is a multi-platform image without {wanted} (it offers: {offered}); "
                "pick one of those platforms",
                reference=text,
                registry=client.registry,
            )
        digest = child.get("digest")
        try:
            digest = validate_digest(digest if isinstance(digest, str) else "")
        except DigestError:
            raise RegistryError(
                f"registry {client.registry} served an index for {text} whose {wanted} entry "
                "has a malformed digest",
                reference=text,
                registry=client.registry,
            ) from None
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
                f"{text} is a single-platform image for {found or 'an unknown platform'}, "
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
    ) -> dict[str, str]:
        if is_index(chosen.media_type):
            index = manifest or self._manifest(client, text, repo, chosen, deadline)
            document = _index_json(index, text, client.registry)
            wanted = _LABELS_DEFAULT_PLATFORM
            if select_manifest(document, wanted) is None:
                offered = available_platforms(document)
                if not offered:
                    return {}
                wanted = parse_platform(offered[0])
            chosen, manifest = self._select(client, text, index, wanted), None
        if manifest is not None and manifest.descriptor.digest != chosen.digest:
            manifest = None
        config = self._config(client, text, repo, chosen, manifest, deadline)
        inner = config.get("config")
        labels = inner.get("Labels") if isinstance(inner, dict) else None
        if not isinstance(labels, dict):
            return {}
        return {str(k): str(v) for k, v in labels.items()}

    def _config(
        self,
        client: RegistryClient,
        text: str,
        repo: str,
        descriptor: Descriptor,
        manifest: Manifest | None,
        deadline: Deadline,
    ) -> dict[str, Any]:
        manifest = manifest or self._manifest(client, text, repo, descriptor, deadline)
        config_ref = manifest.json().get("config")
        digest = config_ref.get("digest") if isinstance(config_ref, dict) else None
        if not isinstance(digest, str):
            return {}
        validate_digest(digest)
        with self._lock:
            body = self._blobs.get(digest)
        if body is None:
            body = client.blob(text, repo, digest, deadline)
            with self._lock:
                self._blobs[digest] = body
        try:
            value = json.loads(body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

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
                self._client(refs[0]).transport.prefetch_tokens,
                {r.repository for r in refs},
                Deadline(self.options.total_timeout),
            )
            for refs in by_registry.values()
            if len({r.repository for r in refs}) > 1
        ]
        for job in jobs:
            # Each lookup then reports a failure for its own reference.
            with contextlib.suppress(DigestError):
                job.result()

    def _record(self, pins: Iterable[tuple[Reference, Platform | None, _Pin]]) -> None:
        if self.lock is None or self.mode == "locked":
            return
        self.lock.record(
            (str(r), str(w) if w else None, p.digest, p.media_type)
            for r, w, p in pins
            if p.source == "registry"
        )

    def _lock_path(self) -> Path | None:
        return self.lock.path if self.lock else None


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
    )


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
    source = "mode" if mode is not None else MODE_ENV
    raise ValueError(f"{source} {value!r} is not one of {', '.join(MODES)}")
