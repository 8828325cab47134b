"""`image-digest lock REF... [--from FILE]`: resolve references and record them in the lock.

The lock is merged, not replaced: entries for other references (written by Pulumi or CDKTF
programs, or by other `lock` runs) stay, and an unchanged digest leaves the file untouched.
`--prune` removes every entry not named in this run, so `image-digest lock --prune --from
images.txt` makes the lock exactly the list.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from image_digest.commands.report import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    check_arguments,
    describe,
    error,
    lock_path,
    note,
    revision_of,
    subject,
    warn,
)
from image_digest.errors import DigestError
from image_digest.lockfile import Key, LockEntry
from image_digest.platform import parse_platform
from image_digest.reference import parse
from image_digest.resolved import ResolvedImage
from image_digest.resolver import Resolver


def run_lock(args: argparse.Namespace) -> int:
    refs = list(args.refs)
    check_arguments(refs, nothing="nothing was resolved or written")
    if args.from_file:
        refs += read_references(args.from_file)
    if not refs:
        raise UsageError(
            "no references to lock: name them (image-digest lock nginx:1.25) or list them "
            "one per line in a file (image-digest lock --from images.txt)"
        )
    platform = str(parse_platform(args.platform)) if args.platform else None
    path = lock_path(args.lock)
    with Resolver(
        insecure_registries=args.insecure_registry,
        ca_bundle=args.ca_bundle,
        lock=path,
        mode="resolve",
        with_labels=args.labels,
    ) as resolver:
        assert resolver.lock is not None
        lock = resolver.lock
        before = {entry.key: entry for entry in lock.entries()}  # a bad lock stops us here
        outcome = resolver.resolve_each(refs, platform=platform)
    wanted: dict[Key, ResolvedImage | DigestError] = {}
    for ref, result in outcome.items():
        if isinstance(result, ResolvedImage) and result.source == "reference":
            warn(f"{ref} already names a digest, so there is nothing to lock; left out")
            continue
        try:
            key = (str(parse(ref)), platform or "")
        except DigestError:
            key = (ref, platform or "")
        wanted.setdefault(key, result)

    counts = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0}
    failures = 0
    for (reference, _), result in sorted(wanted.items(), key=lambda item: item[0]):
        if isinstance(result, DigestError):
            failures += 1
            error(str(result))
            continue
        status = _status(before.get((reference, platform or "")), result)
        counts[status.split()[0]] += 1
        print(
            f"{subject(reference, platform)}: {describe(result.digest, revision_of(result))}"
            f" ({status})"
        )
    if args.prune:
        for entry in lock.prune((reference, p or None) for reference, p in wanted):
            counts["removed"] += 1
            print(f"{subject(entry.reference, entry.platform)}: {entry.digest} (removed)")
    _summary(path, counts, failures)
    return EXIT_FAILED if failures else EXIT_OK


def read_references(source: str) -> list[str]:
    """References from a file (`-` for stdin), one per line; `#` comments and blanks ignored.

    Every line is parsed here, so a typo fails with its file and line before any request.
    """
    name = "<stdin>" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read references from {name}: {reason}") from None
    refs: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        ref = line.split("#", 1)[0].strip()
        if not ref:
            continue
        try:
            parse(ref)
        except DigestError as exc:
            problems.append(f"{name}:{number}: {exc}")
            continue
        refs.append(ref)
    if problems:
        raise UsageError("; ".join(problems) + " (nothing was resolved or written)")
    return refs


def _status(old: LockEntry | None, result: ResolvedImage) -> str:
    if old is None:
        return "added"
    if old.digest == result.digest:
        return "unchanged"
    return f"updated from {describe(old.digest, old.revision)}"


def _summary(path: str, counts: dict[str, int], failures: int) -> None:
    changed = [f"{counts[k]} {k}" for k in ("added", "updated", "removed") if counts[k]]
    failed = f", {failures} failed (see the errors)" if failures else ""
    if changed:
        note(f"wrote {path}: {', '.join(changed)}, {counts['unchanged']} unchanged{failed}")
    else:
        note(f"{path}: no digest changed ({counts['unchanged']} unchanged{failed})")
