"""`image-digest lock REF... [--from FILE]`: resolve references and record them in the lock.

The lock is merged, not replaced: entries for other references (written by Pulumi or CDKTF
programs, or by other `lock` runs) stay, and an unchanged digest leaves the file untouched.
`--prune` removes every entry not named in this run, so `image-digest lock --prune --from
images.txt` makes the lock exactly the list.

Every digest that changes is reported with the life of the pin: the old and new revision,
version, created and source, and a compare URL (see `report.change_lines`). The old side comes
from the lock; the new side costs one request (its config) when the entry was recorded with
`--labels`, since such entries are looked up with a manifest GET instead of a HEAD.
`--min-age` keeps a locked digest while the tag's new one is younger than that. `--json`
prints the same per reference, with the field names of `check --json`: `locked_*` is what the
lock held before this run, `current_*` what it holds now.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from image_digest.commands.options import (
    add_lock_option,
    add_min_age_option,
    add_mirror_options,
    add_registry_options,
    add_verify_option,
    options_from,
)
from image_digest.commands.report import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    change_lines,
    check_arguments,
    describe,
    error,
    lock_path,
    note,
    subject,
    warn,
)
from image_digest.errors import DigestError
from image_digest.names.platform import parse_platform
from image_digest.names.provenance import Provenance, compare_url
from image_digest.names.reference import parse
from image_digest.names.resolved import ResolvedImage
from image_digest.pinning.lockfile import Key, LockEntry, LockPin
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
    with options_from(args, lock=path, mode="resolve").build() as resolver:
        assert resolver.lock is not None
        lock = resolver.lock
        before = {entry.key: entry for entry in lock.entries()}  # a bad lock stops us here
        outcome = _resolve(resolver, refs, platform, before, args.labels)
        described = {
            ref: _describe(resolver, result, before, platform)
            for ref, result in outcome.items()
            if isinstance(result, ResolvedImage)
        }
        # Provenance read only to describe a change is kept too, so the next change of the
        # same entry is described from the lock (a digest's labels never change).
        lock.record(
            LockPin(str(parse(ref)), platform, result.digest, result.media_type, *known.values())
            for ref, known in described.items()
            if known.known()
            and isinstance(result := outcome[ref], ResolvedImage)
            and result.labels is None
        )
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

    counts = {"added": 0, "updated": 0, "unchanged": 0, "held": 0, "removed": 0}
    failures = 0
    records: list[dict[str, object]] = []
    for (reference, _), result in sorted(wanted.items(), key=lambda item: item[0]):
        old = before.get((reference, platform or ""))
        if isinstance(result, DigestError):
            failures += 1
            error(str(result))
            records.append(_record(reference, platform, "failed", old, None, Provenance()))
            continue
        status = _status(old, result)
        counts[status.split()[0]] += 1
        new = described.get(result.reference, Provenance())
        records.append(_record(reference, platform, status.split()[0], old, result.digest, new))
        if not args.json:
            line = f"{describe(result.digest, new.revision)} ({status})"
            print(f"{subject(reference, platform)}: {line}")
            if old is not None and old.digest != result.digest:
                print("\n".join(change_lines(old.provenance, new)))
        if result.warning:
            warn(result.warning)
    if args.prune:
        for entry in lock.prune((reference, p or None) for reference, p in wanted):
            counts["removed"] += 1
            records.append(
                _record(entry.reference, entry.platform, "removed", entry, None, Provenance())
            )
            if not args.json:
                print(f"{subject(entry.reference, entry.platform)}: {entry.digest} (removed)")
    if args.json:
        print(json.dumps(records, indent=2, sort_keys=True))
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


def _resolve(
    resolver: Resolver,
    refs: list[str],
    platform: str | None,
    before: dict[Key, LockEntry],
    labels: bool,
) -> dict[str, ResolvedImage | DigestError]:
    """Entries whose provenance is known (recorded with --labels) are fetched by GET, so a
    changed digest costs one more request to describe; the others keep the cheaper HEAD."""
    known: list[str] = []
    plain: list[str] = []
    for ref in refs:
        try:
            entry = before.get((str(parse(ref)), platform or ""))
        except DigestError:
            entry = None
        (known if labels or (entry and entry.provenance.known()) else plain).append(ref)
    outcome = resolver.resolve_each(known, platform=platform, fetch_manifests=True)
    outcome.update(resolver.resolve_each(plain, platform=platform))
    return {ref: outcome[ref] for ref in dict.fromkeys(refs)}


def _describe(
    resolver: Resolver, result: ResolvedImage, before: dict[Key, LockEntry], platform: str | None
) -> Provenance:
    """The new digest's provenance: read with --labels; else the locked one for an unchanged
    digest; else, for a changed digest whose old provenance is known, its config (one
    request); else unknown."""
    if result.labels is not None:
        return result.provenance
    if result.source != "registry":
        return Provenance()
    old = before.get((str(parse(result.reference)), platform or ""))
    if old is not None and old.digest == result.digest:
        return old.provenance  # the same content: what the lock knows of it still holds
    if old is None or not old.provenance.known():
        return Provenance()
    try:
        return resolver.inspect(f"{parse(result.reference).name}@{result.digest}").provenance
    except DigestError:
        return Provenance()  # a courtesy: the digest itself is recorded either way


def _record(
    reference: str,
    platform: str | None,
    status: str,
    old: LockEntry | None,
    digest: str | None,
    new: Provenance,
) -> dict[str, object]:
    """One reference for `--json`, in `check --json`'s field names."""
    before = old.provenance if old is not None else Provenance()
    moved = old is not None and digest is not None and old.digest != digest
    return {
        "reference": reference,
        "platform": platform,
        "status": status,
        "locked_digest": old.digest if old is not None else None,
        "current_digest": digest,
        **{f"locked_{name}": value for name, value in before.as_dict().items()},
        **{f"current_{name}": value for name, value in new.as_dict().items()},
        "compare_url": compare_url(before, new) if moved else None,
    }


