"""Deterministic container images, built in memory.

Tests need real manifests whose digests they can predict. Everything here is a pure function of
its arguments: the layer tar has fixed header fields, gzip runs with mtime=0 and JSON is
serialized with sorted keys and compact separators, so building the same image twice yields
byte-identical blobs and the same manifest digest. Nothing here does I/O; see ``push.py``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

#: Every manifest type the builders produce; send this as Accept to see them all unconverted.
ALL_MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
ACCEPT_ALL = ", ".join(ALL_MANIFEST_TYPES)

#: Name of the single file inside every layer built by :func:`build_image`.
LAYER_FILE_NAME = "content.txt"

_MEDIA = {
    "oci": (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER, OCI_INDEX),
    "docker": (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST_LIST),
}


def sha256_digest(data: bytes) -> str:
    """Content digest in the registry's ``sha256:<hex>`` form."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """JSON bytes that depend only on ``value``: sorted keys, no whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Blob:
    """A blob plus its media type; ``descriptor()`` is what a manifest says about it."""

    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Image:
    """One image (or artifact) manifest and every blob it references.

    ``platform`` is ``os/arch[/variant]`` (e.g. ``linux/arm64/v8``); it is ``""`` for
    artifacts, which have no platform.
    """

    manifest: bytes
    media_type: str
    digest: str
    blobs: dict[str, bytes]
    platform: str
    config_digest: str
    artifact_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.manifest)

    def descriptor(self) -> dict[str, Any]:
        """Descriptor for this manifest inside an index, with its platform when it has one."""
        descriptor: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.platform:
            descriptor["platform"] = platform_object(self.platform)
        if self.artifact_type:
            descriptor["artifactType"] = self.artifact_type
        return descriptor


@dataclass(frozen=True)
class Index:
    """An OCI image index or Docker manifest list and the images it points to."""

    manifest: bytes
    media_type: str
    digest: str
    children: list[Image] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.manifest)

    @property
    def blobs(self) -> dict[str, bytes]:
        """All blobs of all children (an index itself has no blobs)."""
        merged: dict[str, bytes] = {}
        for child in self.children:
            merged.update(child.blobs)
        return merged

    def child(self, platform: str) -> Image:
        """The child built for ``platform`` (``os/arch[/variant]``)."""
        for candidate in self.children:
            if candidate.platform == platform:
                return candidate
        raise KeyError(f"no child for platform {platform!r} in index {self.digest}")


def platform_string(os: str, architecture: str, variant: str | None = None) -> str:
    """``linux/arm64/v8`` style string, the form the library reports platforms in."""
    return "/".join(part for part in (os, architecture, variant) if part)


def platform_object(platform: str) -> dict[str, str]:
    """The JSON ``platform`` object of an index entry for ``os/arch[/variant]``."""
    parts = platform.split("/")
    if len(parts) not in (2, 3):
        raise ValueError(f"platform must be os/arch[/variant], got {platform!r}")
    result = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        result["variant"] = parts[2]
    return result


def layer_tar(content: str) -> bytes:
    """Uncompressed tar holding one file with ``content``; every header field is fixed."""
    data = content.encode()
    info = tarfile.TarInfo(LAYER_FILE_NAME)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _media(media: str) -> tuple[str, str, str, str]:
    try:
        return _MEDIA[media]
    except KeyError:
        raise ValueError(f"media must be 'oci' or 'docker', got {media!r}") from None


def build_image(
    content: str,
    *,
    labels: dict[str, str] | None = None,
    os: str = "linux",
    architecture: str = "amd64",
    variant: str | None = None,
    media: str = "oci",
    created: str | None = None,
) -> Image:
    """A single-layer image whose only file holds ``content``.

    ``media="oci"`` gives an OCI image manifest, ``media="docker"`` a Docker v2 schema 2 one.
    ``created`` is the config's RFC 3339 build time, written as given (absent by default, as in
    reproducible builds that omit it); tests pass fixed strings so digests stay predictable.
    Different content, labels, platform or created give a different digest; equal arguments the
    same one.
    """
    manifest_type, config_type, layer_type, _ = _media(media)
    tar = layer_tar(content)
    layer = Blob(layer_type, gzip.compress(tar, mtime=0))
    config_json: dict[str, Any] = {
        "architecture": architecture,
        "os": os,
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar)]},
        "config": {"Labels": dict(labels or {})},
    }
    if variant:
        config_json["variant"] = variant
    if created is not None:
        config_json["created"] = created
    config = Blob(config_type, canonical_json(config_json))
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": config.descriptor(),
            "layers": [layer.descriptor()],
        }
    )
    return Image(
        manifest=manifest,
        media_type=manifest_type,
        digest=sha256_digest(manifest),
        blobs={config.digest: config.data, layer.digest: layer.data},
        platform=platform_string(os, architecture, variant),
        config_digest=config.digest,
    )


def build_index(children: list[Image], *, media: str = "oci") -> Index:
    """An OCI image index (``media="oci"``) or Docker manifest list over ``children``.

    Each entry carries its child's platform; the children must be pushed before the index.
    """
    _, _, _, index_type = _media(media)
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": index_type,
            "manifests": [child.descriptor() for child in children],
        }
    )
    return Index(
        manifest=manifest,
        media_type=index_type,
        digest=sha256_digest(manifest),
        children=list(children),
    )


def build_artifact(content: str, artifact_type: str = "application/vnd.example.thing.v1") -> Image:
    """An OCI artifact: an image manifest with ``artifactType`` and the empty ``{}`` config.

    Its single layer is ``content`` itself (not a tar), typed ``text/plain``.
    """
    config = Blob(OCI_EMPTY, b"{}")
    layer = Blob("text/plain", content.encode())
    layer_descriptor = layer.descriptor()
    layer_descriptor["annotations"] = {"org.opencontainers.image.title": LAYER_FILE_NAME}
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": config.descriptor(),
            "layers": [layer_descriptor],
        }
    )
    return Image(
        manifest=manifest,
        media_type=OCI_MANIFEST,
        digest=sha256_digest(manifest),
        blobs={config.digest: config.data, layer.digest: layer.data},
        platform="",
        config_digest=config.digest,
        artifact_type=artifact_type,
    )
