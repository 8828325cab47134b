"""`Found`: what a registry says a reference names. Pure data, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Found:
    """What the registry says a reference names."""

    digest: str
    media_type: str | None
    platform: str | None
    labels: Mapping[str, str] | None = None
    labels_platform: str | None = None
    created: str | None = None
