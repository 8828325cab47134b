"""Read an L1 resource's attributes as synth will write them, and change single strings in them.

Provider bindings keep nested blocks in private config objects with no common getter, and
escape-hatch resources keep them only as raw overrides. `to_terraform()` is the one view that
shows both, already in Terraform's snake_case shape, in cdktf and cdktn alike.

Writing back needs care, because synth deep-merges the raw overrides (`add_override`) over the
binding's attributes with two rules of its own (`deepMerge` in cdktf's `util.ts`, the same in
cdktn): an override *list* is appended to a list the binding holds, so overriding
`template.containers` with a rewritten list would synthesize every container twice; an override
*object* keyed by index (`template.containers.0.image`) merges into the binding's element, which
is the one write that changes a single value. `add_override` itself replaces any list it walks
through in the raw overrides with an empty object, so a value inside an escape-hatch list is
changed by overriding that raw list whole, with a copy that differs in that value only.
Every write is planned before the first is made, and the attributes are read back afterwards:
anything but exactly the expected strings changed is an error, never a half-rewritten list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdktf_digest.errors import UnsafeRewriteError
from image_digest.fields.locations import Location

_METADATA_KEY = "//"
#: How an unresolved string token starts, in cdktf and cdktn.
_STRING_TOKEN = "${TfToken["


def synthesized_attributes(resource: Any) -> dict[str, Any]:
    """The attributes block of `resource` (config merged with its overrides), tokens unresolved.

    A module (`TerraformHclModule`, generated module bindings) is read the same way: its block
    holds its input variables beside `source`."""
    synthesized = resource.to_terraform()
    if "module" in synthesized:
        blocks = synthesized["module"]
    else:
        blocks = synthesized["resource"][resource.terraform_resource_type]
    (attributes,) = blocks.values()
    return {key: value for key, value in attributes.items() if key != _METADATA_KEY}


def element_type(element: Any) -> str:
    """A resource's Terraform type, or `module` for a module."""
    return str(getattr(element, "terraform_resource_type", None) or "module")


def with_tokens_resolved(element: Any, value: Any, lib: Any) -> Any:
    """`value` with each string token (`${TfToken[...]}`) as synth writes it: an expression
    such as `${var.image}`, or `${jsonencode([...])}` for `Fn.jsonencode`. One jsii call per
    token; values without tokens are returned as they are."""
    if isinstance(value, str):
        if _STRING_TOKEN not in value:
            return value
        resolver = lib.DefaultTokenResolver(lib.StringConcat())
        scope = lib.TerraformStack.of(element)
        return lib.Tokenization.resolve(value, scope=scope, preparing=False, resolver=resolver)
    if isinstance(value, Mapping):
        items = {key: with_tokens_resolved(element, item, lib) for key, item in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if isinstance(value, list):
        listed = [with_tokens_resolved(element, item, lib) for item in value]
        return value if all(a is b for a, b in zip(listed, value, strict=True)) else listed
    return value


def set_strings(resource: Any, changes: Mapping[Location, str]) -> None:
    """Make each location of `changes` hold its new string, changing nothing else synth writes.

    Raises `UnsafeRewriteError` (before any write where it can tell) when no override does that.
    """
    before = synthesized_attributes(resource)
    raw = _copy(resource._raw_overrides or {})  # protected in TypeScript; jsii exposes it so
    writes = [_plan_write(resource, raw, before, where, new) for where, new in changes.items()]
    for path, value in writes:
        resource.add_override(path, value)
    expected = before
    for location, new in changes.items():
        expected = _with_value(expected, location, new)
    after = synthesized_attributes(resource)
    if after != expected:
        raise UnsafeRewriteError(
            resource.node.path,
            element_type(resource),
            _first_difference(expected, after),
            "synth merged the override into more than that value",
        )


def _plan_write(
    resource: Any, raw: dict[str, Any], merged: dict[str, Any], location: Location, new: str
) -> tuple[str, Any]:
    """The `add_override(path, value)` that sets `location` alone; applied to `raw` too, so the
    next planned write sees it (two images in one escape-hatch list)."""
    path, value = _override(resource, raw, merged, location, new)
    _add_override(raw, path, value)
    return ".".join(str(key) for key in path), value


def _override(
    resource: Any, raw: dict[str, Any], merged: dict[str, Any], location: Location, new: str
) -> tuple[Location, Any]:
    def unsafe(at: Location, reason: str) -> UnsafeRewriteError:
        return UnsafeRewriteError(
            resource.node.path,
            element_type(resource),
            _dotted(at),
            reason,
            reference=_at(merged, location),
        )

    if any(isinstance(key, str) and "." in key for key in location):
        raise unsafe(location, "add_override cannot address a key that contains '.'")
    node: Any = raw
    for depth, key in enumerate(location):
        if not isinstance(node, dict) or str(key) not in node:
            break  # nothing below here is overridden: write the one value
        node = node[str(key)]
        if isinstance(node, list):  # a list the raw overrides hold: replace it whole
            prefix, rest = location[: depth + 1], location[depth + 1 :]
            merged_list = _at(merged, prefix)
            offset = len(merged_list) - len(node) if isinstance(merged_list, list) else -1
            index = rest[0] if rest else None
            if not isinstance(index, int) or offset < 0 or index < offset:
                raise unsafe(
                    location,
                    f"the list at {_dotted(prefix)} is declared in the resource and extended "
                    "with add_override, and an override can only replace the added part",
                )
            return prefix, _with_value(node, (index - offset, *rest[1:]), new)
    return location, new


def _add_override(raw: dict[str, Any], path: Location, value: Any) -> None:
    """What `TerraformElement.addOverride` does to the raw overrides (lists walked become {})."""
    node = raw
    for key in path[:-1]:
        if not isinstance(node.get(str(key)), dict):
            node[str(key)] = {}
        node = node[str(key)]
    node[str(path[-1])] = value


def _at(obj: Any, location: Location) -> Any:
    for key in location:
        obj = obj[key]
    return obj


def _with_value(obj: Any, location: Location, new: str) -> Any:
    """A copy of `obj` (of the dicts and lists on the way only) with `new` at `location`."""
    if not location:
        return new
    key, rest = location[0], location[1:]
    if isinstance(obj, list) and isinstance(key, int):
        return [_with_value(item, rest, new) if i == key else item for i, item in enumerate(obj)]
    return {**obj, key: _with_value(obj[key], rest, new)}


def _copy(obj: Any) -> Any:
    """Dicts and lists copied; anything else (jsii object references) shared, never cloned."""
    if isinstance(obj, Mapping):
        return {key: _copy(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_copy(item) for item in obj]
    return obj


def _first_difference(expected: Any, actual: Any, here: Location = ()) -> str:
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        for key in dict.fromkeys([*expected, *actual]):
            if expected.get(key, _MISSING) != actual.get(key, _MISSING):
                return _first_difference(expected.get(key), actual.get(key), (*here, key))
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (old, new) in enumerate(zip(expected, actual, strict=True)):
            if old != new:
                return _first_difference(old, new, (*here, index))
    return _dotted(here) or "(the whole resource)"


_MISSING = object()


def _dotted(location: Location) -> str:
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in location).lstrip(
        "."
    )
