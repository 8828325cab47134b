"""Manifest media types, and the Accept header a registry needs to return the right one.

Distribution 2.8 answers a HEAD with a partial Accept list with 404/400, or silently with a
child manifest's digest instead of the index's, so every request lists all four.
"""

from __future__ import annotations

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ALL_MANIFEST_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST)

MANIFEST_ACCEPT = ", ".join(ALL_MANIFEST_TYPES)


def is_index(media_type: str | None) -> bool:
    """True for an OCI image index or a Docker manifest list."""
    return media_type in INDEX_TYPES
