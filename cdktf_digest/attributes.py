"""Read an L1 resource's attributes as synth will write them, and write changes back.

Provider bindings keep nested blocks in private config objects with no common getter, and
escape-hatch resources keep them only as raw overrides. `to_terraform()` is the one view that
shows both, already in Terraform's snake_case shape, in cdktf and cdktn alike. Changes go back
through `add_override`, which synth deep-merges over the same attributes: maps merge key by key,
lists are replaced whole (Terraform JSON has no per-element override).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_METADATA_KEY = "//"


def synthesized_attributes(resource: Any) -> dict[str, Any]:
    """The attributes block of `resource` (config merged with its overrides), tokens unresolved."""
    blocks = resource.to_terraform()["resource"][resource.terraform_resource_type]
    (attributes,) = blocks.values()
    return {key: value for key, value in attributes.items() if key != _METADATA_KEY}


def overrides(old: Any, new: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """`(override path, value)` pairs that turn `old` into `new`: maps descended, lists whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in new.items():
            if key not in old or old[key] != value:
                yield from overrides(old.get(key), value, (*path, key))
    elif old != new:
        yield ".".join(path), new


def apply_changes(resource: Any, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Override on `resource` exactly the attributes where `new` differs from `old`."""
    for path, value in overrides(old, new):
        resource.add_override(path, value)
