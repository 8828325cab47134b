"""What every subcommand prints: exit codes, one-line errors and warnings, digest descriptions."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from image_digest.errors import DigestError, LockError
from image_digest.names.provenance import REVISION_LABEL, Provenance, compare_url, repository_url
from image_digest.names.reference import parse
from image_digest.names.resolved import ResolvedImage
from image_digest.pinning.lockfile import DEFAULT_LOCK_NAME, LockFile
from image_digest.resolver import LOCK_ENV

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_DRIFT = 1
EXIT_USAGE = 2
EXIT_UNCHECKED = 3


def read_each(
    paths: Sequence[str],
    read: Callable[[str], T],
    refused: type[Exception],
    *,
    nothing: str,
) -> list[T]:
    """Every file read, or a usage error with one line for each that `read` refuses (all of
    them, so one run shows every bad input), the last saying what was not done."""
    read_files: list[T] = []
    problems: list[str] = []
    for path in paths:
        try:
            read_files.append(read(path))
        except refused as exc:
            problems.append(str(exc))
    if problems:
        problems[-1] += f" ({nothing})"
        raise UsageError(*problems)
    return read_files


def all_pinned(
    outcome: Mapping[str, ResolvedImage | DigestError],
    failed: Callable[[str, DigestError], None],
) -> dict[str, str] | None:
    """The pins of a batch that must succeed whole (a file written, manifests printed): each
    failure told through `failed`, then their count and None; else every warning printed and
    reference -> pinned reference."""
    failures = {ref: result for ref, result in outcome.items() if isinstance(result, DigestError)}
    for ref, failure in failures.items():
        failed(ref, failure)
    if failures:
        error(f"{len(failures)} images could not be resolved; nothing was written")
        return None
    resolved = [(ref, r) for ref, r in outcome.items() if isinstance(r, ResolvedImage)]
    for _, result in resolved:
        if result.warning:
            warn(result.warning)
    return {ref: result.repo_digest for ref, result in resolved}


class UsageError(Exception):
    """The command line or an input file is wrong; exit status 2. Each argument is one problem,
    printed as its own error line."""


def check_arguments(refs: Sequence[str], *, nothing: str = "nothing was resolved") -> None:
    """Parse every reference named on the command line before any request: a bad one is a
    usage error (exit 2), as in a `--from` file, with one line per bad reference."""
    problems: list[str] = []
    for ref in refs:
        try:
            parse(ref)
        except DigestError as exc:
            problems.append(str(exc))
    if problems:
        problems[-1] += f" ({nothing})"
        raise UsageError(*problems)


def error(message: str) -> None:
    print(f"image-digest: error: {one_line(message)}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"image-digest: warning: {one_line(message)}", file=sys.stderr)


def note(message: str) -> None:
    print(f"image-digest: {one_line(message)}", file=sys.stderr)


def one_line(message: str) -> str:
    return " ".join(message.split())


def lock_path(option: str | None) -> str:
    """--lock, else $IMAGE_DIGEST_LOCK, else ./image-digest.lock."""
    return option or os.environ.get(LOCK_ENV) or DEFAULT_LOCK_NAME


def existing_lock(path: str, consequence: str) -> LockFile:
    """The lock file a reading command needs; a missing one says what that means and how to
    create it (`consequence`: "there is nothing to check", "nothing is pinned")."""
    lock = LockFile(path)
    if not lock.exists():
        raise LockError(
            f"lock file {path} does not exist, so {consequence}; create it with: "
            f"image-digest lock --lock {path} REF..."
        )
    return lock


def subject(reference: str, platform: str | None) -> str:
    """`REF` or `REF [os/arch]`: how a lock entry is named in output."""
    return f"{reference} [{platform}]" if platform else reference


def describe(digest: str, revision: str | None) -> str:
    """`sha256:... (revision abc123)`, or the bare digest when the revision is unknown."""
    return f"{digest} (revision {revision})" if revision else digest


def revision_of(result: ResolvedImage) -> str | None:
    return result.labels.get(REVISION_LABEL) if result.labels else None


def change_lines(old: Provenance, new: Provenance) -> list[str]:
    """The life of a pin, under a `REF: OLD -> NEW` line: what each digest says it is built
    from (`-` where an image does not say), and where to read the code change."""
    lines = []
    for name in ("revision", "version", "created"):
        before, after = getattr(old, name), getattr(new, name)
        if before or after:
            lines.append(f"  {name}: {before or '-'} -> {after or '-'}")
    sources = {p.source for p in (old, new) if p.source}
    if len(sources) == 1 or len({repository_url(s) or s for s in sources}) == 1:
        lines.append(f"  source: {new.source or old.source}")
    elif sources:
        lines.append(f"  source: {old.source or '-'} -> {new.source or '-'}")
    if url := compare_url(old, new):
        lines.append(f"  compare: {url}")
    return lines
