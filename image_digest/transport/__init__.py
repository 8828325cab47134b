"""HTTP to registries: one pooled session per registry, challenge-driven auth, bounded retries.

Only `TransportOptions` is imported with the package; the rest (and with it requests, urllib3
and socket) on first use, since that was most of `import image_digest`'s cost for programs and
CLI calls that never reach a registry.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from image_digest.transport.options import TransportOptions

if TYPE_CHECKING:
    from image_digest.transport.challenge import Challenge, parse_challenge
    from image_digest.transport.deadline import Deadline
    from image_digest.transport.http import RegistryTransport

__all__ = ["Challenge", "Deadline", "RegistryTransport", "TransportOptions", "parse_challenge"]

_LAZY = {
    "Challenge": "challenge",
    "parse_challenge": "challenge",
    "Deadline": "deadline",
    "RegistryTransport": "http",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
