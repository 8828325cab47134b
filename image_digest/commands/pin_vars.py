"""`image-digest pin-vars IN.tfvars.json [-o OUT]`: the same variables, every image pinned.

For plain Terraform, which cannot resolve a digest while it plans: CI runs
`image-digest pin-vars images.tfvars.json -o images.auto.tfvars.json` before `terraform plan`
(see docs/terraform.md). Which values are images: `image_digest.fields.tfvars`. The output goes to
stdout, or with `-o` to OUT, written atomically; on any error (unreadable input, a bad
reference, a registry failure, an output that cannot be written) nothing is written at all,
the lock file included: pins are recorded in it, in one write, only after the output was.

Exit status: 0 written; 1 some image could not be resolved; 2 the input cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from image_digest.atomic import atomic_write
from image_digest.commands.options import add_resolver_options, resolver_from
from image_digest.commands.report import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    all_pinned,
    error,
    note,
)
from image_digest.errors import InputLimitError, InvalidReferenceError
from image_digest.fields.tfvars import image_values, pin_values, render
from image_digest.safe_load import load_json


def run_pin_vars(args: argparse.Namespace) -> int:
    variables = read_variables(args.input)
    try:
        values = image_values(variables, only=args.only or (), skip=args.skip or ())
    except InvalidReferenceError as exc:
        raise UsageError(f"{args.input}: {exc} (nothing was written)") from None
    references = list(dict.fromkeys(value.reference for value in values))
    with resolver_from(args) as resolver, resolver.policy.deferred():
        outcome = resolver.resolve_each(references, platform=args.platform)
        pinned = all_pinned(outcome, lambda _, failure: error(f"{args.input}: {failure}"))
        if pinned is None:
            return EXIT_FAILED
        text = render(pin_values(variables, values, pinned))
        if args.output:
            _write(args.output, text)
            note(f"wrote {args.output}: {len(pinned)} images pinned in {len(values)} places")
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        resolver.policy.commit()
    return EXIT_OK


def _write(path: str, text: str) -> None:
    """The output, atomically, keeping its permissions (it holds every variable, secrets too)."""
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise UsageError(
            f"cannot write {path}: {exc.strerror or exc} (nothing was written)"
        ) from None


def read_variables(path: str) -> Mapping[str, Any]:
    """A `.tfvars.json` file: one JSON object of variables, or a usage error naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read variables from {path}: {reason}") from None
    try:
        variables = load_json(text, path)
    except InputLimitError as exc:
        raise UsageError(f"{exc} (nothing was written)") from None
    except ValueError as exc:
        raise UsageError(
            f"{path}: not JSON ({exc}); pin-vars reads Terraform's JSON variables files "
            "(*.tfvars.json), not HCL .tfvars (nothing was written)"
        ) from None
    if not isinstance(variables, dict):
        raise UsageError(
            f"{path}: a variables file must be one JSON object of variable names to values, "
            f"not a {type(variables).__name__} (nothing was written)"
        )
    return variables


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `pin-vars` to the CLI."""
    pin_vars = commands.add_parser(
        "pin-vars",
        description="Read IN (a Terraform JSON variables file) and write the same variables "
        "with every image reference pinned: top-level variables named *image, *_image or "
        "*image_uri (lists and maps too: *images, *_images), and image fields at any depth "
        "(image, image_uri, JSON container definitions...). VM and machine images "
        "(debian-cloud/debian-12, ami-..., 'Ubuntu 22.04') and image IDs are left alone. "
        "Nothing is written on any error.",
    )
    pin_vars.add_argument("input", metavar="IN", help="variables file, e.g. images.tfvars.json")
    pin_vars.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write here, atomically (default: stdout), e.g. images.auto.tfvars.json",
    )
    pin_vars.add_argument(
        "--only",
        action="append",
        metavar="PATTERN",
        help="pin only variables whose name matches this glob (repeatable), e.g. 'app_*'",
    )
    pin_vars.add_argument(
        "--skip",
        action="append",
        metavar="PATTERN",
        help="leave variables whose name matches this glob as they are (repeatable)",
    )
    add_resolver_options(pin_vars)
    pin_vars.set_defaults(run=run_pin_vars)
