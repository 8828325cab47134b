"""`os/arch[/variant]` platforms, and choosing one manifest out of an index."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from image_digest.errors import InvalidPlatformError, quoted

_PART_RE = re.compile(r"[A-Za-z0-9_.-]+")

# Variants a platform has when the index leaves them out (containerd's normalisation).
_DEFAULT_VARIANTS = {"arm64": "v8"}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)

    def matches(self, candidate: Platform) -> bool:
        """True when `candidate` (from an index) satisfies this requested platform."""
        if (self.os, self.architecture) != (candidate.os, candidate.architecture):
            return False
        if self.variant is None:
            return True
        default = _DEFAULT_VARIANTS.get(self.architecture)
        return (candidate.variant or default) == self.variant


def parse_platform(text: str) -> Platform:
    """Parse `linux/amd64` or `linux/arm/v7`; raise `InvalidPlatformError` otherwise."""
    parts = text.split("/") if isinstance(text, str) else []
    if len(parts) not in (2, 3) or not all(_PART_RE.fullmatch(p) for p in parts):
        raise InvalidPlatformError(
            f"invalid platform {quoted(str(text), 80)}: expected 'os/arch' or "
            "'os/arch/variant' (letters, digits, '_', '.', '-'), "
            "e.g. 'linux/amd64' or 'linux/arm64/v8'"
        )
    return Platform(
        parts[0].lower(), parts[1].lower(), parts[2].lower() if len(parts) == 3 else None
    )


def platform_of(descriptor_platform: Mapping[str, Any] | None) -> Platform | None:
    """The platform of an index entry or image config, if it names one."""
    if not isinstance(descriptor_platform, Mapping):
        return None
    os_name = descriptor_platform.get("os")
    arch = descriptor_platform.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str):
        return None
    variant = descriptor_platform.get("variant")
    return Platform(os_name, arch, variant if isinstance(variant, str) and variant else None)


def select_manifest(index: Mapping[str, Any], wanted: Platform) -> Mapping[str, Any] | None:
    """The first descriptor of `index` whose platform matches `wanted`, or None."""
    for descriptor in _descriptors(index):
        candidate = platform_of(descriptor.get("platform"))
        if candidate is not None and wanted.matches(candidate):
            return descriptor
    return None


def available_platforms(index: Mapping[str, Any]) -> list[str]:
    """The platforms an index offers, for error messages."""
    found = (platform_of(d.get("platform")) for d in _descriptors(index))
    return [str(p) for p in found if p is not None]


def _descriptors(index: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    manifests = index.get("manifests")
    if not isinstance(manifests, list):
        return []
    return [d for d in manifests if isinstance(d, Mapping)]
