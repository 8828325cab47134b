"""`image-digest.lock`: the pins, reviewable in git and usable when the registry is down.

JSON with sorted keys and entries, one entry per (canonical reference, platform):

    {
      "format": "image-digest.lock/v1",
      "images": [
        {
          "digest": "sha256:...",
          "media_type": "application/vnd.oci.image.index.v1+json",
          "reference": "docker.io/library/nginx:1.25",
          "resolved_at": "2026-01-02T03:04:05Z",
          "revision": "6f1e0c2..."
        }
      ]
    }

`platform` appears when the entry was resolved for one; `revision`, `source`, `version` and
`created` (the image's OCI labels, see `provenance`) when they were read; `first_seen` maps a
newer digest the tag points at but that `min_age` holds back to when it was first seen;
`signature` (`key`, `payload`, `signature`) is the cosign signature the digest was verified
with, and by which key's fingerprint, when it was (see `image_digest.signatures`).

An optional top-level `"settings"` object holds options for every resolver that uses the lock
(so CI, programs and the CLI agree without repeating them): `"mirrors": {"docker.io":
"mirror.example:5000/hub"}`, `"deploy_from": "mirror"`, `"verify_key"` (the public key file
signatures are verified with, relative to the lock's directory); writes keep it as written. An
entry keeps the date it was first resolved to its digest, so re-resolving to the same digest
changes nothing and git shows no noise. Writes take a file lock (`<lock>.flock` beside the
file), re-read, merge and replace the file atomically, so concurrent writers (parallel CI
jobs, threads) all land. A file that is not a lock (corrupt, truncated, foreign) is an
error and is never rewritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from image_digest.atomic import MissingDirectoryError, atomic_write
from image_digest.errors import DigestError, InputLimitError, LockError, shorten
from image_digest.names.platform import parse_platform
from image_digest.names.provenance import REVISION_LABEL as REVISION_LABEL
from image_digest.names.provenance import Provenance
from image_digest.names.reference import parse, validate_digest
from image_digest.pinning.age import parse_time, stamp, utc_now
from image_digest.safe_load import load_json

LOCK_FORMAT = "image-digest.lock/v1"
DEFAULT_LOCK_NAME = "image-digest.lock"
FILE_LOCK_TIMEOUT = 60.0

Key = tuple[str, str]
Clock = Callable[[], datetime]
_PROVENANCE = ("revision", "source", "version", "created")


@dataclass(frozen=True)
class LockEntry:
    """One pin: a canonical reference (and platform) and the digest it resolved to."""

    reference: str
    platform: str | None
    digest: str
    media_type: str | None
    resolved_at: str
    revision: str | None = None
    source: str | None = None
    version: str | None = None
    created: str | None = None
    first_seen: Mapping[str, str] = field(default_factory=dict)
    signature: Mapping[str, str] | None = None

    @property
    def key(self) -> Key:
        return (self.reference, self.platform or "")

    @property
    def provenance(self) -> Provenance:
        """The locked digest's revision, source, version and created, as recorded."""
        return Provenance(self.revision, self.source, self.version, self.created)

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
        for name in _PROVENANCE:
            if value := getattr(self, name):
                data[name] = value
        if self.first_seen:
            data["first_seen"] = dict(sorted(self.first_seen.items()))
        if self.signature:
            data["signature"] = dict(sorted(self.signature.items()))
        return data


class LockPin(NamedTuple):
    """What `LockFile.record` takes: a fresh answer from the registry."""

    reference: str
    platform: str | None
    digest: str
    media_type: str | None
    revision: str | None = None
    source: str | None = None
    version: str | None = None
    created: str | None = None
    signature: Mapping[str, str] | None = None

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.revision, self.source, self.version, self.created)


