"""`image-digest`: the command line. This module is the table of subcommands (`COMMANDS`);
each subcommand's parser and logic live in `image_digest.commands.<name>`, imported only when
that command runs, so `--help` and a usage error stay fast. Adding a command is one entry in
`COMMANDS` and a module with `register(commands)`.

    image-digest resolve REF...                 print REF<TAB>REPO@DIGEST per reference
    image-digest lock REF... [--from FILE]      resolve and record in the lock file
    image-digest check [--lock PATH]            exit 1 if any locked tag moved (CI gate)
    image-digest audit FILE...                  exit 1 if a plan/preview/manifest deploys a tag
    image-digest external                       Terraform external data source: stdin -> digest
    image-digest pin-vars IN [-o OUT]           a .tfvars.json with every image pinned
    image-digest post-render < IN               Helm post-renderer: every rendered image pinned
    image-digest pins [--json]                  every pinned digest per repository
    image-digest diff A B [--json]              exit 1 unless A and B deploy the same digests
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from image_digest import __version__

__all__ = ["COMMANDS", "build_parser", "main"]

#: Every subcommand: its module and its line in `--help`. A module is imported only when its
#: command runs (or its own `--help` is asked for), so `image-digest --help` and a usage error
#: load none of them; each module's `register(commands)` adds its parser with `run` set.
COMMANDS: dict[str, tuple[str, str]] = {
    "resolve": ("image_digest.commands.resolve", "print REF<TAB>REPO@DIGEST for each reference"),
    "lock": (
        "image_digest.commands.lock",
        "resolve references and record their digests in the lock file",
    ),
    "check": (
        "image_digest.commands.check",
        "exit 1 if any locked tag now points elsewhere (a CI drift gate)",
    ),
    "audit": (
        "image_digest.commands.audit",
        "exit 1 if a plan, preview, stack or manifest deploys any image by tag (CI gate)",
    ),
    "external": (
        "image_digest.commands.external",
        "answer Terraform's external data source: JSON query on stdin, digest on stdout",
    ),
    "pin-vars": (
        "image_digest.commands.pin_vars",
        "write a .tfvars.json with every image pinned to its digest",
    ),
    "post-render": (
        "image_digest.commands.post_render",
        "Helm post-renderer: rendered manifests on stdin, every image pinned on stdout",
    ),
    "pins": (
        "image_digest.commands.pins",
        "print every pinned digest per repository (a cleanup policy's keep-list)",
    ),
    "diff": (
        "image_digest.commands.diff",
        "exit 1 unless two locks, plans, stacks or exports deploy the same digests",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(chosen(arguments)).parse_args(arguments)
    # The command's module has imported these already: no cost, and none before parsing.
    from image_digest.commands.report import EXIT_FAILED, EXIT_USAGE, UsageError, error
    from image_digest.errors import (
        DigestError,
        InvalidOptionError,
        InvalidPlatformError,
        LockError,
    )

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


def chosen(argv: Sequence[str]) -> str | None:
    """The subcommand `argv` names: its first word that is not an option (the top level
    takes no option with a value)."""
    command = next((word for word in argv if not word.startswith("-")), None)
    return command if command in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with `command` fully defined (its module imported) and every other
    subcommand by name and help line only; `None` defines none (`--help`, a usage error)."""
    parser = argparse.ArgumentParser(
        prog="image-digest",
        description="Resolve container image tags to immutable digests.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).register(commands)
        else:
            commands.add_parser(name, help=summary, add_help=False)
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
