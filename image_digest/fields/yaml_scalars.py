"""Change single scalars inside YAML text, leaving every other byte as it was.

Rendered manifests and a Helm values string are the user's text: comments, key order, quoting
and document separators must survive a pin, and a diff must show the images alone. So the
text is never dumped again: PyYAML's composer gives every scalar node its span in the text,
and a change splices the new value, written in the old scalar's quoting style, into exactly
that span. The result is parsed again and must equal the expected data (an anchor shared by
an alias, say, would change both places): otherwise a `ValueError`, never half-changed text.

PyYAML is optional (in the `audit`, `cdktf` and `cdktn` extras): `yaml_module()` says how to
get it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from types import ModuleType
from typing import Any

from image_digest.fields.locations import Location
from image_digest.safe_load import compose_yaml_all, load_yaml_all

#: (document index in the stream, location inside that document).
DocumentLocation = tuple[int, Location]

_FLOW_INDICATORS = frozenset(",[]{}#")


def yaml_module() -> ModuleType:
    """PyYAML, or a `ModuleNotFoundError` that names the extra providing it."""
    try:
        import yaml  # type: ignore[import-untyped]
    except ModuleNotFoundError as missing:
        raise ModuleNotFoundError(
            "reading YAML needs PyYAML: pip install pyyaml (the audit, cdktf and cdktn extras "
            "include it)",
            name=missing.name,
        ) from None
    module: ModuleType = yaml
    return module


@dataclass(frozen=True)
class YamlDocument:
    """One document of a stream: its node tree (with positions) and its data."""

    node: Any
    data: Any


def load_documents(text: str, source: str = "YAML") -> list[YamlDocument]:
    """Every document of `text`, parsed once into nodes and data, with the limits every input
    has (`image_digest.safe_load`: an `InputLimitError` names `source`); `yaml.YAMLError` if
    invalid."""
    yaml_module()  # the extra to install, named, when PyYAML is missing
    return [YamlDocument(node, data) for node, data in compose_yaml_all(text, source)]


def set_scalars(
    text: str,
    changes: Mapping[DocumentLocation, str],
    documents: Sequence[YamlDocument] | None = None,
) -> str:
    """`text` with the scalar at each location replaced by its new string, nothing else.

    `documents` are `load_documents(text)`, when the caller has them already. A `ValueError`
    names the first location that holds no plain, quoted scalar, or whose change cannot be
    made alone.
    """
    if not changes:
        return text
    if documents is None:
        documents = load_documents(text)
    splices: list[tuple[int, int, str]] = []
    for (index, location), value in changes.items():
        node = _scalar_at(documents, index, location)
        start, end = node.start_mark.index, node.end_mark.index
        if text[start : start + 1] in ("&", "!"):  # the span starts at its anchor or tag
            raise ValueError(
                f"the YAML scalar at {_dotted(location)} has an anchor or a tag; "
                "change it where it is written"
            )
        splices.append((start, end, _scalar_text(node, value)))
    splices.sort(reverse=True)
    for later, earlier in pairwise(splices):
        if earlier[1] > later[0]:
            raise ValueError("two changes of the same YAML scalar")
    pieces, tail = [], len(text)
    for start, end, replacement in splices:  # from the end of the text backwards
        pieces += [text[end:tail], replacement]
        tail = start
    text = text[:tail] + "".join(reversed(pieces))
    expected = [document.data for document in documents]
    for (index, location), value in changes.items():
        expected[index] = with_value(expected[index], location, value)
    yaml = yaml_module()
    try:
        changed = load_yaml_all(text, "the changed YAML text")
    except yaml.YAMLError as exc:
        raise ValueError(f"the changed YAML text does not parse: {exc}") from None
    if changed != expected:
        where = ", ".join(_dotted(location) for _, location in changes)
        raise ValueError(
            f"changing {where} in the YAML text changes other values too (an anchor "
            "shared with an alias?)"
        )
    return text


def with_value(obj: Any, location: Location, new: Any) -> Any:
    """A copy of `obj` (of the mappings and lists on the way only) with `new` at `location`."""
    if not location:
        return new
    key, rest = location[0], location[1:]
    if isinstance(obj, list | tuple) and isinstance(key, int):
        items = list(obj)
        items[key] = with_value(items[key], rest, new)
        return type(obj)(items) if isinstance(obj, tuple) else items
    if isinstance(obj, Mapping):
        return {**obj, key: with_value(obj[key], rest, new)}
    raise KeyError(key)


def _scalar_at(documents: Sequence[YamlDocument], index: int, location: Location) -> Any:
    yaml = yaml_module()
    node = documents[index].node if 0 <= index < len(documents) else None
    for key in location:
        node = _child(yaml, node, key)
    if not isinstance(node, yaml.ScalarNode) or node.style in ("|", ">"):
        raise ValueError(f"no single-line YAML scalar at {_dotted(location)} to change")
    return node


def _child(yaml: ModuleType, node: Any, key: str | int) -> Any:
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int):
        return node.value[key] if 0 <= key < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        found = None
        for key_node, value_node in node.value:  # the last of duplicate keys wins, as in load
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
                found = value_node
        return found
    return None


def _scalar_text(node: Any, value: str) -> str:
    """`value` as a YAML scalar in `node`'s style: plain stays plain where it reads back the
    same, single quotes stay single; anything else becomes a JSON (double-quoted) string."""
    if not node.style and _plain_safe(value):  # None (PyYAML) or "" (libyaml): plain
        return value
    if node.style == "'":
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value)


def _plain_safe(value: str) -> bool:
    if not value or value != value.strip() or _FLOW_INDICATORS & set(value) or ": " in value:
        return False
    try:
        return bool(yaml_module().safe_load(value) == value)
    except Exception:  # any parse error: not safe as a plain scalar
        return False


def _dotted(location: Location) -> str:
    text = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in location)
    return text.lstrip(".") or "(the document)"
