"""Command-line options the subcommands share, and the one `ResolverOptions` they describe."""

from __future__ import annotations

import argparse
import os

from image_digest.commands.report import UsageError
from image_digest.entry_options import ResolverOptions, resolver_options
from image_digest.lookup import Lookup
from image_digest.names.mirrors import DEPLOY_FROM
from image_digest.resolver import LOCK_ENV, MODE_ENV, MODES, TIMEOUT_ENV, Resolver
from image_digest.transport.options import DEFAULT_TOTAL_TIMEOUT


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    """How to reach registries: plain-HTTP hosts, extra CAs, and the time bound."""
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="use plain HTTP for this registry (repeatable); loopback hosts always are",
    )
    parser.add_argument("--ca-bundle", metavar="PATH", help="CA bundle to verify registries with")
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        help=f"time bound per reference, all requests and retries included (default: "
        f"${TIMEOUT_ENV}, else {DEFAULT_TOTAL_TIMEOUT:g}); a batch gets twice that as a whole",
    )


def add_lock_option(parser: argparse.ArgumentParser) -> None:
    """--lock for the commands that read the lock file (lock, check, pins)."""
    parser.add_argument(
        "--lock",
        metavar="PATH",
        help="lock file (default: $IMAGE_DIGEST_LOCK, else ./image-digest.lock)",
    )


def add_min_age_option(parser: argparse.ArgumentParser) -> None:
    """--min-age: keep the locked digest while a tag's new digest is younger than this."""
    parser.add_argument(
        "--min-age",
        metavar="DURATION",
        help="e.g. 30m, 6h, 2d, 1w: a tag whose new digest is younger than this (its created "
        "time, else when the lock first saw it) keeps the digest already in the lock, with a "
        "warning saying when the new one becomes eligible",
    )


def add_mirror_options(parser: argparse.ArgumentParser, *, deploy: bool = True) -> None:
    """--mirror SRC=DST (repeatable) and, where pins are written, --deploy-from."""
    parser.add_argument(
        "--mirror",
        action="append",
        default=[],
        metavar="SRC=DST",
        help="resolve images of registry (or registry/path) SRC through the mirror DST, e.g. "
        "docker.io=mirror.example:5000/hub (repeatable); a mirror whose digest differs from "
        "the upstream's is warned about, naming both",
    )
    if deploy:
        parser.add_argument(
            "--deploy-from",
            choices=DEPLOY_FROM,
            help="pin the name as written (program, the default) or the mirror's name (mirror); "
            "default: the lock file's settings, else program",
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
    parser.add_argument(
        "--keep-tag",
        action="store_true",
        help="write readable pins, REPO:TAG@DIGEST (the tag as written; the digest decides)",
    )
    add_mirror_options(parser)
    add_verify_option(parser)


def options_from(args: argparse.Namespace, **fixed: object) -> ResolverOptions:
    """The one options object for these arguments (`fixed` overrides, e.g. `mode="resolve"`).
    Arguments a subcommand does not take keep their defaults."""
    given: dict[str, object] = {
        "lock": getattr(args, "lock", None),
        "mode": getattr(args, "mode", None),
        "with_labels": getattr(args, "labels", False),
        "ca_bundle": args.ca_bundle,
        "insecure_registries": args.insecure_registry,
        "min_age": getattr(args, "min_age", None),
        "total_timeout": args.timeout,
        "keep_tag": getattr(args, "keep_tag", False),
        "mirrors": getattr(args, "mirror", None) or None,
        "deploy_from": getattr(args, "deploy_from", None),
        "verify": getattr(args, "verify_key", None),
    }
    given.update(fixed)
    return resolver_options(**given)  # type: ignore[arg-type]


def resolver_from(args: argparse.Namespace) -> Resolver:
    """The `Resolver` for `resolve`'s options (lock and mode default to the environment)."""
    mode = args.mode or os.environ.get(MODE_ENV)
    if mode in ("locked", "fallback") and not (args.lock or os.environ.get(LOCK_ENV)):
        chosen = f"--mode {mode}" if args.mode else f"{MODE_ENV}={mode}"
        raise UsageError(f"{chosen} needs a lock file: pass --lock PATH or set {LOCK_ENV}")
    return options_from(args).build()


def read_only_lookup(args: argparse.Namespace) -> Lookup:
    """A `Lookup` with the registry options only, for commands that only read (check, audit):
    it has no lock to write, whatever IMAGE_DIGEST_LOCK and IMAGE_DIGEST_MODE say."""
    return options_from(args, lock=None, mode=None, min_age=None, verify=None).lookup()
