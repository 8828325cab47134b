"""Where a value sits inside nested properties, and where two versions of them differ: the
vocabulary that paths, codecs and the YAML splicer share (so none of them imports another for
it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Where a value sits inside nested properties: dict keys and list indexes, outermost first.
Location = tuple[str | int, ...]


def string_changes(old: Any, new: Any, here: Location = ()) -> dict[Location, str]:
    """Location -> new string, for every string that differs between `old` and `new`, which
    `replace_images` made from it (same shape; an encoded value changes as one string)."""
    if isinstance(old, str) and isinstance(new, str):
        return {here: new} if old != new else {}
    changes: dict[Location, str] = {}
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in old:
            if new.get(key) is not old[key]:
                changes |= string_changes(old[key], new.get(key), (*here, key))
    elif isinstance(old, list | tuple) and isinstance(new, list | tuple):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            if after is not before:
                changes |= string_changes(before, after, (*here, index))
    return changes
