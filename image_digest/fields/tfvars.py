"""Image references in a Terraform variables file (`*.tfvars.json`), and the file pinned.

Plain Terraform (HCL) cannot resolve a digest while it plans, so CI resolves the images
before: `image-digest pin-vars images.tfvars.json -o images.auto.tfvars.json`, which
Terraform loads by itself. A value is an image when it is a top-level variable named like one
(`*image`, `*_image`, `*image_uri`: any reference, even a bare `nginx`; `*images`,
`*image_uris`: a list or a map of them), or when it sits, at any depth, in a field the audit
heuristics call an image (`image`, `image_uri`, ..., JSON container definitions) and clearly
is one (a tag or a registry host). What is no container image by the one rule
(`image_digest.fields.recognize`: VM and machine images such as `debian-cloud/debian-12`, an AMI,
`Ubuntu 22.04`; image IDs) is left alone. `only` and `skip` choose variables by name (globs).
Only image strings change; every other value, and the order of keys, stays as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from image_digest.errors import InvalidReferenceError
from image_digest.fields.paths import EVERY_VALUE, replace_images
from image_digest.fields.recognize import not_a_container_image
from image_digest.fields.selection import needs_resolution
from image_digest.fields.unpinned import unpinned_images
from image_digest.names.reference import parse

#: A top-level variable whose name ends so (any case) holds one image reference.
IMAGE_NAME_SUFFIXES = ("image", "_image", "image_uri")
#: A top-level variable whose name ends so (any case) holds a list or a map of references.
IMAGES_NAME_SUFFIXES = ("images", "_images", "image_uris")


@dataclass(frozen=True)
class ImageValue:
    """A reference to pin, at `path` (field syntax) in the variables document."""

    path: str
    reference: str


def image_values(
    variables: Mapping[str, Any], *, only: Iterable[str] = (), skip: Iterable[str] = ()
) -> list[ImageValue]:
    """Every image reference in `variables` that has no digest, in document order.

    `only` (when given) and `skip` are glob patterns of top-level variable names. A value of
    a variable named like an image that is neither a reference nor anything else the image
    rule knows is an `InvalidReferenceError` naming the variable: pinning must not silently
    leave it as it is.
    """
    chosen, skipped = tuple(only), tuple(skip)
    found: dict[ImageValue, None] = {}
    for name, value in variables.items():
        if chosen and not any(fnmatchcase(name, p) for p in chosen):
            continue
        if any(fnmatchcase(name, p) for p in skipped):
            continue
        for path, item in named_images(name, value):
            if _checked(item, name):
                found[ImageValue(path, item)] = None
        for unpinned in unpinned_images({name: value}):
            found[ImageValue(unpinned.path.replace("[]", ""), unpinned.reference)] = None
    return list(found)


def named_images(name: str, value: Any) -> list[tuple[str, str]]:
    """(path, string) for each string a variable named like an image (or images) holds:
    `image = "..."`, `sidecar_images = [...]`, `images = {api = "..."}`. Also the rule for a
    module's input variables."""
    if not isinstance(name, str) or any(c in name for c in ".|[]"):
        return []
    lowered = name.lower()
    if lowered.endswith(IMAGE_NAME_SUFFIXES) and isinstance(value, str):
        return [(name, value)] if value else []
    if lowered.endswith(IMAGES_NAME_SUFFIXES):
        if isinstance(value, list):
            return [(name, item) for item in value if isinstance(item, str) and item]
        if isinstance(value, Mapping):
            path = f"{name}.{EVERY_VALUE}"
            return [(path, item) for item in value.values() if isinstance(item, str) and item]
    return []


def _checked(value: str, name: str) -> bool:
    """Is `value` (of variable `name`) a reference to pin? Machine images and image IDs are
    not; an invalid reference is an error naming the variable."""
    if not_a_container_image(value) is not None:
        return False
    try:
        parse(value)
    except InvalidReferenceError as exc:
        raise InvalidReferenceError(value, f"{exc.rule} (variable {name!r})") from None
    return needs_resolution(value)


def pin_values(
    variables: Mapping[str, Any], values: list[ImageValue], pinned: Mapping[str, str]
) -> Any:
    """A copy of `variables` with each value's reference replaced by `pinned[reference]`."""
    for value in values:
        variables = replace_images(variables, [value.path], pinned)
    return variables


def render(variables: Any) -> str:
    """The variables as Terraform reads them: JSON, two-space indents, a final newline."""
    return json.dumps(variables, indent=2, ensure_ascii=False) + "\n"