class LockFile:
    """Reads and updates one lock file; thread-safe, and safe across processes.

    Reads are cached for the object's lifetime (one program run); every write re-reads the
    file under the file lock first, so entries other writers added meanwhile are kept.
    `clock` (default: the system's UTC time) dates new entries; tests pass their own.
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: Clock | None = None):
        self.path = Path(path)
        self.clock = clock or utc_now
        self._entries: dict[Key, LockEntry] | None = None
        # The file as it was when `_entries` was read or written: unchanged since (no other
        # writer replaced it), a write need not read and validate it all again.
        self._seen: tuple[int, int, int] | None = None
        self._texts: dict[Key, tuple[LockEntry, str]] = {}  # each entry's rendered text
        self._settings: dict[str, Any] = {}
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self.path.exists()

    def get(self, reference: str, platform: str | None) -> LockEntry | None:
        """The entry for a canonical reference and platform, if locked."""
        with self._lock:
            return self._load().get((reference, platform or ""))

    def settings(self) -> dict[str, Any]:
        """The lock's `settings` object ({} when it has none); raises `LockError` if invalid."""
        with self._lock:
            self._load()
            return dict(self._settings)

    def entries(self) -> list[LockEntry]:
        """Every entry, sorted; raises `LockError` if the file is not a valid lock."""
        with self._lock:
            return [entry for _, entry in sorted(self._load().items())]

    def record(self, pins: Iterable[LockPin | tuple[str, str | None, str, str | None]]) -> bool:
        """Merge `(reference, platform, digest, media_type[, revision, source, ...])` pins.

        An entry whose digest is unchanged keeps its `resolved_at`; it only gains provenance
        it lacked (a digest's labels never change) and a signature by a key it had none by
        (one by the same key is kept: re-signing makes no noise), and forgets digests it had
        held back. A
        new digest is dated when this lock first saw it (`first_seen`), else now. The file
        is written only if something changed; returns whether it was. Pins that change
        nothing this object has read cost no file lock, no re-read and no write.
        """
        fresh = [LockPin(*pin) for pin in pins]
        if not fresh:
            return False

        def merge(entries: dict[Key, LockEntry]) -> bool:
            changed = False
            now = stamp(self.clock())
            for pin in fresh:
                key = (pin.reference, pin.platform or "")
                old = entries.get(key)
                if old is not None and old.digest == pin.digest:
                    gained = {
                        name: getattr(pin, name)
                        for name in _PROVENANCE
                        if getattr(pin, name) and not getattr(old, name)
                    }
                    signature = old.signature
                    if pin.signature and (old.signature or {}).get("key") != pin.signature.get(
                        "key"
                    ):
                        signature = pin.signature
                    if gained or old.first_seen or signature is not old.signature:
                        entries[key] = replace(old, first_seen={}, signature=signature, **gained)
                        changed = True
                    continue
                seen = old.first_seen.get(pin.digest) if old is not None else None
                entries[key] = LockEntry(
                    pin.reference,
                    pin.platform,
                    pin.digest,
                    pin.media_type,
                    seen or now,
                    **{name: getattr(pin, name) for name in _PROVENANCE},
                    signature=pin.signature or None,
                )
                changed = True
            return changed

        with self._lock:
            if not merge(dict(self._load())):
                return False
        return self._update(merge)

    def hold(self, reference: str, platform: str | None, digest: str) -> str | None:
        """Note that the entry's tag now points at `digest`, held back by `min_age`: keep the
        locked digest, record when `digest` was first seen (kept on later calls, so the file
        does not change again), and return that time. None if there is no entry to hold."""
        key = (reference, platform or "")
        with self._lock:
            cached = self._load().get(key)
        if cached is not None and digest in cached.first_seen:
            return cached.first_seen[digest]
        seen: list[str] = []

        def note(entries: dict[Key, LockEntry]) -> bool:
            entry = entries.get(key)
            if entry is None or entry.digest == digest:
                return False
            if digest in entry.first_seen:
                seen.append(entry.first_seen[digest])
                return False
            seen.append(stamp(self.clock()))
            entries[key] = replace(entry, first_seen={digest: seen[0]})
            return True

        self._update(note)
        return seen[0] if seen else None

    def prune(self, keep: Iterable[tuple[str, str | None]]) -> list[LockEntry]:
        """Remove every entry whose (reference, platform) is not in `keep`; return them."""
        wanted = {(reference, platform or "") for reference, platform in keep}
        removed: list[LockEntry] = []

        def drop(entries: dict[Key, LockEntry]) -> bool:
            for key in sorted(set(entries) - wanted):
                removed.append(entries.pop(key))
            return bool(removed)

        self._update(drop)
        return removed

    def _update(self, change: Callable[[dict[Key, LockEntry]], bool]) -> bool:
        with self._lock, self._file_lock():
            if self._entries is not None and self._seen == _identity(self.path):
                entries, settings = dict(self._entries), self._settings
            else:
                entries, settings = _read(self.path)
            changed = change(entries)
            if changed:
                self._write(entries, settings)
            self._entries, self._settings = entries, settings
            self._seen = _identity(self.path)
            return changed

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        from filelock import FileLock, Timeout  # on first write: most runs only read

        flock = FileLock(f"{self.path}.flock", timeout=FILE_LOCK_TIMEOUT)
        if not self.path.parent.is_dir():
            raise LockError(
                f"cannot write lock file {self.path}: its directory {self.path.parent} does not "
                "exist; create it, or point --lock/IMAGE_DIGEST_LOCK elsewhere"
            )
        try:
            flock.acquire()
        except Timeout:
            raise LockError(
                f"lock file {self.path}: another process has held {flock.lock_file} for over "
                f"{FILE_LOCK_TIMEOUT:g} s; if none is running, delete that file and retry"
            ) from None
        except OSError as exc:
            raise LockError(
                f"cannot lock {self.path} for writing ({flock.lock_file}: {exc.strerror}); "
                "check that its directory is writable"
            ) from None
        try:
            yield
        finally:
            flock.release()

    def _write(self, entries: dict[Key, LockEntry], settings: Mapping[str, Any]) -> None:
        try:
            atomic_write(self.path, render(entries, self._texts, settings))
        except MissingDirectoryError as exc:
            raise LockError(
                f"cannot write lock file {self.path}: {exc.strerror}; or point "
                "--lock/IMAGE_DIGEST_LOCK elsewhere"
            ) from None
        except OSError as exc:
            raise LockError(f"cannot write lock file {self.path}: {exc.strerror}") from None

    def _load(self) -> dict[Key, LockEntry]:
        if self._entries is None:
            seen = _identity(self.path)
            self._entries, self._settings = _read(self.path)
            self._seen = seen if seen == _identity(self.path) else None
        return self._entries


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Which file `path` is now (inode, size, mtime): a writer's rename changes it."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


