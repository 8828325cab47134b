"""Command-line options the subcommands share, and the `Resolver` they describe."""

from __future__ import annotations

import argparse
import os

from image_digest.commands.report import UsageError
from image_digest.resolver import LOCK_ENV, MODE_ENV, MODES, Resolver
from image_digest.signatures.settings import VerifyOption


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    """How to reach registries: plain-HTTP hosts and extra CAs."""
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="use plain HTTP for this registry (repeatable); loopback hosts always are",
    )
    parser.add_argument("--ca-bundle", metavar="PATH", help="CA bundle to verify registries with")


def add_min_age_option(parser: argparse.ArgumentParser) -> None:
    """--min-age: keep the locked digest while a tag's new digest is younger than this."""
    parser.add_argument(
        "--min-age",
        metavar="DURATION",
        help="e.g. 30m, 6h, 2d, 1w: a tag whose new digest is younger than this (its created "
        "time, else when the lock first saw it) keeps the digest already in the lock, with a "
        "warning saying when the new one becomes eligible",
    )


def add_verify_option(parser: argparse.ArgumentParser) -> None:
    """--verify-key: pin only digests a cosign signature by this public key verifies."""
    parser.add_argument(
        "--verify-key",
        metavar="PATH",
        help="PEM public key (cosign.pub: ECDSA P-256, RSA or Ed25519): pin a digest only when "
        "a cosign signature by it verifies for that digest and repository, else fail naming "
        "why (default: the lock's settings.verify_key, if any)",
    )


def add_resolver_options(parser: argparse.ArgumentParser) -> None:
    """Options every resolving subcommand shares."""
    parser.add_argument("--platform", help="os/arch[/variant] to select from an index")
    add_registry_options(parser)
    add_min_age_option(parser)
    parser.add_argument(
        "--lock",
        metavar="PATH",
        help="lock file (default: $IMAGE_DIGEST_LOCK, else none); modes resolve and fallback "
        "WRITE every digest they get from a registry into it (created if missing); mode "
        "locked only reads it",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="resolve, locked or fallback (default: $IMAGE_DIGEST_MODE, else resolve); locked "
        "and fallback need a lock file",
    )
    parser.add_argument(
        "--labels", action="store_true", help="also read image labels (one more request each)"
    )
    add_verify_option(parser)


def resolver_from(args: argparse.Namespace) -> Resolver:
    """The `Resolver` for `resolve`'s options (lock and mode default to the environment)."""
    mode = args.mode or os.environ.get(MODE_ENV)
    if mode in ("locked", "fallback") and not (args.lock or os.environ.get(LOCK_ENV)):
        chosen = f"--mode {mode}" if args.mode else f"{MODE_ENV}={mode}"
        raise UsageError(f"{chosen} needs a lock file: pass --lock PATH or set {LOCK_ENV}")
    return Resolver(
        insecure_registries=args.insecure_registry,
        ca_bundle=args.ca_bundle,
        lock=args.lock,
        mode=args.mode,
        with_labels=args.labels,
        min_age=args.min_age,
        verify=args.verify_key,
    )


def read_only_resolver(args: argparse.Namespace, verify: VerifyOption = None) -> Resolver:
    """A `Resolver` with the registry options only: `lock=""` keeps IMAGE_DIGEST_LOCK and
    IMAGE_DIGEST_MODE out, so a command that only reads (check, audit) never writes a lock.
    `verify`: the key that `check` verifies every digest with again."""
    return Resolver(
        insecure_registries=args.insecure_registry,
        ca_bundle=args.ca_bundle,
        lock="",
        mode="resolve",
        verify=verify,
    )
