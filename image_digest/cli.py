"""`image-digest`: the command line. This module is the argparse wiring; each subcommand's
logic lives in `image_digest.commands.<name>`.

    image-digest resolve REF...                 print REF<TAB>REPO@DIGEST per reference
    image-digest lock REF... [--from FILE]      resolve and record in the lock file
    image-digest check [--lock PATH]            exit 1 if any locked tag moved (CI gate)
    image-digest audit FILE...                  exit 1 if a plan/preview/manifest deploys a tag
    image-digest external                       Terraform external data source: stdin -> digest
    image-digest pin-vars IN [-o OUT]           a .tfvars.json with every image pinned
    image-digest pins [--json]                  every pinned digest per repository
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from image_digest import __version__
from image_digest.commands import audit, external, pin_vars
from image_digest.commands.check import run_check
from image_digest.commands.lock import run_lock
from image_digest.commands.options import (
    add_min_age_option,
    add_registry_options,
    add_resolver_options,
    add_verify_option,
    resolver_from,
)
from image_digest.commands.pins import run_pins
from image_digest.commands.report import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNCHECKED,
    EXIT_USAGE,
    UsageError,
    error,
)
from image_digest.commands.resolve import run_resolve
from image_digest.errors import DigestError, InvalidOptionError, InvalidPlatformError, LockError

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_UNCHECKED",
    "EXIT_USAGE",
    "add_resolver_options",
    "build_parser",
    "main",
    "resolver_from",
    "run_check",
    "run_lock",
    "run_pins",
    "run_resolve",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except UsageError as exc:
        for problem in exc.args:
            error(str(problem))
        return EXIT_USAGE
    except (InvalidOptionError, InvalidPlatformError, LockError) as exc:
        error(str(exc))
        return EXIT_USAGE
    except DigestError as exc:
        error(str(exc))
        return EXIT_FAILED
    except ValueError as exc:
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="image-digest",
        description="Resolve container image tags to immutable digests.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    resolve = commands.add_parser(
        "resolve",
        help="print REF<TAB>REPO@DIGEST for each reference",
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

    lock = commands.add_parser(
        "lock",
        help="resolve references and record their digests in the lock file",
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
    _add_lock_option(lock)
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
    lock.set_defaults(run=run_lock)

    check = commands.add_parser(
        "check",
        help="exit 1 if any locked tag now points elsewhere (a CI drift gate)",
        description="Resolve every locked reference again, without writing the lock. Exit 0 if "
        "none moved; 1 if any moved or is gone (printing REF: OLD -> NEW with revisions); 2 if "
        "the lock file is missing or invalid; 3 if some could not be checked.",
    )
    _add_lock_option(check)
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

    audit.register(commands)
    external.register(commands)
    pin_vars.register(commands)
    pins = commands.add_parser(
        "pins",
        help="print every pinned digest per repository (a cleanup policy's keep-list)",
        description="Read the lock file and print REPO@DIGEST for every pinned digest, or with "
        "--json an object of repository -> digests. No registry requests.",
    )
    _add_lock_option(pins)
    pins.add_argument("--json", action="store_true", help="print {repository: [digests]}")
    pins.set_defaults(run=run_pins)
    return parser


def _add_lock_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lock",
        metavar="PATH",
        help="lock file (default: $IMAGE_DIGEST_LOCK, else ./image-digest.lock)",
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
