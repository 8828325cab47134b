"""Find and replace image strings at known paths inside nested resource properties.

Both IaC adapters (and the checks that report tags left behind) need "every image field of
this resource type", so the walking lives here. A path such as `template.containers[].image`
names dict keys separated by dots; `[]` marks a list, and any list met on the way is walked
element by element (Terraform JSON often wraps nested blocks in one-element lists); `*` is
every value of a map (awsx's named `containers`); `key|codec` says the string at `key` holds
the rest of the path in an encoding (`containerDefinitions|json[].image`,
`siteConfig.linuxFxVersion|docker`; see `codecs`). Replacement copies only the containers on
the way to a changed value, so unrelated values (Pulumi Outputs, resources) are never copied
or touched. `locations.string_changes` says where the strings changed, for hosts that can only
change a value in place, one location at a time (CDKTF overrides).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from image_digest.fields.codecs import CODECS, ValueCodec

#: The segment that stands for every value of a map.
EVERY_VALUE = "*"


@dataclass(frozen=True)
class Segment:
    """One step of a path: a key (or `*`), and the codec of the string found there, if any."""

    key: str
    codec: ValueCodec | None = None


@lru_cache(maxsize=1024)
def split_path(path: str) -> tuple[Segment, ...]:
    """`a.b[].c|json[].image` -> its segments; a malformed path is a ValueError naming it."""
    segments: list[Segment] = []
    for part in path.split(".") if path else [""]:
        name, bar, codec_name = part.partition("|")
        key, codec_name = _unmarked(name), _unmarked(codec_name)
        if not key or "[" in key or "]" in key:
            raise ValueError(
                f"invalid image field path {path!r}: expected keys joined by '.', "
                "each optionally followed by '[]' or '|codec'"
            )
        if bar and codec_name not in CODECS:
            raise ValueError(
                f"invalid image field path {path!r}: unknown codec {codec_name!r} "
                f"(known: {', '.join(sorted(CODECS))})"
            )
        segments.append(Segment(key, CODECS[codec_name] if bar else None))
    return tuple(segments)


def _unmarked(name: str) -> str:
    """`name` without its list marks (`extra[][]` is a list of lists: walked all the same)."""
    while name.endswith("[]"):
        name = name[:-2]
    return name


def find_images(obj: Any, paths: Iterable[str]) -> list[str]:
    """Every string found at any of `paths`, in document order, duplicates kept."""
    found: list[str] = []
    for path in paths:
        found += (v for v in _values(obj, split_path(path)) if isinstance(v, str))
    return found


def find_values(obj: Any, path: str) -> list[Any]:
    """Every value at `path`, whatever its type (an expression object, a number)."""
    return list(_values(obj, split_path(path)))


def replace_images(obj: Any, paths: Iterable[str], mapping: Mapping[str, str]) -> Any:
    """A copy of `obj` with each string at `paths` replaced by `mapping[string]` when present."""
    for path in paths:
        obj = _replace(obj, split_path(path), mapping)
    return obj


def _children(obj: Any, key: str) -> Iterator[tuple[str, Any]]:
    if not isinstance(obj, Mapping):
        return
    if key == EVERY_VALUE:
        yield from obj.items()
    elif key in obj:
        yield key, obj[key]


def _values(obj: Any, segments: Sequence[Segment]) -> Iterator[Any]:
    if isinstance(obj, list | tuple):
        for item in obj:
            yield from _values(item, segments)
        return
    if not segments:
        yield obj
        return
    first, rest = segments[0], segments[1:]
    for _, value in _children(obj, first.key):
        if first.codec is None:
            yield from _values(value, rest)
            continue
        for text in value if isinstance(value, list | tuple) else [value]:  # one or a list
            if isinstance(text, str) and (decoded := first.codec.decode(text)) is not None:
                yield from _values(decoded, rest)


def _replace(obj: Any, segments: Sequence[Segment], mapping: Mapping[str, str]) -> Any:
    if isinstance(obj, list | tuple):
        items = [_replace(item, segments, mapping) for item in obj]
        if all(new is old for new, old in zip(items, obj, strict=True)):
            return obj
        return type(obj)(items)
    if not segments:
        return mapping.get(obj, obj) if isinstance(obj, str) else obj
    first, rest = segments[0], segments[1:]
    copy: dict[str, Any] | None = None
    for key, old in _children(obj, first.key):
        new = _replace_value(old, first.codec, rest, mapping)
        if new is not old:
            copy = dict(obj) if copy is None else copy
            copy[key] = new
    return obj if copy is None else copy


def _replace_value(
    value: Any, codec: ValueCodec | None, rest: Sequence[Segment], mapping: Mapping[str, str]
) -> Any:
    if codec is None:
        return _replace(value, rest, mapping)
    if isinstance(value, list | tuple):  # a list of encoded strings
        items = [_replace_value(item, codec, rest, mapping) for item in value]
        if all(new is item for new, item in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if not isinstance(value, str) or (decoded := codec.decode(value)) is None:
        return value
    new = _replace(decoded, rest, mapping)
    return value if new is decoded else codec.encode(value, decoded, new)