def _status(old: LockEntry | None, result: ResolvedImage) -> str:
    if result.held_back is not None:
        return f"held back from {result.held_back} by --min-age"
    if old is None:
        return "added"
    if old.digest == result.digest:
        return "unchanged"
    return f"updated from {describe(old.digest, old.revision)}"


def _summary(path: str, counts: dict[str, int], failures: int) -> None:
    changed = [f"{counts[k]} {k}" for k in ("added", "updated", "removed") if counts[k]]
    failed = f", {failures} failed (see the errors)" if failures else ""
    if counts["held"]:
        failed = f", {counts['held']} held back by --min-age" + failed
    if changed:
        note(f"wrote {path}: {', '.join(changed)}, {counts['unchanged']} unchanged{failed}")
    else:
        note(f"{path}: no digest changed ({counts['unchanged']} unchanged{failed})")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `lock` to the CLI."""
    lock = commands.add_parser(
        "lock",
        description="Resolve each reference and record it in the lock file. Other entries are "
        "kept (use --prune to drop them); an unchanged digest leaves the file untouched. "
        "Exit 1 if any reference failed (the others are still recorded).",
    )
    lock.add_argument("refs", nargs="*", metavar="REF", help="image reference, e.g. nginx:1.25")
    lock.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="also read references from FILE, one per line ('#' comments; '-' for stdin)",
    )
    add_lock_option(lock)
    lock.add_argument("--platform", help="os/arch[/variant] to select from an index")
    lock.add_argument(
        "--labels",
        action="store_true",
        help="also read each image's labels and record its revision (one more request each)",
    )
    lock.add_argument(
        "--prune",
        action="store_true",
        help="remove every entry not named in this run, so the lock is exactly this list",
    )
    lock.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per reference instead of lines (the fields of check --json; "
        "messages stay on stderr)",
    )
    add_min_age_option(lock)
    add_verify_option(lock)
    add_registry_options(lock)
    add_mirror_options(lock, deploy=False)
    lock.set_defaults(run=run_lock)
