"""`image-digest post-render`: a Helm post-renderer that pins every image a chart renders.

Images a chart sets in its own defaults never reach the program that installs it (a Pulumi
`Release`, a Terraform `helm_release`); Helm's post-renderer sees them all. Helm writes the
rendered manifests to its stdin and installs what it prints: here, the same text with each
image deployed by tag (what `image-digest audit` would report) replaced by `repo@sha256:...`
(with `--keep-tag`, the readable `repo:tag@sha256:...`), spliced into the text so every other
byte of every document stays as it was. Lock file, mode, `--keep-tag` and `--mirror` are the
same options as everywhere (`--lock`, `--mode`, `$IMAGE_DIGEST_LOCK`, ...).

On any failure (input that is not YAML, an image that cannot be resolved) nothing at all is
written to stdout and the exit status is non-zero, so Helm stops instead of installing tags:
1 an image could not be resolved, 2 the input cannot be used.
"""

from __future__ import annotations

import argparse
import sys

from image_digest.audit.rendered import placed_images
from image_digest.commands.options import add_resolver_options, resolver_from
from image_digest.commands.report import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    all_pinned,
    error,
    note,
)
from image_digest.errors import DigestError, InputLimitError
from image_digest.fields.yaml_scalars import load_documents, set_scalars, yaml_module


def run_post_render(args: argparse.Namespace) -> int:
    text = _read_stdin()
    try:
        documents = load_documents(text, "stdin")
        placed = placed_images(documents)
    except yaml_module().YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise UsageError(f"stdin: not YAML manifests: {detail} (nothing was written)") from None
    except InputLimitError as exc:  # names stdin already
        raise UsageError(f"{exc} (nothing was written)") from None
    except ValueError as exc:
        raise UsageError(f"stdin: {exc} (nothing was written)") from None
    references = list(dict.fromkeys(image.reference for image in placed))

    def failed(reference: str, failure: DigestError) -> None:
        for image in placed:
            if image.reference == reference:
                error(f"{image.address}: {failure}")

    # Like pin-vars: the lock is written only once the manifests are (nothing on any failure).
    with resolver_from(args) as resolver, resolver.policy.deferred():
        outcome = resolver.resolve_each(references, platform=args.platform) if references else {}
        pinned = all_pinned(outcome, failed)
        if pinned is None:
            return EXIT_FAILED
        changes = {(image.document, image.location): pinned[image.reference] for image in placed}
        try:
            output = set_scalars(text, changes, documents)
        except ValueError as exc:
            raise UsageError(f"stdin: {exc} (nothing was written)") from None
        sys.stdout.buffer.write(output.encode("utf-8"))
        sys.stdout.buffer.flush()
        resolver.policy.commit()
    note(f"post-render: {len(pinned)} images pinned in {len(placed)} places")
    return EXIT_OK


def _read_stdin() -> str:
    """All of stdin, as text; a byte order mark is kept, so it is written back too."""
    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("stdin: not UTF-8 text (nothing was written)") from None


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `post-render` to the CLI."""
    post_render = commands.add_parser(
        "post-render",
        help="Helm post-renderer: rendered manifests on stdin, every image pinned on stdout",
        description="Read rendered Kubernetes manifests (helm template, or Helm's "
        "post-renderer input) on stdin and write the same text with every image deployed by "
        "tag pinned to its digest, every other byte unchanged. Nothing is written on any "
        "error: exit 1 if an image could not be resolved, 2 if the input cannot be used.",
    )
    add_resolver_options(post_render)
    post_render.set_defaults(run=run_post_render)
