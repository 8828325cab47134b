"""`image-digest diff A B`: do two environments deploy the same digests? (a promotion gate)

A and B are each a lock file, a Terraform plan (`terraform show -json tfplan`) or state, a
CDKTF `cdk.tf.json`, a Pulumi preview (`pulumi preview --json`) or stack export, or
Kubernetes YAML, read by content; the two may be of different kinds. Per repository (see
`image_digest.audit.comparison`), one line on stdout for each that is not the same:

    ~ REPOSITORY: A_DIGESTS -> B_DIGESTS
    - REPOSITORY: DIGESTS (only in A)
    + REPOSITORY: DIGESTS (only in B)
    ? REPOSITORY: deployed by tag in A|B|both (REFERENCE...): a tag proves no digest
    ! REPOSITORY: known only at plan time in A|B|both (VALUE...): diff the plans instead

and a summary on stderr. No registry requests. `--json` prints one object instead (schema
version 1; fields are only ever added):

    {"version": 1, "same": bool,
     "files": {"a": {"file": str, "format": str, "images": int}, "b": {...}},
     "repositories": [{"repository": str, "status": "same" | "differs" | "only_in_a" |
                       "only_in_b" | "by_tag" | "unknown", "secret": bool,
                       "a": {"digests": [str], "by_tag": [str], "known_at_plan": [str],
                             "where": [str]},
                       "b": {...}}],
     "counts": {"differs": int, "only_in_a": int, "only_in_b": int, "by_tag": int,
                "unknown": int, "same": int}}

An image in a secret or sensitive value is compared like any other, but shown as `[secret]`.
Exit status: 0 the same digests are deployed; 1 anything differs, is only in one, is
deployed by tag or is known only at plan time (`${...}` in a `cdk.tf.json`); 2 a file
cannot be read or is of no known format.
"""

from __future__ import annotations

import argparse
import json

from image_digest.audit.comparison import Comparison, RepositoryDiff, compare
from image_digest.audit.deployed import Deployment, read_deployment
from image_digest.commands.report import EXIT_FAILED, EXIT_OK, note, read_each

SCHEMA_VERSION = 1


def run_diff(args: argparse.Namespace) -> int:
    a, b = read_each([args.a, args.b], read_deployment, ValueError, nothing="nothing was compared")
    comparison = compare(a, b)
    if args.json:
        print(json.dumps(as_json(comparison), indent=2))
    else:
        for row in comparison.repositories:
            if row.status != "same":
                print(line(row, a.path, b.path))
    note(summary(comparison))
    return EXIT_OK if comparison.same else EXIT_FAILED


def line(row: RepositoryDiff, a: str, b: str) -> str:
    """One repository that is not the same, as `diff` prints it."""
    name = row.shown_repository

    def digests(side: str) -> str:
        found = (row.a if side == "a" else row.b).digests
        return "[secret]" if row.secret else ", ".join(found) or "(none)"

    if row.status == "only_in_a":
        return f"- {name}: {digests('a')} (only in {a})"
    if row.status == "only_in_b":
        return f"+ {name}: {digests('b')} (only in {b})"
    if row.status == "by_tag":
        sides = [path for path, side in ((a, row.a), (b, row.b)) if side.tags]
        tags = "[secret]" if row.secret else ", ".join(dict.fromkeys(row.a.tags + row.b.tags))
        where = " and ".join(sides)
        return f"? {name}: deployed by tag in {where} ({tags}): a tag proves no digest"
    if row.status == "unknown":
        sides = [path for path, side in ((a, row.a), (b, row.b)) if side.expressions]
        found = row.a.expressions + row.b.expressions
        values = "[secret]" if row.secret else ", ".join(dict.fromkeys(found))
        where = " and ".join(sides)
        return f"! {name}: known only at plan time in {where} ({values}): diff the plans instead"
    return f"~ {name}: {digests('a')} -> {digests('b')}"


def summary(comparison: Comparison) -> str:
    counts = comparison.counts()
    total = len(comparison.repositories)
    a, b = comparison.a.path, comparison.b.path
    if comparison.same:
        return f"diff: {a} and {b} deploy the same digests ({_repositories(total)})"
    parts = [
        f"{counts['differs']} differ" if counts["differs"] else "",
        f"{counts['only_in_a']} only in {a}" if counts["only_in_a"] else "",
        f"{counts['only_in_b']} only in {b}" if counts["only_in_b"] else "",
        f"{counts['by_tag']} deployed by tag" if counts["by_tag"] else "",
        f"{counts['unknown']} known only at plan time" if counts["unknown"] else "",
        f"{counts['same']} the same",
    ]
    listed = ", ".join(part for part in parts if part)
    return f"diff: {a} and {b} do not deploy the same digests ({_repositories(total)}: {listed})"


def as_json(comparison: Comparison) -> dict[str, object]:
    def file(deployment: Deployment) -> dict[str, object]:
        return {
            "file": deployment.path,
            "format": deployment.format,
            "images": len(deployment.images),
        }

    return {
        "version": SCHEMA_VERSION,
        "same": comparison.same,
        "files": {"a": file(comparison.a), "b": file(comparison.b)},
        "repositories": [row.as_dict() for row in comparison.repositories],
        "counts": comparison.counts(),
    }


def _repositories(n: int) -> str:
    return "1 repository" if n == 1 else f"{n} repositories"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `diff` to the CLI."""
    diff = commands.add_parser(
        "diff",
        help="exit 1 unless two locks, plans, stacks or exports deploy the same digests",
        description="Read A and B by their content (image-digest lock file, Terraform plan or "
        "state JSON, CDKTF cdk.tf.json, Pulumi preview --json or stack export, Kubernetes "
        "YAML) and compare, per repository, the digests each deploys: print each repository "
        "whose digests differ (~), that only one deploys (- in A, + in B) or that is deployed "
        "by tag (?). Exit 0 if the same digests are deployed, 1 otherwise, 2 if a file cannot "
        "be read. No registry requests.",
    )
    diff.add_argument("a", metavar="A", help="e.g. the staging plan or lock file")
    diff.add_argument("b", metavar="B", help="e.g. the production plan or lock file")
    diff.add_argument("--json", action="store_true", help="print one JSON object (schema v1)")
    diff.set_defaults(run=run_diff)