def render(
    entries: dict[Key, LockEntry],
    texts: dict[Key, tuple[LockEntry, str]] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> str:
    """The file's exact text for `entries` (stable: the same entries give the same bytes):
    `json.dumps(document, indent=2, sort_keys=True)`, built from each entry's own text, which
    `texts` keeps between writes, so recording one pin does not encode every other entry again
    (json's indenting encoder is pure Python). `settings`, when not empty, is written as given."""
    texts = {} if texts is None else texts
    parts = []
    for key, entry in sorted(entries.items()):
        kept = texts.get(key)
        if kept is None or kept[0] is not entry:
            encoded = json.dumps(entry.to_json(), indent=2, sort_keys=True)
            kept = texts[key] = (entry, "\n".join("    " + line for line in encoded.splitlines()))
        parts.append(kept[1])
    for key in set(texts) - set(entries):
        del texts[key]
    images = "[\n" + ",\n".join(parts) + "\n  ]" if parts else "[]"
    tail = ""
    if settings:
        encoded = json.dumps(dict(settings), indent=2, sort_keys=True)
        tail = ',\n  "settings": ' + encoded.replace("\n", "\n  ")
    return f'{{\n  "format": {json.dumps(LOCK_FORMAT)},\n  "images": {images}{tail}\n}}\n'


def _read(path: Path) -> tuple[dict[Key, LockEntry], dict[str, Any]]:
    untouched = "it was left untouched"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, {}
    except UnicodeDecodeError:
        raise LockError(
            f"lock file {path} is not UTF-8 text, so not an image-digest lock; {untouched}: "
            "restore it from git, or point --lock/IMAGE_DIGEST_LOCK elsewhere"
        ) from None
    except OSError as exc:
        raise LockError(f"cannot read lock file {path}: {exc.strerror}") from None
    if not text.strip():
        raise LockError(
            f"lock file {path} is empty (truncated?); {untouched}: restore it from git, or "
            "delete it and run `image-digest lock REF...` again"
        )
    try:
        document = load_json(text, f"lock file {path}")
    except InputLimitError as exc:
        raise LockError(f"{exc}; {untouched}") from None
    except ValueError as exc:
        where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "somewhere"
        conflict = " (it has git merge conflict markers)" if "\n<<<<<<< " in f"\n{text}" else ""
        raise LockError(
            f"lock file {path} is not valid JSON ({where}){conflict}; {untouched}: restore it "
            "from git, or delete it and run `image-digest lock REF...` again"
        ) from None
    if not isinstance(document, dict) or document.get("format") != LOCK_FORMAT:
        raise LockError(
            f'lock file {path} is not an image-digest lock (expected "format": '
            f'"{LOCK_FORMAT}"); {untouched}: point --lock/IMAGE_DIGEST_LOCK at another path'
        )
    images = document.get("images")
    if not isinstance(images, list):
        raise LockError(f'lock file {path}: "images" must be a list; {untouched}')
    entries: dict[Key, LockEntry] = {}
    for position, item in enumerate(images):
        entry = _entry(item, path, position)
        if entry.key in entries:
            raise LockError(
                f"lock file {path} lists {entry.reference}"
                f"{' for ' + entry.platform if entry.platform else ''} twice (images[{position}]); "
                f"{untouched}: keep one of them (a merge gone wrong?)"
            )
        entries[entry.key] = entry
    return entries, _settings(document.get("settings"), path)


def _settings(value: Any, path: Path) -> dict[str, Any]:
    """The `settings` object, kept as written; each setting is checked by the code that reads
    it (`verify_key`: `image_digest.pinning.verify_key`)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LockError(f'lock file {path}: "settings" must be an object; it was left untouched')
    return dict(value)


def _entry(item: Any, path: Path, position: int) -> LockEntry:
    where = f"lock file {path}, images[{position}]"
    untouched = "the file was left untouched"
    if not isinstance(item, dict):
        raise LockError(f"{where} must be an object; {untouched}")
    reference, digest = item.get("reference"), item.get("digest")
    if not isinstance(reference, str) or not isinstance(digest, str):
        raise LockError(f"{where} needs string 'reference' and 'digest'; {untouched}")
    try:
        parsed = parse(reference)
    except DigestError as exc:
        raise LockError(f"{where}: {exc}; {untouched}") from None
    if parsed.digest is not None or str(parsed) != reference:
        canonical = str(parsed) if parsed.digest is None else "a reference without a digest"
        raise LockError(
            f"{where}: reference {shorten(reference)!r} is not in canonical form (expected "
            f"{canonical!r}); {untouched}: fix it or re-run `image-digest lock`"
        )
    try:
        validate_digest(digest)
    except DigestError:
        raise LockError(
            f"{where} has a malformed digest {shorten(digest, 80)!r}; {untouched}"
        ) from None
    platform = _optional_string(item, "platform", where)
    if platform is not None:
        try:
            normal = str(parse_platform(platform))
        except DigestError as exc:
            raise LockError(f"{where}: {exc}; {untouched}") from None
        if normal != platform:
            raise LockError(f"{where}: platform {platform!r} should be written {normal!r}")
    return LockEntry(
        reference,
        platform,
        digest,
        _optional_string(item, "media_type", where),
        _optional_string(item, "resolved_at", where) or "",
        **{name: _optional_string(item, name, where) for name in _PROVENANCE},
        first_seen=_first_seen(item.get("first_seen"), where),
        signature=_entry_signature(item.get("signature"), where),
    )


def _entry_signature(value: Any, where: str) -> dict[str, str] | None:
    """`{"key": "sha256:...", "payload": base64, "signature": base64}`: the verified signature."""
    if value is None:
        return None
    names = ("key", "payload", "signature")
    if (
        not isinstance(value, dict)
        or set(value) != set(names)
        or not all(isinstance(value[name], str) and value[name] for name in names)
    ):
        raise LockError(
            f"{where}: 'signature' must be an object of strings 'key', 'payload' and "
            "'signature' (written by `image-digest lock --verify-key`); the file was left "
            "untouched"
        )
    return dict(value)


def _first_seen(value: Any, where: str) -> dict[str, str]:
    """`{"sha256:...": "2026-...Z"}`: digests held back by min_age, and when they were seen."""
    if value is None:
        return {}
    problem = "'first_seen' must map digests to times like \"2026-03-01T12:00:00Z\""
    if not isinstance(value, dict):
        raise LockError(f"{where}: {problem}; the file was left untouched")
    for digest, seen in value.items():
        try:
            validate_digest(digest)
        except DigestError:
            raise LockError(
                f"{where}: {problem}, and {shorten(str(digest), 80)!r} is not a digest; "
                "the file was left untouched"
            ) from None
        if parse_time(seen) is None:
            raise LockError(
                f"{where}: {problem}, and {shorten(str(seen), 80)!r} is not a time; "
                "the file was left untouched"
            )
    return dict(value)


def _optional_string(item: dict[str, Any], name: str, where: str) -> str | None:
    value = item.get(name)
    if value is None or isinstance(value, str):
        return value or None
    raise LockError(f"{where}: {name!r} must be a string; the file was left untouched")
