"""`image-digest resolve REF...`: one `REF<TAB>REPO@DIGEST` line (or JSON object) per reference."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from image_digest.commands.options import add_resolver_options, resolver_from
from image_digest.commands.report import (
    EXIT_FAILED,
    EXIT_OK,
    check_arguments,
    error,
    note,
    revision_of,
    warn,
)
from image_digest.errors import DigestError
from image_digest.names.resolved import ResolvedImage
from image_digest.pinning.lockfile import Key, LockEntry
from image_digest.resolver import LOCK_ENV


def run_resolve(args: argparse.Namespace) -> int:
    refs = list(args.refs)
    check_arguments(refs)
    with resolver_from(args) as resolver:
        lock = resolver.lock
        # A bad lock fails once, up front, not once per reference (nor after the requests).
        before = {entry.key: entry.digest for entry in lock.entries()} if lock else {}
        outcome = resolver.resolve_each(refs, platform=args.platform)
        if lock is not None and resolver.mode != "locked":
            _say_what_was_written(lock.path, before, lock.entries(), args.lock)
    results = [v for v in outcome.values() if isinstance(v, ResolvedImage)]
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2, sort_keys=True))
    else:
        for result in results:
            line = f"{result.reference}\t{result.repo_digest}"
            if args.labels:
                line += f"\t{revision_of(result) or '-'}"
            print(line)
    for result in results:
        if result.warning:
            warn(result.warning)
    failures = [(ref, v) for ref, v in outcome.items() if isinstance(v, DigestError)]
    for _, failure in failures:
        error(str(failure))
    return EXIT_FAILED if failures else EXIT_OK


def _say_what_was_written(
    path: Path, before: dict[Key, str], after: list[LockEntry], option: str | None
) -> None:
    """`resolve` records in the lock file when one is set: say so when it changed the file."""
    added = sum(entry.key not in before for entry in after)
    updated = sum(entry.key in before and before[entry.key] != entry.digest for entry in after)
    if added or updated:
        source = "--lock" if option else LOCK_ENV
        note(f"recorded {added} new and {updated} changed digests in lock file {path} ({source})")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `resolve` to the CLI."""
    resolve = commands.add_parser(
        "resolve",
        description="Resolve each reference to its digest. Exit 1 if any failed, 2 for a "
        "usage error (a bad reference resolves nothing). With --lock PATH or $IMAGE_DIGEST_LOCK "
        "set, the digests are also written to that lock file (except in --mode locked), and "
        "stderr says so when it changes.",
    )
    resolve.add_argument("refs", nargs="+", metavar="REF", help="image reference, e.g. nginx:1.25")
    add_resolver_options(resolve)
    resolve.add_argument(
        "--json", action="store_true", help="print a JSON array of results (with --labels: labels)"
    )
    resolve.set_defaults(run=run_resolve)
