"""`image-digest audit FILE...`: fail CI when anything would be deployed by tag.

Each FILE is read by its content: a Terraform plan (`terraform show -json tfplan`), a CDKTF
`cdk.tf.json`, a Pulumi preview (`pulumi preview --json`) or stack export, or Kubernetes
YAML (`-` reads stdin: `helm template ... | image-digest audit -`). Each finding is one line
on stdout, `FILE: ADDRESS: PATH: REFERENCE` (with `--suggest`, ` -> REPO@DIGEST`), and a
summary goes to stderr.

`--json` prints one object instead (schema version 1; fields are only ever added):

    {"version": 1,
     "files": [{"file": str, "format": str, "resources": int}],
     "findings": [{"file": str, "format": str, "address": str, "type": str, "path": str,
                   "reference": str, "source": "catalog" | "heuristic",
                   "secret": bool, "platform": str | null, "allowed": bool,
                   "pinned": str | null, "error": str | null}],
     "counts": {"findings": int, "allowed": int}}

`format` is one of `audit.FORMATS`; `path` is in field syntax (`image_digest.fields.paths`);
`allowed` findings matched an `--allow` glob and do not fail the gate; a `secret` finding (in
a value Terraform marks sensitive or Pulumi secret) shows its reference as `[secret]` and is
not resolved; `pinned` and `error` are set with `--suggest`. Exit status: 0 nothing deployed
by tag, 1 something is, 2 a file could not be read or is of no known format (nothing is
audited then).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass

from image_digest.audit import Document, Finding, UnreadableInputError, read_document, tags_in
from image_digest.commands.options import add_registry_options, read_only_lookup
from image_digest.commands.report import (
    EXIT_FAILED,
    EXIT_OK,
    error,
    note,
    read_each,
)
from image_digest.errors import DigestError
from image_digest.names.resolved import ResolvedImage

SCHEMA_VERSION = 1


@dataclass
class Row:
    """One finding in one file, and what `--suggest` made of it."""

    document: Document
    finding: Finding
    allowed: bool
    pinned: str | None = None
    error: str | None = None

    def line(self) -> str:
        f = self.finding
        text = f"{self.document.path}: {f.address}: {f.path}: {f.shown}"
        return f"{text} -> {self.pinned}" if self.pinned else text

    def as_dict(self) -> dict[str, object]:
        f = self.finding
        return {
            "file": self.document.path,
            "format": self.document.format,
            "address": f.address,
            "type": f.type,
            "path": f.path,
            "reference": f.shown,
            "source": f.source,
            "secret": f.secret,
            "platform": f.platform,
            "allowed": self.allowed,
            "pinned": self.pinned,
            "error": self.error,
        }


def run_audit(args: argparse.Namespace) -> int:
    documents = read_each(
        args.files, read_document, UnreadableInputError, nothing="nothing was audited"
    )
    patterns = tuple(args.allow)
    rows = [
        Row(document, finding, finding.allowed_by(patterns))
        for document in documents
        for resource in document.resources
        for finding in tags_in(resource)
    ]
    failing = [row for row in rows if not row.allowed]
    if args.suggest and failing:
        _suggest(args, [row for row in failing if not row.finding.secret])
    if args.json:
        print(json.dumps(_as_json(documents, rows), indent=2))
    else:
        for row in failing:
            print(row.line())
    for row in failing:
        if row.error:
            error(row.error)
    _summary(documents, rows, failing)
    return EXIT_FAILED if failing else EXIT_OK


def _suggest(args: argparse.Namespace, rows: list[Row]) -> None:
    """Resolve each finding (read-only: the lock file is neither read nor written)."""
    by_platform: dict[str | None, list[Row]] = defaultdict(list)
    for row in rows:
        by_platform[row.finding.platform].append(row)
    with read_only_lookup(args) as lookup:
        for platform, group in by_platform.items():
            outcome = lookup.find_each([r.finding.reference for r in group], platform)
            for row in group:
                result: ResolvedImage | DigestError = outcome[row.finding.reference]
                if isinstance(result, ResolvedImage):
                    row.pinned = result.repo_digest
                else:
                    row.error = f"{row.document.path}: {row.finding.address}: {result}"


def _as_json(documents: list[Document], rows: list[Row]) -> dict[str, object]:
    return {
        "version": SCHEMA_VERSION,
        "files": [
            {"file": d.path, "format": d.format, "resources": len(d.resources)} for d in documents
        ],
        "findings": [row.as_dict() for row in rows],
        "counts": {
            "findings": sum(not row.allowed for row in rows),
            "allowed": sum(row.allowed for row in rows),
        },
    }


def _summary(documents: list[Document], rows: list[Row], failing: list[Row]) -> None:
    resources = sum(len(d.resources) for d in documents)
    allowed = len(rows) - len(failing)
    audited = f"{_count(resources, 'resource')} in {_count(len(documents), 'file')}"
    also = f"; {allowed} allowed by --allow" if allowed else ""
    if not failing:
        note(f"audit: no image deployed by tag ({audited}{also})")
        return
    note(
        f"audit: {_count(len(failing), 'image')} deployed by tag ({audited}{also}); pin them "
        "(pin_images() in Pulumi, PinImages() in CDKTF, image-digest pin-vars for tfvars; "
        "--suggest prints each digest), or accept them with --allow PATTERN"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `audit` to the CLI."""
    audit = commands.add_parser(
        "audit",
        description="Read each FILE by its content (Terraform plan JSON, CDKTF cdk.tf.json, "
        "Pulumi preview --json or stack export, Kubernetes YAML) and print every image it "
        "would deploy by tag: FILE: ADDRESS: PATH: REFERENCE. Exit 0 if none, 1 if any, 2 if "
        "a file cannot be read or is of no known format.",
    )
    audit.add_argument(
        "files", nargs="+", metavar="FILE", help="plan, preview, stack or YAML (- for stdin)"
    )
    audit.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PATTERN",
        help="accept references matching this glob, as written or canonical (repeatable), "
        "e.g. 'docker.io/library/*' or 'localhost:5000/*'",
    )
    audit.add_argument(
        "--suggest", action="store_true", help="resolve each finding and print its pinned form"
    )
    audit.add_argument("--json", action="store_true", help="print one JSON object (schema v1)")
    add_registry_options(audit)
    audit.set_defaults(run=run_audit)
