"""`image-digest resolve REF...`: one `REF<TAB>REPO@DIGEST` line (or JSON object) per reference."""

from __future__ import annotations

import argparse
import json

from image_digest.commands.options import resolver_from
from image_digest.commands.report import EXIT_FAILED, EXIT_OK, error, revision_of, warn
from image_digest.errors import DigestError
from image_digest.resolved import ResolvedImage


def run_resolve(args: argparse.Namespace) -> int:
    refs = list(args.refs)
    with resolver_from(args) as resolver:
        if resolver.lock is not None and resolver.mode != "resolve":
            resolver.lock.entries()  # a bad lock fails once, up front, not once per reference
        outcome = resolver.resolve_each(refs, platform=args.platform)
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
