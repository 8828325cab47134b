"""`image-digest check`: does every locked tag still point at its locked digest?

The "expect no changes" gate for CI. Each entry is looked up again with a read-only `Lookup`,
which cannot write the lock whatever IMAGE_DIGEST_MODE says; a moved tag prints
`REF: OLD (revision R1) -> NEW (revision R2)` and, beneath it, the life of the pin: each
digest's revision, version, created and source, and a GitHub/GitLab compare URL (see
`image_digest.pinning.drift`). `--exists` asks instead whether the registry still has every locked
digest (HEAD by digest), telling "deleted" from "cannot see". With a verification key
(`--verify-key`, else the lock's `settings.verify_key`) every digest's cosign signature is
verified again; a lock that records signatures cannot be checked without one.

Exit status: 0 nothing moved (or every pin exists); 1 some tag moved or no longer exists, or
some pinned digest was deleted, or no longer has a signature by the key that verifies
(drift); 2 the lock file is missing, corrupt or foreign
(nothing was checked); 3 some entries could not be checked (registry unreachable,
authentication) and none drifted.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from image_digest.commands.options import (
    add_lock_option,
    add_registry_options,
    add_verify_option,
    read_only_lookup,
)
from image_digest.commands.report import (
    EXIT_DRIFT,
    EXIT_OK,
    EXIT_UNCHECKED,
    UsageError,
    change_lines,
    describe,
    error,
    existing_lock,
    lock_path,
    subject,
)
from image_digest.pinning.drift import DRIFT, STATUSES, Finding, check_lock
from image_digest.pinning.verify_key import verification_key


def run_check(args: argparse.Namespace) -> int:
    path = lock_path(args.lock)
    lock = existing_lock(path, "there is nothing to check")
    entries = lock.entries()  # a bad lock fails here, before any request
    key = verification_key(args.verify_key, lock)
    signed = sorted({e.signature["key"] for e in entries if e.signature})
    if key is None and signed and not args.exists:
        raise UsageError(
            f"{path} records signatures verified with key {', '.join(signed)}; pass "
            "--verify-key PATH (or set settings.verify_key in the lock) so check verifies them "
            "again"
        )
    with read_only_lookup(args) as lookup:
        findings = check_lock(lookup, lock, verify_exists=args.exists, key=key)
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2, sort_keys=True))
    else:
        for finding in findings:
            print("\n".join(_lines(finding)))
    for finding in findings:
        if finding.status in ("unchecked", "cannot_see"):
            error(f"could not check {finding.entry.reference}: {finding.note}")
    drift = [f for f in findings if f.status in DRIFT]
    unchecked = [f for f in findings if f.status in ("unchecked", "cannot_see")]
    if not args.json:
        print(_summary(path, findings, drift, unchecked))
    if drift:
        return EXIT_DRIFT
    return EXIT_UNCHECKED if unchecked else EXIT_OK


def _lines(finding: Finding) -> list[str]:
    entry = finding.entry
    name = subject(entry.reference, entry.platform)
    old = describe(entry.digest, finding.old.revision)
    status = finding.status
    if status in ("unchanged", "present"):
        return [f"{name}: {old} ({status})"]
    if status == "deleted":
        return [f"{name}: {old} -> deleted: the registry no longer has it"]
    if status == "cannot_see":
        return [f"{name}: {old} -> cannot see: the registry refused these credentials"]
    if status == "missing":
        return [f"{name}: {old} -> not found ({finding.note})"]
    if status == "unverified":
        return [f"{name}: {old} -> signature does not verify ({finding.note})"]
    if status == "unchecked":
        return [f"{name}: {old} -> could not check (see the error below)"]
    assert finding.current is not None
    if finding.note:
        old = f"{old} ({finding.note})"
    head = f"{name}: {old} -> {describe(finding.current, finding.new.revision)}"
    return [head, *change_lines(finding.old, finding.new)]


def _summary(
    path: str, findings: list[Finding], drift: list[Finding], unchecked: list[Finding]
) -> str:
    counts = {status: sum(f.status == status for f in findings) for status in STATUSES}
    parts = (
        ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n)
        or "no entries"
    )
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
    if any(f.status == "unverified" for f in drift):
        text += "\nsome digests have no valid signature by the verification key any more: "
        text += "sign them again (cosign sign --key ...), or lock signed digests"
    if any(f.status == "deleted" for f in drift):
        text += "\nsome locked digests were deleted from their registry, so they cannot be "
        text += "deployed or rolled back to: push them again, or lock the tags anew with "
        text += "image-digest lock; keep pins out of cleanup with image-digest pins --json"
    if any(f.status == "cannot_see" for f in unchecked):
        text += "\nsome registries refused these credentials (401/403), so whether those "
        text += "digests exist is unknown: log in (see the errors) and check again"
    if unchecked:
        text += "\nsome entries could not be checked (see the errors); the gate fails"
    return text


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `check` to the CLI."""
    check = commands.add_parser(
        "check",
        description="Resolve every locked reference again, without writing the lock. Exit 0 if "
        "none moved; 1 if any moved or is gone (printing REF: OLD -> NEW with revisions); 2 if "
        "the lock file is missing or invalid; 3 if some could not be checked.",
    )
    add_lock_option(check)
    check.add_argument("--json", action="store_true", help="print a JSON array of findings")
    check.add_argument(
        "--exists",
        action="store_true",
        help="instead, HEAD every locked digest (by digest, not tag): exit 1 naming each one "
        "the registry deleted, 3 for those it will not show (401/403)",
    )
    add_verify_option(check)
    add_registry_options(check)
    check.set_defaults(run=run_check)
