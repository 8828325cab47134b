"""`Lookup`: what registries say, read-only. Clients, cache, de-duplication, batches, existence.

One `RegistryTransport` per registry lives as long as the lookup, so pings, challenges, tokens
and TCP connections are paid once per registry. Identical lookups in flight at the same time
share one request, and answers are cached for the lookup's lifetime (a program run).

It knows nothing of lock files: `Resolver.check`, `Resolver.exists`, `image-digest check` and
`audit --suggest` use a `Lookup` alone, so they cannot write a lock by construction; the pinning
policy (`image_digest.pinning`) is the one place that records.

The HTTP stack (requests, urllib3) is imported on first use, so programs and `--help` that never
reach a registry do not pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from image_digest.errors import DigestError, NotFoundError, RegistryError
from image_digest.keychain import Keychain
from image_digest.lookup.batch import run_batch
from image_digest.lookup.flight import SingleFlight
from image_digest.lookup.found import Found
from image_digest.names.mirrors import Mirrors
from image_digest.names.platform import Platform, parse_platform
from image_digest.names.reference import Reference, parse
from image_digest.names.resolved import ResolvedImage, Source
from image_digest.transport.deadline import Deadline
from image_digest.transport.options import TransportOptions

if TYPE_CHECKING:
    from image_digest.lookup.manifests import ManifestLookup
    from image_digest.registry.client import RegistryClient
    from image_digest.signatures import Verification, VerificationKey
    from image_digest.transport.http import RegistryTransport

Key = tuple[str, str | None]
T = TypeVar("T")

logger = logging.getLogger("image_digest")


class Lookup:
    """Asks registries what references name; thread-safe; never reads or writes a lock file.

    With `mirrors`, `find` asks a mirrored reference's mirror (see `image_digest.names.mirrors`);
    `upstream` asks the source itself once, without retries, so a stale mirror can be named."""

    def __init__(
        self,
        *,
        keychain: Keychain,
        options: TransportOptions,
        max_workers: int,
        with_labels: bool = False,
        mirrors: Mirrors | None = None,
    ):
        self.options = options
        self.max_workers = max_workers
        self.with_labels = with_labels
        self.mirrors = mirrors or Mirrors()
        self._keychain = keychain
        self._transports: dict[str, RegistryTransport] = {}
        self._unreachable: set[str] = set()  # upstreams of mirrors that did not answer
        self._found: SingleFlight[Found] = SingleFlight()
        self._manifests: ManifestLookup | None = None  # with the first client: it needs HTTP
        self._lock = threading.Lock()

    # -- one reference ------------------------------------------------------------------------

    def find(
        self,
        reference: Reference,
        wanted: Platform | None,
        text: str,
        *,
        fetch: bool = False,
        within: Deadline | None = None,
    ) -> Found:
        """What the tag `reference` names (for `wanted`), asked once per lookup's lifetime;
        a mirrored reference is asked of its mirror."""
        if reference.digest is not None:
            return Found(reference.digest, None, None)
        asked = self.mirrors.route(reference) or reference
        return self._found.get(
            _key(reference, wanted),
            lambda: self.ask(asked, wanted, text, self.with_labels, fetch, within),
        )

    def upstream(self, reference: Reference, wanted: Platform | None, text: str) -> Found | None:
        """What the mirrored `reference`'s own registry says, asked once without retries; None
        when it does not answer (an air gap: a registry that fails at the connection level is
        not asked again by this lookup)."""
        if reference.registry in self._unreachable:
            return None
        try:
            return self.ask(reference, wanted, text, False, quick=True)
        except DigestError as exc:
            if isinstance(exc, RegistryError) and exc.status is None:
                with self._lock:
                    self._unreachable.add(reference.registry)
            logger.debug("upstream of %s not compared with its mirror: %s", text, exc)
            return None

    def known(self, reference: Reference, wanted: Platform | None) -> bool:
        """Whether `find` would answer without a request."""
        return reference.digest is not None or self._found.known(_key(reference, wanted))

    def ask(
        self,
        reference: Reference,
        wanted: Platform | None,
        text: str,
        with_labels: bool,
        fetch: bool = False,
        within: Deadline | None = None,
        *,
        quick: bool = False,
    ) -> Found:
        """Ask the registry now, uncached (`fetch`: GET the manifest instead of a HEAD;
        `quick`: no retries)."""
        client, manifests = self.client(reference, quick), self._manifests
        assert manifests is not None  # made with the first client
        with self.deadline(within) as deadline:
            try:
                return manifests.find(
                    client, reference, wanted, text, with_labels, deadline, fetch=fetch
                )
            except DigestError as exc:
                # The last line of defence: whatever a hostile registry echoed into an error
                # (headers, index entries...), no credential we sent it leaves in a message.
                client.transport.scrub(exc)
                raise

    def details(
        self, reference: Reference, found: Found, text: str, within: Deadline | None = None
    ) -> Found:
        """`found` with its config's labels and created (the manifest if not yet fetched,
        then the config blob)."""
        client, manifests = self.client(reference), self._manifests
        assert manifests is not None
        with self.deadline(within) as deadline:
            try:
                return manifests.details(client, reference, found, text, deadline)
            except DigestError as exc:
                client.transport.scrub(exc)
                raise

    def signature(
        self,
        reference: Reference,
        text: str,
        digest: str,
        key: VerificationKey,
        within: Deadline | None = None,
    ) -> Verification:
        """The cosign signature by `key` that verifies `digest` in `reference`'s repository,
        read from its registry (the `.sig` tag, else the referrers): reads only, so `check`
        verifies with a lookup as the pinning policy does. A `SignatureError` when none does."""
        from image_digest.signatures import verify_digest

        client = self.client(reference)
        with self.deadline(within) as deadline:
            return verify_digest(client, reference, text, digest, key, deadline)

    def inspect(self, ref: str, platform: str | None = None) -> ResolvedImage:
        """`ref`, a tag or a digest, with its labels; uncached (see `Resolver.inspect`)."""
        reference = parse(ref)
        wanted = parse_platform(platform) if platform is not None else None
        if reference.digest is not None and wanted is None:
            # A digest names fixed content: no HEAD, and a manifest this lookup already
            # fetched is not fetched again, so only the config blob is asked for.
            found = self.details(reference, Found(reference.digest, None, None), ref)
        else:
            fetch = reference.digest is not None
            found = self.ask(reference, wanted, ref, with_labels=True, fetch=fetch)
        return resolved(ref, reference, found, "registry")

    def exists(self, ref: str, within: Deadline | None = None) -> bool:
        """Whether the registry still has the manifest `ref` (which must carry a digest)
        names: one HEAD by digest, never by tag (see `Resolver.exists`)."""
        reference = parse(ref)
        if reference.digest is None:
            raise ValueError(
                f"exists() needs a reference with a digest (repo@sha256:...), not {ref}"
            )
        client = self.client(reference)
        with self.deadline(within) as deadline:
            try:
                client.descriptor(ref, reference.repository, reference.digest, deadline)
            except NotFoundError:
                return False
            except DigestError as exc:
                client.transport.scrub(exc)
                raise
        return True

    # -- batches ------------------------------------------------------------------------------

    def find_each(
        self, refs: Iterable[str], platform: str | None = None, *, fetch_manifests: bool = False
    ) -> dict[str, ResolvedImage | DigestError]:
        """What each reference names now, or its error: concurrently, within one batch bound.
        A reference that carries a digest is its own answer (`source="reference"`)."""
        wanted = parse_platform(platform) if platform is not None else None
        groups, outcome = spellings(refs)

        def work(reference: Reference, batch: Deadline) -> Found:
            text = groups[reference][0]
            return self.find(reference, wanted, text, fetch=fetch_manifests, within=batch)

        remote = [r for r in groups if not self.known(r, wanted)]
        found = self.run(work, groups, remote)
        for reference, answer in found.items():
            source: Source = "reference" if reference.digest is not None else "registry"
            for ref in groups[reference]:
                outcome[ref] = (
                    answer
                    if isinstance(answer, DigestError)
                    else resolved(ref, reference, answer, source)
                )
        return {ref: outcome[ref] for ref in dict.fromkeys(refs) if ref in outcome}

    def exist_each(self, refs: Iterable[str]) -> dict[str, bool | DigestError]:
        """`exists` for each reference (each carries a digest), concurrently, one token
        request per registry for all its repositories, within one batch bound."""
        groups, errors = spellings(refs)
        outcome: dict[str, bool | DigestError] = {
            ref: error for ref, error in errors.items() if isinstance(error, DigestError)
        }
        found = self.run(
            lambda reference, batch: self.exists(groups[reference][0], batch), groups, groups
        )
        for reference, answer in found.items():
            for ref in groups[reference]:
                outcome[ref] = answer
        return {ref: outcome[ref] for ref in dict.fromkeys(refs) if ref in outcome}

    def run(
        self,
        work: Callable[[Reference, Deadline], T],
        references: Iterable[Reference],
        remote: Iterable[Reference],
    ) -> dict[Reference, T | DigestError]:
        """`work` per reference in one batch: `remote` ones in a pool, after a token prefetch."""
        return run_batch(
            work,
            references,
            remote=set(remote),
            seconds=self.options.batch_seconds(),
            max_workers=self.max_workers,
            prefetch=self._prefetch_tokens,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def deadline(self, within: Deadline | None = None) -> Deadline:
        """One reference's time bound, ending with the batch it is `within`."""
        return Deadline(self.options.total_timeout, within=within)

    def client(self, reference: Reference, quick: bool = False) -> RegistryClient:
        """The registry's client; `quick`: one without retries (a mirror's upstream)."""
        from image_digest.lookup.manifests import ManifestLookup
        from image_digest.registry.client import RegistryClient
        from image_digest.transport.http import RegistryTransport

        with self._lock:
            if self._manifests is None:
                self._manifests = ManifestLookup()
            key = f"quick:{reference.registry}" if quick else reference.registry
            transport = self._transports.get(key)
            if transport is None:
                options = replace(self.options, retries=0) if quick else self.options
                transport = RegistryTransport(
                    reference.registry, reference.api_host, self._keychain, options
                )
                self._transports[key] = transport
        return RegistryClient(transport)

    def _prefetch_tokens(
        self, pool: ThreadPoolExecutor, references: list[Reference], batch: Deadline
    ) -> None:
        """One token request per registry for all its repositories, before the HEADs."""
        by_registry: dict[str, list[Reference]] = defaultdict(list)
        for written in references:
            reference = self.mirrors.route(written) or written
            by_registry[reference.registry].append(reference)
        jobs = [
            pool.submit(
                self._prefetch, self.client(refs[0]).transport, {r.repository for r in refs}, batch
            )
            for refs in by_registry.values()
            if len({r.repository for r in refs}) > 1
        ]
        for job in jobs:
            # Each lookup then reports a failure for its own reference.
            with contextlib.suppress(DigestError):
                job.result()

    def _prefetch(
        self, transport: RegistryTransport, repositories: set[str], batch: Deadline
    ) -> None:
        with self.deadline(batch) as deadline:
            transport.prefetch_tokens(repositories, deadline)

    def clear_cache(self) -> None:
        """Forget resolved tags, so the next lookups ask the registry again."""
        self._found.clear()

    def request_count(self) -> int:
        """HTTP requests sent so far (pings, tokens, manifests, retries), for diagnostics."""
        with self._lock:
            return sum(t.request_count for t in self._transports.values())

    def close(self) -> None:
        with self._lock:
            for transport in self._transports.values():
                transport.close()
            self._transports.clear()

    def __enter__(self) -> Lookup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def spellings(
    refs: Iterable[str],
) -> tuple[dict[Reference, list[str]], dict[str, ResolvedImage | DigestError]]:
    """References by what they name (`nginx` and `docker.io/library/nginx:latest` are one),
    and the parse errors of those that name nothing."""
    groups: dict[Reference, list[str]] = defaultdict(list)
    errors: dict[str, ResolvedImage | DigestError] = {}
    for ref in dict.fromkeys(refs):
        try:
            groups[parse(ref)].append(ref)
        except DigestError as exc:
            errors[ref] = exc
    return groups, errors


def resolved(
    text: str,
    reference: Reference,
    found: Found,
    source: Source,
    warning: str | None = None,
    held_back: str | None = None,
    *,
    keep_tag: bool = False,
    mirror: Reference | None = None,
    verified_by: str | None = None,
) -> ResolvedImage:
    """The result for `text` as the user spelled it; `reference` is the name to deploy (the
    program's, or its mirror's), with its tag kept when `keep_tag`."""
    return ResolvedImage(
        reference=text,
        digest=found.digest,
        repo_digest=reference.with_digest(found.digest, keep_tag=keep_tag),
        media_type=found.media_type,
        platform=found.platform,
        labels=found.labels,
        source=source,
        warning=warning,
        labels_platform=found.labels_platform,
        created=found.created,
        held_back=held_back,
        mirror=str(mirror) if mirror is not None else None,
        verified_by=verified_by,
    )


def _key(reference: Reference, wanted: Platform | None) -> Key:
    return (str(reference), str(wanted) if wanted else None)
