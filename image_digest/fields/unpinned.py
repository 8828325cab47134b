"""Image references left as tags where no table looks: so that no miss is silent.

A pinner pins the fields its catalog knows. Anything else that deploys an image by tag would
go out unnoticed, and one line at the top of a program must not promise more than it does. So
after pinning, every resource's properties are searched for fields named like an image
(`image`, `imageUri`, `imageIdentifier`, ..., a `DOCKER|` string in `linuxFxVersion`, JSON
container definitions) whose value is a reference with a tag, and each one no table covers is
reported with the field path that would cover it.

To keep false alarms out (a VM's `image = "debian-cloud/debian-12"` is not a container), a
value counts only when `image_digest.fields.recognize` says it clearly is an image: it names a
registry host or a tag explicitly (`nginx:1.27`, `gcr.io/p/app`), and it is no image ID or VM
image; a bare `nginx` in an unknown field is not reported. Lists nested in lists are walked
like any list (a path marks a list once: `extra[].image`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from image_digest.errors import DigestError
from image_digest.fields.codecs import CODECS
from image_digest.fields.paths import EVERY_VALUE, Segment, split_path
from image_digest.fields.recognize import clearly_an_image
from image_digest.fields.selection import needs_resolution

#: Set to 1 to fail, instead of warn, on every image left as a tag.
STRICT_VARIABLE = "IMAGE_DIGEST_STRICT"

#: Keys whose string value is an image reference, in Pulumi's and Terraform's spellings.
IMAGE_KEYS = frozenset(
    {"image", "imageUri", "image_uri", "imageIdentifier", "image_identifier", "imageName"}
)
#: Keys whose string value holds images inside an encoding -> the codec (see `codecs`).
ENCODED_KEYS: Mapping[str, str] = {
    **dict.fromkeys(["containerDefinitions", "container_definitions"], "json"),
    **dict.fromkeys(["containerProperties", "container_properties"], "json"),
    **dict.fromkeys(["nodeProperties", "node_properties", "ecsProperties"], "json"),
    **dict.fromkeys(["ecs_properties"], "json"),
    **dict.fromkeys(["linuxFxVersion", "linux_fx_version", "windowsFxVersion"], "docker"),
    **dict.fromkeys(["windows_fx_version"], "docker"),
}


@dataclass(frozen=True)
class Unpinned:
    """A tag in a field no table covers: `path` in field syntax, the field that would pin it."""

    path: str
    reference: str


def unpinned_images(
    props: Any, *, covered: Iterable[str] = (), skip_prefixes: Iterable[str] = ()
) -> list[Unpinned]:
    """Every image-like field of `props` that holds a tag and is not under `covered` paths."""
    known = [split_path(path) for path in covered]
    prefixes = tuple(skip_prefixes)
    return [
        found
        for found in _candidates(props, "")
        if not any(_matches(split_path(found.path), pattern) for pattern in known)
        and needs_resolution(found.reference, prefixes)
        and clearly_an_image(found.reference)
    ]


def image_named_fields(props: Any) -> list[Unpinned]:
    """Every field of `props` named like an image, pinned or not, with its path: what the
    heuristic looks at (`image-digest diff` also reads the digests found there)."""
    return list(_candidates(props, ""))


def _candidates(obj: Any, path: str) -> Iterator[Unpinned]:
    if isinstance(obj, list | tuple):
        inner = path if not path or path.endswith("[]") else f"{path}[]"
        for item in obj:
            yield from _candidates(item, inner)
        return
    if not isinstance(obj, Mapping):
        return
    for key, value in obj.items():
        if not isinstance(key, str) or not key or any(c in key for c in ".|[]"):
            continue  # a label or annotation key, never an image field
        here = f"{path}.{key}" if path else key
        codec = CODECS.get(ENCODED_KEYS.get(key, ""))
        if codec is not None and isinstance(value, str):
            decoded = codec.decode(value)
            encoded_path = f"{here}|{ENCODED_KEYS[key]}"
            if isinstance(decoded, str):
                yield Unpinned(encoded_path, decoded)
            elif decoded is not None:  # paths go on right after the codec: `x|json[].image`
                yield from _candidates(decoded, encoded_path)
        elif key in IMAGE_KEYS and isinstance(value, str):
            yield Unpinned(here, value)
        else:
            yield from _candidates(value, here)


def _matches(found: tuple[Segment, ...], pattern: tuple[Segment, ...]) -> bool:
    """Same keys (`*` matching any) and the same codecs; list marks play no part, since
    lists are walked anywhere."""
    return len(found) == len(pattern) and all(
        (step.key == expected.key or expected.key == EVERY_VALUE) and step.codec is expected.codec
        for step, expected in zip(found, pattern, strict=True)
    )


def strict_mode(strict: bool | None) -> bool:
    """`strict` as given, else the `IMAGE_DIGEST_STRICT` variable (1/true/yes turn it on)."""
    if strict is not None:
        return strict
    return os.environ.get(STRICT_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def unpinned_message(where: str, resource_type: str, found: Unpinned, entry_point: str) -> str:
    """One line a user can act on: which resource, which field, and the entry that pins it."""
    return (
        f"{where}: image {found.reference!r} at {found.path} is deployed by tag: "
        f"no table covers this field of {resource_type}; pin it with "
        f'{entry_point}(fields={{"{resource_type}": ["{found.path}"]}})'
    )


class UnpinnedImagesError(DigestError):
    """Strict mode: images are left as tags; `found` lists each message."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(
            f"strict mode ({STRICT_VARIABLE}): {len(messages)} image(s) would be deployed by "
            "tag:\n" + "\n".join(f"  {message}" for message in messages)
        )
        self.messages = messages
