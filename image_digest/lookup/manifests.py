"""What a tag names on a registry: its digest, an index's child for a platform, its labels.

Above `registry` (single requests) and below `Lookup` (caching, batches): this is
where an index is opened to select a platform, a single image's platform is checked against
its config, and labels are read from the config blob (cached by manifest digest, which is
content-addressed and so never stale).
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import replace
from typing import Any

from image_digest.errors import DigestError, PlatformNotFoundError, RegistryError, printable
from image_digest.lookup.found import Found
from image_digest.names.mediatypes import is_index
from image_digest.names.platform import (
    Platform,
    available_platforms,
    parse_platform,
    platform_of,
    select_manifest,
)
from image_digest.names.reference import Reference, validate_digest
from image_digest.registry.client import Descriptor, Manifest, RegistryClient
from image_digest.transport import Deadline

#: Labels of a multi-platform image come from this platform's config when no platform was asked
#: for (else from the index's first real platform); `ResolvedImage.labels_platform` says which.
LABELS_DEFAULT_PLATFORM = "linux/amd64"
_LABELS_DEFAULT_PLATFORM = parse_platform(LABELS_DEFAULT_PLATFORM)


class ManifestLookup:
    """Finds digests, platform children and labels; thread-safe, one per `Resolver`.

    A manifest a tag lookup fetched by GET (`fetch=True`) is kept by digest until the next
    `details` of that digest, so describing a changed digest costs only its config blob.
    """

    def __init__(self) -> None:
        self._configs: dict[str, dict[str, Any]] = {}
        self._bodies: dict[str, Manifest] = {}
        self._lock = threading.Lock()

    def find(
        self,
        client: RegistryClient,
        reference: Reference,
        wanted: Platform | None,
        text: str,
        with_labels: bool,
        deadline: Deadline,
        *,
        fetch: bool = False,
    ) -> Found:
        """The digest `reference` names (the `wanted` platform's child of an index), with
        its config labels when asked for. `fetch` GETs the manifest instead of a HEAD (same
        request count), so `details` of a digest that turns out to be new costs one request."""
        repo = reference.repository
        manifest: Manifest | None
        if fetch:
            manifest = self._keep(client.manifest(text, repo, reference.identifier, deadline))
            descriptor = manifest.descriptor
        else:
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
            return Found(chosen.digest, chosen.media_type, platform)
        return self.details(
            client,
            reference,
            Found(chosen.digest, chosen.media_type, platform),
            text,
            deadline,
            manifest,
        )

    def details(
        self,
        client: RegistryClient,
        reference: Reference,
        found: Found,
        text: str,
        deadline: Deadline,
        manifest: Manifest | None = None,
    ) -> Found:
        """`found` with its config's labels and `created`: no HEAD (the digest is known), the
        manifest from this lookup's memory when it was fetched, then the config blob."""
        chosen = Descriptor(found.digest, found.media_type)
        manifest = manifest or self._kept(found.digest)
        labels, labels_platform, created = self._labels(
            client, text, reference.repository, chosen, manifest, deadline
        )
        return replace(found, labels=labels, labels_platform=labels_platform, created=created)

    def _keep(self, manifest: Manifest) -> Manifest:
        with self._lock:
            self._bodies[manifest.descriptor.digest] = manifest
        return manifest

    def _kept(self, digest: str) -> Manifest | None:
        """A manifest `find(fetch=True)` kept, handed out once: a later `details` asks the
        registry again, so a digest deleted since is reported gone."""
        with self._lock:
            return self._bodies.pop(digest, None)

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
    ) -> tuple[dict[str, str], str | None, str | None]:
        """The config labels of `chosen`, the platform of the config they came from, and its
        `created` time.

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
                    return {}, None, None
                wanted = parse_platform(offered[0])
            chosen, manifest = self._select(client, text, manifest, wanted), None
        config = self._config(client, text, repo, chosen, manifest, deadline)
        found = platform_of(config)
        platform = str(found) if found else None
        created = config.get("created")
        created = created if isinstance(created, str) and len(created) < 64 else None
        inner = config.get("config")
        labels = inner.get("Labels") if isinstance(inner, dict) else None
        if not isinstance(labels, dict):
            return {}, platform, created
        return {str(k): str(v) for k, v in labels.items()}, platform, created

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
