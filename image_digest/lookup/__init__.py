"""Read-only registry lookups: what a reference names, whether a digest still exists.

`manifests` opens indexes, checks platforms and reads labels; `flight` shares one request
among concurrent askers; `batch` runs many references under one deadline; `registries` holds
the `Lookup` that ties them together, with no way to reach a lock file. `ManifestLookup` (and
with it the HTTP stack) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_digest.lookup.found import Found
from image_digest.lookup.registries import Lookup

if TYPE_CHECKING:
    from image_digest.lookup.manifests import LABELS_DEFAULT_PLATFORM, ManifestLookup

__all__ = ["LABELS_DEFAULT_PLATFORM", "Found", "Lookup", "ManifestLookup"]


def __getattr__(name: str) -> Any:
    if name in ("LABELS_DEFAULT_PLATFORM", "ManifestLookup"):
        from image_digest.lookup import manifests

        return getattr(manifests, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
