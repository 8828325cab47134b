"""What every subcommand prints: exit codes, one-line errors and warnings, digest descriptions."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from image_digest.errors import DigestError
from image_digest.lockfile import DEFAULT_LOCK_NAME, REVISION_LABEL
from image_digest.reference import parse
from image_digest.resolved import ResolvedImage
from image_digest.resolver import LOCK_ENV

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_DRIFT = 1
EXIT_USAGE = 2
EXIT_UNCHECKED = 3


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


def subject(reference: str, platform: str | None) -> str:
    """`REF` or `REF [os/arch]`: how a lock entry is named in output."""
    return f"{reference} [{platform}]" if platform else reference


def describe(digest: str, revision: str | None) -> str:
    """`sha256:... (revision abc123)`, or the bare digest when the revision is unknown."""
    return f"{digest} (revision {revision})" if revision else digest


def revision_of(result: ResolvedImage) -> str | None:
    return result.labels.get(REVISION_LABEL) if result.labels else None
