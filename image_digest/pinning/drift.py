"""Compare a lock file with the registry: which tags moved, and which pins still exist.

`check_lock` is what `image-digest check` and `Resolver.check` run. It takes a read-only
`Lookup`, which has no way to reach a lock writer: checking never records, whatever the mode.
A moved tag is described as a code change: the old and new digests' revision, source, version
and created (from the lock when `lock --labels` recorded them, else read by digest) and a
compare URL on GitHub or GitLab. Entries recorded with labels are looked up with a manifest GET
instead of a HEAD, so describing their new digest costs one request (its config).

`verify_exists=True` asks a different question, for rollbacks and cleanup policies: does the
registry still have every locked digest? One HEAD per digest, never by tag, after one token
request per registry for all its repositories: "deleted" when it answers not found, "cannot
see" when it answers 401/403 (the digest may well be there).

With a verification `key`, each current digest's cosign signature is verified again through
the same read-only lookup: "unverified" when none by the key counts any more.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from image_digest.errors import AuthenticationError, DigestError, NotFoundError
from image_digest.names.provenance import Provenance, compare_url
from image_digest.names.reference import Reference, parse
from image_digest.names.resolved import ResolvedImage
from image_digest.pinning.lockfile import LockEntry, LockFile
from image_digest.signatures.errors import SignatureError

if TYPE_CHECKING:
    from image_digest.lookup import Lookup
    from image_digest.signatures import VerificationKey
    from image_digest.transport.deadline import Deadline

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


def check_lock(
    lookup: Lookup,
    lock: LockFile,
    *,
    verify_exists: bool = False,
    key: VerificationKey | None = None,
) -> list[Finding]:
    """Every entry of `lock` (sorted), checked against the registry with `lookup`; with `key`,
    each current digest's signature verified again (`unverified` when it no longer is)."""
    entries = lock.entries()
    if verify_exists:
        return _existence(lookup, entries)
    current: dict[tuple[str, str | None], ResolvedImage | DigestError] = {}
    groups: dict[tuple[str | None, bool], list[LockEntry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.platform, entry.provenance.known())].append(entry)
    for (platform, known), group in groups.items():
        outcome = lookup.find_each(
            [e.reference for e in group], platform=platform, fetch_manifests=known
        )
        for reference, result in outcome.items():
            current[(reference, platform)] = result
    if key is not None:
        _verify(lookup, current, key)
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
            # The same digest is the same content: its provenance is the locked one.
            same = entry.provenance
            finding = Finding(entry, "unchanged", result.digest, old=same, new=same)
        else:
            finding = Finding(entry, "moved", result.digest)
            _explain(lookup, finding)
        findings.append(finding)
    return findings


def _verify(
    lookup: Lookup,
    current: dict[tuple[str, str | None], ResolvedImage | DigestError],
    key: VerificationKey,
) -> None:
    """Replace each found digest whose signature by `key` does not verify with that
    `SignatureError`; one verification per repository and digest, concurrently."""
    pinned: dict[Reference, str] = {}
    for (text, _), result in current.items():
        if isinstance(result, ResolvedImage):
            pinned.setdefault(parse(result.repo_digest), text)

    def work(reference: Reference, batch: Deadline) -> str:
        assert reference.digest is not None
        text = pinned[reference]
        return lookup.signature(parse(text), text, reference.digest, key, batch).key

    verified = lookup.run(work, pinned, pinned)
    for where, result in current.items():
        if isinstance(result, ResolvedImage):
            answer = verified[parse(result.repo_digest)]
            current[where] = (
                answer if isinstance(answer, DigestError) else replace(result, verified_by=answer)
            )


def _explain(lookup: Lookup, finding: Finding) -> None:
    """Describe a moved entry's old digest (from the lock, else the registry) and new one."""
    entry = finding.entry
    name = parse(entry.reference).name
    finding.old = entry.provenance
    if not finding.old.known():
        try:
            finding.old = lookup.inspect(f"{name}@{entry.digest}").provenance
        except NotFoundError:
            finding.note = "no longer in the registry"
        except DigestError:
            pass  # a courtesy; the drift itself is already certain
    assert finding.current is not None
    with contextlib.suppress(DigestError):
        finding.new = lookup.inspect(f"{name}@{finding.current}").provenance


def _existence(lookup: Lookup, entries: list[LockEntry]) -> list[Finding]:
    pinned = {entry.key: f"{parse(entry.reference).name}@{entry.digest}" for entry in entries}
    answers = lookup.exist_each(pinned.values())
    findings = []
    for entry in entries:
        ref = pinned[entry.key]
        answer = answers[ref]
        if isinstance(answer, AuthenticationError):
            findings.append(Finding(entry, "cannot_see", note=str(answer)))
        elif isinstance(answer, DigestError):
            findings.append(Finding(entry, "unchecked", note=str(answer)))
        elif answer:
            same = entry.provenance
            findings.append(Finding(entry, "present", entry.digest, old=same, new=same))
        else:
            findings.append(
                Finding(entry, "deleted", note=f"{ref}: the registry answered not found")
            )
    return findings
