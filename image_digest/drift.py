"""Compare a lock file with the registry: which tags moved, and which pins still exist.

`check_lock` is what `image-digest check` and `Resolver.check` run. It never writes the lock.
A moved tag is described as a code change: the old and new digests' revision, source, version
and created (from the lock when `lock --labels` recorded them, else read by digest) and a
compare URL on GitHub or GitLab. Entries recorded with labels are looked up with a manifest GET
instead of a HEAD, so describing their new digest costs one request (its config).

`verify_exists=True` asks a different question, for rollbacks and cleanup policies: does the
registry still have every locked digest? One HEAD per digest, never by tag: "deleted" when it
answers not found, "cannot see" when it answers 401/403 (the digest may well be there).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from image_digest.errors import AuthenticationError, DigestError, NotFoundError
from image_digest.lockfile import LockEntry, LockFile
from image_digest.provenance import Provenance, compare_url
from image_digest.reference import parse
from image_digest.resolved import ResolvedImage
from image_digest.signatures.errors import SignatureError

if TYPE_CHECKING:
    from image_digest.resolver import Resolver

Status = Literal[
    "unchanged", "moved", "missing", "unchecked", "present", "deleted", "cannot_see", "unverified"
]
#: Statuses that fail a gate: the deployment would change, or a pin cannot be deployed (its
#: signature no longer verifies, with a resolver that verifies).
DRIFT: tuple[Status, ...] = ("moved", "missing", "deleted", "unverified")
STATUSES: tuple[Status, ...] = (
    "unchanged",
    "moved",
    "missing",
    "unchecked",
    "present",
    "deleted",
    "cannot_see",
    "unverified",
)


@dataclass
class Finding:
    """One lock entry, checked. `old`/`new` describe the locked and current digests."""

    entry: LockEntry
    status: Status
    current: str | None = None
    old: Provenance = field(default_factory=Provenance)
    new: Provenance = field(default_factory=Provenance)
    note: str | None = None

    @property
    def compare_url(self) -> str | None:
        return compare_url(self.old, self.new) if self.status == "moved" else None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "reference": self.entry.reference,
            "platform": self.entry.platform,
            "status": self.status,
            "locked_digest": self.entry.digest,
            "current_digest": self.current,
            "note": self.note,
        }
        for name, value in self.old.as_dict().items():
            data[f"locked_{name}"] = value
        for name, value in self.new.as_dict().items():
            data[f"current_{name}"] = value
        data["compare_url"] = self.compare_url
        return data


def check_lock(resolver: Resolver, lock: LockFile, *, verify_exists: bool = False) -> list[Finding]:
    """Every entry of `lock` (sorted), checked against the registry with `resolver`."""
    entries = lock.entries()
    if verify_exists:
        return _existence(resolver, entries)
    current: dict[tuple[str, str | None], ResolvedImage | DigestError] = {}
    groups: dict[tuple[str | None, bool], list[LockEntry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.platform, entry.provenance.known())].append(entry)
    for (platform, known), group in groups.items():
        outcome = resolver.resolve_each(
            [e.reference for e in group], platform=platform, fetch_manifests=known
        )
        for reference, result in outcome.items():
            current[(reference, platform)] = result
    findings = []
    for entry in entries:
        result = current[(entry.reference, entry.platform)]
        if isinstance(result, NotFoundError):
            finding = Finding(entry, "missing", note=str(result))
        elif isinstance(result, SignatureError):
            finding = Finding(entry, "unverified", note=str(result))
        elif isinstance(result, DigestError):
            finding = Finding(entry, "unchecked", note=str(result))
        elif result.digest == entry.digest:
            finding = Finding(entry, "unchanged", result.digest, old=entry.provenance)
        else:
            finding = Finding(entry, "moved", result.digest)
            _explain(resolver, finding)
        findings.append(finding)
    return findings


def _explain(resolver: Resolver, finding: Finding) -> None:
    """Describe a moved entry's old digest (from the lock, else the registry) and new one."""
    entry = finding.entry
    name = parse(entry.reference).name
    finding.old = entry.provenance
    if not finding.old.known():
        try:
            finding.old = resolver.inspect(f"{name}@{entry.digest}").provenance
        except NotFoundError:
            finding.note = "no longer in the registry"
        except DigestError:
            pass  # a courtesy; the drift itself is already certain
    assert finding.current is not None
    with contextlib.suppress(DigestError):
        finding.new = resolver.inspect(f"{name}@{finding.current}").provenance


def _existence(resolver: Resolver, entries: list[LockEntry]) -> list[Finding]:
    def probe(entry: LockEntry) -> Finding:
        pinned = f"{parse(entry.reference).name}@{entry.digest}"
        try:
            present = resolver.exists(pinned)
        except AuthenticationError as exc:
            return Finding(entry, "cannot_see", note=str(exc))
        except DigestError as exc:
            return Finding(entry, "unchecked", note=str(exc))
        if present:
            return Finding(entry, "present", entry.digest)
        return Finding(entry, "deleted", note=f"{pinned}: the registry answered not found")

    workers = min(resolver.max_workers, max(1, len(entries)))
    with ThreadPoolExecutor(workers, thread_name_prefix="image-digest-exists") as pool:
        return list(pool.map(probe, entries))
