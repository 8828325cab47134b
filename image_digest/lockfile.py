"""`image-digest.lock`: the pins, reviewable in git and usable when the registry is down.

JSON with sorted keys and entries, one entry per (canonical reference, platform). An entry
keeps the date it was first resolved to its digest, so re-resolving to the same digest
changes nothing and git shows no noise. Writes take a file lock, re-read, merge and replace
the file atomically, so concurrent writers (parallel CI jobs, threads) all land.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from image_digest.errors import LockError
from image_digest.reference import validate_digest

LOCK_FORMAT = "image-digest.lock/v1"
DEFAULT_LOCK_NAME = "image-digest.lock"


@dataclass(frozen=True)
class LockEntry:
    reference: str
    platform: str | None
    digest: str
    media_type: str | None
    resolved_at: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.reference, self.platform or "")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "digest": self.digest,
            "reference": self.reference,
            "resolved_at": self.resolved_at,
        }
        if self.platform:
            data["platform"] = self.platform
        if self.media_type:
            data["media_type"] = self.media_type
        return data


class LockFile:
    """Reads and updates one lock file; thread-safe, and safe across processes."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._entries: dict[tuple[str, str], LockEntry] | None = None
        self._lock = threading.Lock()

    def get(self, reference: str, platform: str | None) -> LockEntry | None:
        """The entry for a canonical reference and platform, if locked."""
        with self._lock:
            return self._load().get((reference, platform or ""))

    def entries(self) -> list[LockEntry]:
        with self._lock:
            return [entry for _, entry in sorted(self._load().items())]

    def record(self, pins: Iterable[tuple[str, str | None, str, str | None]]) -> bool:
        """Merge (reference, platform, digest, media_type) pins; write only if something changed."""
        pins = list(pins)
        if not pins:
            return False
        with self._lock, FileLock(f"{self.path}.flock", timeout=60):
            entries = _read(self.path)
            changed = False
            now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
            for reference, platform, digest, media_type in pins:
                key = (reference, platform or "")
                old = entries.get(key)
                if old is not None and old.digest == digest:
                    continue
                entries[key] = LockEntry(reference, platform, digest, media_type, now)
                changed = True
            if changed:
                _write_atomically(self.path, entries)
            self._entries = entries
            return changed

    def _load(self) -> dict[tuple[str, str], LockEntry]:
        if self._entries is None:
            self._entries = _read(self.path)
        return self._entries


def render(entries: dict[tuple[str, str], LockEntry]) -> str:
    document = {
        "format": LOCK_FORMAT,
        "images": [entry.to_json() for _, entry in sorted(entries.items())],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _read(path: Path) -> dict[tuple[str, str], LockEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise LockError(f"cannot read lock file {path}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise LockError(
            f"lock file {path} is not valid JSON (line {getattr(exc, 'lineno', '?')}); it was "
            "left untouched: restore it from git, or delete it and run `image-digest lock`"
        ) from None
    if not isinstance(document, dict) or document.get("format") != LOCK_FORMAT:
        raise LockError(
            f'lock file {path} is not an image-digest lock (expected "format": '
            f'"{LOCK_FORMAT}"); it was left untouched: point --lock/IMAGE_DIGEST_LOCK elsewhere'
        )
    images = document.get("images")
    if not isinstance(images, list):
        raise LockError(f'lock file {path}: "images" must be a list; it was left untouched')
    entries: dict[tuple[str, str], LockEntry] = {}
    for position, item in enumerate(images):
        entry = _entry(item, path, position)
        entries[entry.key] = entry
    return entries


def _entry(item: Any, path: Path, position: int) -> LockEntry:
    where = f"lock file {path}, images[{position}]"
    if not isinstance(item, dict):
        raise LockError(f"{where} must be an object; the file was left untouched")
    reference, digest = item.get("reference"), item.get("digest")
    if not isinstance(reference, str) or not isinstance(digest, str):
        raise LockError(
            f"{where} needs string 'reference' and 'digest'; the file was left untouched"
        )
    try:
        validate_digest(digest)
    except LockError:
        raise
    except Exception:
        raise LockError(f"{where} has a malformed digest {digest[:80]!r}") from None
    platform, media_type = item.get("platform"), item.get("media_type")
    resolved_at = item.get("resolved_at")
    return LockEntry(
        reference,
        platform if isinstance(platform, str) else None,
        digest,
        media_type if isinstance(media_type, str) else None,
        resolved_at if isinstance(resolved_at, str) else "",
    )


def _write_atomically(path: Path, entries: dict[tuple[str, str], LockEntry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render(entries))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
