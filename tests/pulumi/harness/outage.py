"""What the `locked_then_down` fixture hands a test: a locked image whose registry is down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LockedImage:
    """An image recorded in `lock` while its registry was up; the registry is now down."""

    lock: Path
    reference: str
    digest: str
    pinned: str
