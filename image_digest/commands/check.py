"""`image-digest check`: does every locked tag still point at its locked digest?

The "expect no changes" gate for CI. Each entry is resolved again (never written back); a moved
tag prints `REF: OLD (revision R1) -> NEW (revision R2)`, with each digest's
`org.opencontainers.image.revision` label when it has one (the lock's stored revision, else
read from the registry by digest; an old digest that is gone says so).

Exit status: 0 nothing moved; 1 some tag moved or no longer exists (drift); 2 the lock file is
missing, corrupt or foreign (nothing was checked); 3 some entries could not be checked
(registry unreachable, authentication) and none moved.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from image_digest.commands.report import (
    EXIT_DRIFT,
    EXIT_OK,
    EXIT_UNCHECKED,
    describe,
    error,
    lock_path,
    revision_of,
    subject,
)
from image_digest.errors import DigestError, LockError, NotFoundError
from image_digest.lockfile import LockEntry, LockFile
from image_digest.reference import parse
from image_digest.resolved import ResolvedImage
from image_digest.resolver import Resolver

Status = Literal["unchanged", "moved", "missing", "unchecked"]


@dataclass
class Finding:
    """One lock entry, checked."""

    entry: LockEntry
    status: Status
    current: str | None = None
    locked_revision: str | None = None
    current_revision: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "reference": self.entry.reference,
            "platform": self.entry.platform,
            "status": self.status,
            "locked_digest": self.entry.digest,
            "current_digest": self.current,
            "locked_revision": self.locked_revision,
            "current_revision": self.current_revision,
            "note": self.note,
        }

    def line(self) -> str:
        name = subject(self.entry.reference, self.entry.platform)
        old = describe(self.entry.digest, self.locked_revision)
        if self.status == "unchanged":
            return f"{name}: {old} (unchanged)"
        if self.note and self.status == "moved":
            old = f"{old} ({self.note})"
        if self.status == "moved":
            assert self.current is not None
            return f"{name}: {old} -> {describe(self.current, self.current_revision)}"
        if self.status == "missing":
            return f"{name}: {old} -> not found ({self.note})"
        return f"{name}: {old} -> could not check (see the error below)"


def run_check(args: argparse.Namespace) -> int:
    path = lock_path(args.lock)
    lock = LockFile(path)
    if not lock.exists():
        raise LockError(
            f"lock file {path} does not exist, so there is nothing to check; create it with: "
            f"image-digest lock --lock {path} REF..."
        )
    entries = lock.entries()
    # lock="" keeps IMAGE_DIGEST_LOCK out: check reads the lock but never writes it.
    with Resolver(
        insecure_registries=args.insecure_registry,
        ca_bundle=args.ca_bundle,
        lock="",
        mode="resolve",
    ) as resolver:
        findings = _check(resolver, entries)
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2, sort_keys=True))
    else:
        for finding in findings:
            print(finding.line())
    for finding in findings:
        if finding.status == "unchecked":
            error(f"could not check {finding.entry.reference}: {finding.note}")
    drift = [f for f in findings if f.status in ("moved", "missing")]
    unchecked = [f for f in findings if f.status == "unchecked"]
    if not args.json:
        print(_summary(path, findings, drift, unchecked))
    if drift:
        return EXIT_DRIFT
    return EXIT_UNCHECKED if unchecked else EXIT_OK


def _check(resolver: Resolver, entries: list[LockEntry]) -> list[Finding]:
    by_platform: dict[str | None, list[LockEntry]] = defaultdict(list)
    for entry in entries:
        by_platform[entry.platform].append(entry)
    current: dict[tuple[str, str | None], ResolvedImage | DigestError] = {}
    for platform, group in by_platform.items():
        outcome = resolver.resolve_each([e.reference for e in group], platform=platform)
        for reference, result in outcome.items():
            current[(reference, platform)] = result
    findings = []
    for entry in entries:
        result = current[(entry.reference, entry.platform)]
        if isinstance(result, NotFoundError):
            finding = Finding(entry, "missing", note=str(result))
        elif isinstance(result, DigestError):
            finding = Finding(entry, "unchecked", note=str(result))
        elif result.digest == entry.digest:
            finding = Finding(entry, "unchanged", result.digest, entry.revision)
        else:
            finding = Finding(entry, "moved", result.digest)
            _explain(resolver, finding)
        findings.append(finding)
    return findings


def _explain(resolver: Resolver, finding: Finding) -> None:
    """Fill in the revisions of a moved entry's old and new digest, where they are known."""
    entry = finding.entry
    name = parse(entry.reference).name
    finding.locked_revision = entry.revision
    if finding.locked_revision is None:
        try:
            finding.locked_revision = revision_of(
                resolver.inspect(f"{name}@{entry.digest}", entry.platform)
            )
        except NotFoundError:
            finding.note = "no longer in the registry"
        except DigestError:
            pass  # the revision is a courtesy; the drift itself is already certain
    assert finding.current is not None
    with contextlib.suppress(DigestError):
        finding.current_revision = revision_of(
            resolver.inspect(f"{name}@{finding.current}", entry.platform)
        )


def _summary(
    path: str, findings: list[Finding], drift: list[Finding], unchecked: list[Finding]
) -> str:
    counts = {status: sum(f.status == status for f in findings) for status in _STATUSES}
    parts = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no entries"
    text = f"image-digest check: {len(findings)} entries in {path}: {parts}"
    moved: dict[str | None, list[str]] = defaultdict(list)
    for finding in drift:
        if finding.status == "moved":
            moved[finding.entry.platform].append(finding.entry.reference)
    if moved:
        commands = [
            f"image-digest lock --lock {path}{f' --platform {p}' if p else ''} {' '.join(refs)}"
            for p, refs in moved.items()
        ]
        text += f"\nto accept the new digests, run: {' && '.join(commands)}"
    if any(f.status == "missing" for f in drift):
        text += "\nsome locked references no longer exist: restore them, or drop them from the "
        text += "lock with image-digest lock --prune"
    if unchecked:
        text += "\nsome entries could not be checked (see the errors); the gate fails"
    return text


_STATUSES: tuple[Status, ...] = ("unchanged", "moved", "missing", "unchecked")
