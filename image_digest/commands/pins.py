"""`image-digest pins [--json]`: every pinned digest per repository, from the lock file.

The keep-list a registry cleanup policy needs: delete an untagged digest that is still
pinned and `locked` deployments and rollbacks to it fail. Reads the lock only; no requests.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from image_digest.commands.options import add_lock_option
from image_digest.commands.report import EXIT_OK, existing_lock, lock_path
from image_digest.names.reference import parse
from image_digest.pinning.lockfile import LockEntry


def pinned_digests(entries: list[LockEntry]) -> dict[str, list[str]]:
    """Repository (`registry/name`) -> its pinned digests, sorted and without repeats."""
    pins: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        pins[parse(entry.reference).name].add(entry.digest)
    return {name: sorted(digests) for name, digests in sorted(pins.items())}


def run_pins(args: argparse.Namespace) -> int:
    lock = existing_lock(lock_path(args.lock), "nothing is pinned")
    pins = pinned_digests(lock.entries())
    if args.json:
        print(json.dumps(pins, indent=2, sort_keys=True))
    else:
        for name, digests in pins.items():
            for digest in digests:
                print(f"{name}@{digest}")
    return EXIT_OK


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `pins` to the CLI."""
    pins = commands.add_parser(
        "pins",
        description="Read the lock file and print REPO@DIGEST for every pinned digest, or with "
        "--json an object of repository -> digests. No registry requests.",
    )
    add_lock_option(pins)
    pins.add_argument("--json", action="store_true", help="print {repository: [digests]}")
    pins.set_defaults(run=run_pins)
