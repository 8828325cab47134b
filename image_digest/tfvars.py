"""Image references in a Terraform variables file (`*.tfvars.json`), and the file pinned.

Plain Terraform (HCL) cannot resolve a digest while it plans, so CI resolves the images
before: `image-digest pin-vars images.tfvars.json -o images.auto.tfvars.json`, which
Terraform loads by itself. A value is an image when it is a top-level variable named like one
(`*image`, `*_image`, `*image_uri`: any reference, even a bare `nginx`), or when it sits, at
any depth, in a field the audit heuristics call an image (`image`, `image_uri`, ..., JSON
container definitions) and clearly is one (a tag or a registry host). Only those strings
change; every other value, and the order of keys, stays as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from image_digest.errors import InvalidReferenceError
from image_digest.fields import replace_images
from image_digest.reference import parse
from image_digest.selection import needs_resolution
from image_digest.unpinned import unpinned_images

#: A top-level variable whose name ends so (any case) holds one image reference.
IMAGE_NAME_SUFFIXES = ("image", "_image", "image_uri")


@dataclass(frozen=True)
class ImageValue:
    """A reference to pin, at `path` (field syntax) in the variables document."""

    path: str
    reference: str


def image_values(variables: Mapping[str, Any]) -> list[ImageValue]:
    """Every image reference in `variables` that has no digest, in document order.

    A top-level image variable that is not a valid reference is an `InvalidReferenceError`
    naming the variable: pinning must not silently leave it as it is.
    """
    found: dict[ImageValue, None] = {}
    for name, value in variables.items():
        if _named_like_an_image(name) and isinstance(value, str) and value:
            try:
                parse(value)
            except InvalidReferenceError as exc:
                raise InvalidReferenceError(value, f"{exc.rule} (variable {name!r})") from None
            if needs_resolution(value):
                found[ImageValue(name, value)] = None
    for item in unpinned_images(variables):
        found[ImageValue(item.path.replace("[]", ""), item.reference)] = None
    return list(found)


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


def _named_like_an_image(name: str) -> bool:
    """Terraform variable names are identifiers; a key with path characters is none."""
    return name.lower().endswith(IMAGE_NAME_SUFFIXES) and not any(c in name for c in ".|[]")
