"""Find and replace image strings at known paths inside nested resource properties.

Both IaC adapters need "every image field of this resource type", so the walking lives here:
a path such as `template.containers[].image` names dict keys separated by dots; `[]` marks a
list, and any list met on the way is walked element by element (Terraform JSON often wraps
nested blocks in one-element lists). Replacement copies only the containers on the way to a
changed value, so unrelated values (Pulumi Outputs, resources) are never copied or touched.
`locate_images` also says where each string sits (keys and list indexes), for hosts that can
only change a value in place, one location at a time (CDKTF overrides).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

#: Where a value sits inside nested properties: dict keys and list indexes, outermost first.
Location = tuple[str | int, ...]


def split_path(path: str) -> tuple[str, ...]:
    """`a.b[].c` -> ("a", "b", "c"); rejects empty segments."""
    keys = tuple(part.removesuffix("[]") for part in path.split("."))
    if not path or any(not key for key in keys):
        raise ValueError(f"invalid image field path {path!r}: expected keys joined by '.'")
    return keys


def find_images(obj: Any, paths: Iterable[str]) -> list[str]:
    """Every string found at any of `paths`, in document order, duplicates kept."""
    return [image for _, image in locate_images(obj, paths)]


def locate_images(obj: Any, paths: Iterable[str]) -> list[tuple[Location, str]]:
    """`(location, string)` for every string at any of `paths`, in document order."""
    found: list[tuple[Location, str]] = []
    for path in paths:
        found += (
            (location, value)
            for location, value in _located(obj, split_path(path), ())
            if isinstance(value, str)
        )
    return found


def replace_images(obj: Any, paths: Iterable[str], mapping: Mapping[str, str]) -> Any:
    """A copy of `obj` with each string at `paths` replaced by `mapping[string]` when present."""
    for path in paths:
        obj = _replace(obj, split_path(path), mapping)
    return obj


def _located(obj: Any, keys: Sequence[str], here: Location) -> Iterator[tuple[Location, Any]]:
    if isinstance(obj, list | tuple):
        for index, item in enumerate(obj):
            yield from _located(item, keys, (*here, index))
        return
    if not keys:
        yield here, obj
        return
    if isinstance(obj, Mapping) and keys[0] in obj:
        yield from _located(obj[keys[0]], keys[1:], (*here, keys[0]))


def _replace(obj: Any, keys: Sequence[str], mapping: Mapping[str, str]) -> Any:
    if isinstance(obj, list | tuple):
        items = [_replace(item, keys, mapping) for item in obj]
        if all(new is old for new, old in zip(items, obj, strict=True)):
            return obj
        return type(obj)(items)
    if not keys:
        return mapping.get(obj, obj) if isinstance(obj, str) else obj
    if not isinstance(obj, Mapping) or keys[0] not in obj:
        return obj
    old = obj[keys[0]]
    new = _replace(old, keys[1:], mapping)
    if new is old:
        return obj
    copy = dict(obj)
    copy[keys[0]] = new
    return copy
