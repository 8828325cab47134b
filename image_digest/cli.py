"""`image-digest`: resolve references from the command line (one line or one JSON object each)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from image_digest import __version__
from image_digest.errors import DigestError, InvalidPlatformError
from image_digest.resolved import ResolvedImage
from image_digest.resolver import MODES, Resolver

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except InvalidPlatformError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except DigestError as exc:
        _error(str(exc))
        return EXIT_FAILED
    except ValueError as exc:
        _error(str(exc))
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
        description="Resolve each reference to its digest. Exit 1 if any failed.",
    )
    resolve.add_argument("refs", nargs="+", metavar="REF", help="image reference, e.g. nginx:1.25")
    add_resolver_options(resolve)
    resolve.add_argument("--json", action="store_true", help="print a JSON array of results")
    resolve.set_defaults(run=run_resolve)
    return parser


def add_resolver_options(parser: argparse.ArgumentParser) -> None:
    """Options every resolving subcommand shares."""
    parser.add_argument("--platform", help="os/arch[/variant] to select from an index")
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="use plain HTTP for this registry (repeatable); loopback hosts always are",
    )
    parser.add_argument("--ca-bundle", metavar="PATH", help="CA bundle to verify registries with")
    parser.add_argument("--lock", metavar="PATH", help="lock file (default: $IMAGE_DIGEST_LOCK)")
    parser.add_argument(
        "--mode", choices=MODES, help="resolve, locked or fallback (default: $IMAGE_DIGEST_MODE)"
    )
    parser.add_argument(
        "--labels", action="store_true", help="also read image labels (one more request each)"
    )


def resolver_from(args: argparse.Namespace) -> Resolver:
    return Resolver(
        insecure_registries=args.insecure_registry,
        ca_bundle=args.ca_bundle,
        lock=args.lock,
        mode=args.mode,
        with_labels=args.labels,
    )


def run_resolve(args: argparse.Namespace) -> int:
    refs = list(args.refs)
    with resolver_from(args) as resolver:
        outcome = resolver.resolve_each(refs, platform=args.platform)
    results = [v for v in outcome.values() if isinstance(v, ResolvedImage)]
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2, sort_keys=True))
    else:
        for result in results:
            print(f"{result.reference}\t{result.repo_digest}")
    for result in results:
        if result.warning:
            _warn(result.warning)
    failures = [(ref, v) for ref, v in outcome.items() if isinstance(v, DigestError)]
    for _, error in failures:
        _error(str(error))
    return EXIT_FAILED if failures else EXIT_OK


def _error(message: str) -> None:
    print(f"image-digest: error: {_one_line(message)}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"image-digest: warning: {_one_line(message)}", file=sys.stderr)


def _one_line(message: str) -> str:
    return " ".join(message.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
