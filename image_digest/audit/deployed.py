"""What an environment deploys: every image of a lock file, plan, state, stack or export.

Promotion asks whether two environments run the same content, and the answer must not
depend on how each file spells it: so every input is read into the images it leaves
standing, each with its canonical repository (`registry/path`) and digest. A lock file gives
its entries; the other formats are read as `audit` reads them (`read_document`), but whole:
a plan's or preview's unchanged resources run too. Images are found where the pinners look:
the catalog's fields for the resource's type, then every field named like an image. A
reference with a tag and a digest (`repo:1.27@sha256:...`) counts by its digest; one with a
tag only is kept with `digest=None`, since a tag proves nothing about content.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from image_digest.audit.formats import UnreadableInputError, read_document
from image_digest.audit.resources import Resource
from image_digest.errors import DigestError, InputLimitError, LockError
from image_digest.fields.catalog import builds, image_fields
from image_digest.fields.paths import find_images
from image_digest.fields.unpinned import image_named_fields
from image_digest.names.reference import Reference, parse
from image_digest.pinning.lockfile import LOCK_FORMAT, LockFile
from image_digest.safe_load import load_json

#: The format name of an image-digest lock file (the others are `audit.FORMATS`).
LOCK = "lock"
#: The repository of an image field whose whole value is an expression.
UNKNOWN = "(known only at plan time)"
#: This library's own resources: the tag a `DigestImage` resolves runs nowhere; the resources
#: that use its `repo_digest` deploy the image, and are read instead.
RESOLVING_TYPES = frozenset({"pulumi-python:dynamic/pulumi-digest:DigestImage"})


@dataclass(frozen=True)
class DeployedImage:
    """One image one resource (or lock entry) deploys: `repository` canonical, `digest` None
    when deployed by tag; `where` is the resource address and field path, or for a lock the
    entry's reference (and platform); `secret` when its value is secret or sensitive;
    `expression` when it is known only at plan time (`repo@${data.x.sha256_digest}` in a
    `cdk.tf.json`): its repository is `UNKNOWN` unless the expression follows it."""

    repository: str
    digest: str | None
    reference: str
    where: str
    secret: bool = False
    expression: bool = False


@dataclass(frozen=True)
class Deployment:
    """One input file, read: its format and every image it deploys, in file order."""

    path: str
    format: str
    images: tuple[DeployedImage, ...]


def read_deployment(path: str) -> Deployment:
    """The images `path` deploys, in the format its content shows; `UnreadableInputError`
    (a `ValueError`) naming the file and why when it is none of them."""
    if _is_lock(path):
        return Deployment(path, LOCK, tuple(_lock_images(path)))
    document = read_document(path, whole=True)
    images = (
        image
        for resource in document.resources
        if resource.type not in RESOLVING_TYPES
        for image in images_in(resource)
    )
    return Deployment(path, document.format, tuple(dict.fromkeys(images)))


def images_in(resource: Resource) -> Iterator[DeployedImage]:
    """Every valid reference in `resource`'s image fields (catalog, then named like an image),
    except the names it builds, which are not pulled from a registry."""
    props: Any = resource.props
    fields = image_fields(resource.host).get(resource.type, ())
    built = {
        name
        for rule in builds(resource.host).get(resource.type, ())
        if rule.builds(props)
        for name in rule.names
    }
    seen: set[str] = set()
    for path in (p for p in fields if p not in built):
        for value in find_images(props, [path]):
            if _is_expression(value):
                seen.add(value)
                yield _expression(resource, value, path)
            elif (reference := _reference(value)) is not None:
                seen.add(value)
                yield _image(resource, reference, value, path)
    for found in image_named_fields(props):
        if found.path in built or found.reference in seen:
            continue
        if _is_expression(found.reference):
            yield _expression(resource, found.reference, found.path)
            continue
        reference = _reference(found.reference)
        if reference is not None and _names_an_image(reference):
            yield _image(resource, reference, found.reference, found.path)


def _is_expression(value: str) -> bool:
    """A Terraform interpolation (`${...}`), whose value only a plan knows."""
    return "${" in value


def _expression(resource: Resource, value: str, path: str) -> DeployedImage:
    head = value.split("${", 1)[0].rstrip("@:")
    reference = _reference(head) if head else None
    name = reference.name if reference is not None and reference.digest is None else UNKNOWN
    where = f"{resource.address}: {path}"
    hidden = resource.hides(value)
    return DeployedImage(name, None, value, where, secret=hidden, expression=True)


def _image(resource: Resource, reference: Reference, value: str, path: str) -> DeployedImage:
    where = f"{resource.address}: {path}"
    return DeployedImage(
        reference.name, reference.digest, value, where, secret=resource.hides(value)
    )


def _reference(value: str) -> Reference | None:
    try:
        return parse(value)
    except DigestError:
        return None  # an expression, an unknown, `[secret]`: not a reference


def _names_an_image(reference: Reference) -> bool:
    """In a field the catalog does not name, a value counts when it is clearly an image: it
    carries a digest or a tag, or names a registry host (not a VM image `family/name`)."""
    first, slash, _ = reference.written_name.partition("/")
    host = bool(slash) and ("." in first or ":" in first or first == "localhost")
    return reference.digest is not None or reference.tag is not None or host


def _is_lock(path: str) -> bool:
    """Whether `path` holds an image-digest lock (else `read_document` explains what it is)."""
    try:
        document = load_json(Path(path).read_bytes().decode("utf-8-sig"), path)
    except (OSError, ValueError, InputLimitError):
        return False
    return isinstance(document, dict) and document.get("format") == LOCK_FORMAT


def _lock_images(path: str) -> Iterator[DeployedImage]:
    try:
        entries = LockFile(path).entries()
    except LockError as exc:
        raise UnreadableInputError(str(exc)) from None
    for entry in entries:
        where = f"{entry.reference} [{entry.platform}]" if entry.platform else entry.reference
        name = parse(entry.reference).name
        yield DeployedImage(name, entry.digest, f"{name}@{entry.digest}", where)
