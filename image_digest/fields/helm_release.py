"""A Terraform `helm_release`'s values as the Helm provider merges them, and its images pinned.

The provider builds the chart's values from `values` (YAML documents, merged in order: maps
key by key, anything else replaced), then applies each `set`, `set_list` and `set_sensitive`
entry, whose `name` addresses a value the way `helm --set` does (`controller.image.tag`,
`a\\.b` for a key with a dot, `list[0].image`). The images are read from that merged tree
(`image_digest.fields.helm_values`); each pin is written into the entry or document that set the
value last, since that is the one Helm uses: a `set` entry's `value`, or one scalar of a
YAML document, changed in the text (`image_digest.fields.yaml_scalars`) so every other byte stays.

A value Terraform only knows later (`${...}`, a CDK token) is not a values document; it is
reported in `ReleaseValues.unreadable`, so a caller can say what it cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from image_digest.fields.helm_values import PartialImage, ValuesImage, values_images
from image_digest.fields.locations import Location
from image_digest.fields.yaml_scalars import load_documents, set_scalars, yaml_module
from image_digest.names.resolved import ResolvedImage

#: Terraform's resource type for a Helm release.
HELM_RELEASE = "helm_release"
#: The blocks that set single values by name, in the order the provider applies them.
SET_BLOCKS = ("set", "set_list", "set_sensitive")


@dataclass(frozen=True)
class ValuesSource:
    """Where values come from: `attribute` is its location in the resource's attributes (a
    YAML string of `values`, or a set entry), `tree` what it contributes, `path` the values
    location a set entry addresses (None for a document, which may set anything), `text` a
    document's YAML as written."""

    attribute: Location
    tree: Any
    path: Location | None = None
    text: str = ""


@dataclass
class ReleaseValues:
    """A release's merged values, the sources in the order they apply, and what cannot be read."""

    merged: dict[str, Any] = field(default_factory=dict)
    sources: list[ValuesSource] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def images(self) -> tuple[list[ValuesImage], list[PartialImage]]:
        return values_images(self.merged)

    def changes(
        self, images: list[ValuesImage], pins: Mapping[str, ResolvedImage]
    ) -> dict[Location, str]:
        """Attribute location -> new string that pins each image of `pins`: a set entry's
        value, or a whole `values` document with the pinned scalars changed in its text."""
        changes: dict[Location, str] = {}
        documents: dict[Location, dict[tuple[int, Location], str]] = {}
        for image in images:
            if image.reference not in pins:
                continue
            source = self._setter(image.target)
            value = image.pinned(pins[image.reference])
            if source.path is None:
                documents.setdefault(source.attribute, {})[0, image.target] = value
            else:
                within = image.target[len(source.path) :]
                changes[(*source.attribute, "value", *within)] = value
        for attribute, scalars in documents.items():
            changes[attribute] = set_scalars(self._text(attribute), scalars)
        return changes

    def _setter(self, location: Location) -> ValuesSource:
        """The source Helm takes the value at `location` from: the last one that sets it."""
        for source in reversed(self.sources):
            if source.path is not None:
                if location[: len(source.path)] == source.path:
                    return source
            elif _has(source.tree, location):
                return source
        raise LookupError(f"no values source sets {location}")  # merged from the sources

    def _text(self, attribute: Location) -> str:
        for source in self.sources:
            if source.attribute == attribute:
                return source.text
        raise LookupError(attribute)


def release_values(attributes: Mapping[str, Any]) -> ReleaseValues:
    """The values a `helm_release` with these (synthesized) attributes gives its chart."""
    release = ReleaseValues()
    documents = attributes.get("values")
    for index, text in enumerate(documents if isinstance(documents, list) else []):
        tree = _document(text)
        if tree is None:
            release.unreadable.append(f"values[{index}]")
            continue
        release.sources.append(ValuesSource(("values", index), tree, None, text))
        _merge(release.merged, tree)
    for block in SET_BLOCKS:
        entries = attributes.get(block)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            name = entry.get("name") if isinstance(entry, Mapping) else None
            value = entry.get("value") if isinstance(entry, Mapping) else None
            if not isinstance(name, str) or _is_expression(name) or _is_expression(value):
                release.unreadable.append(f"{block}[{index}]")
                continue
            path = set_name_path(name)
            release.sources.append(ValuesSource((block, index), value, path))
            release.merged = _with_set(release.merged, path, value)
    return release


def set_name_path(name: str) -> Location:
    """A `--set` name as a location: `a.b[0].c` -> ("a", "b", 0, "c"); `\\` escapes."""
    path: list[str | int] = []
    key: list[str] = []
    index = 0
    closed = False  # just after `]`: a key may follow only after a dot
    while index < len(name):
        char = name[index]
        if char == "\\" and index + 1 < len(name):
            key.append(name[index + 1])
            index += 2
            continue
        if char == ".":
            if not key and not closed:
                raise _bad_name(name, "an empty key")
            if key:
                path.append("".join(key))
            key, closed = [], False
        elif char == "[":
            end = name.find("]", index)
            number = name[index + 1 : end] if end > 0 else ""
            if not number.isdigit():
                raise _bad_name(name, "a list index must be [N]")
            if key:
                path.append("".join(key))
            elif not path:
                raise _bad_name(name, "an index without a key")
            path.append(int(number))
            key, closed = [], True
            index = end
        else:
            key.append(char)
        index += 1
    if key:
        path.append("".join(key))
    elif not closed:
        raise _bad_name(name, "an empty key")
    return tuple(path)


def _bad_name(name: str, rule: str) -> ValueError:
    return ValueError(f"helm_release set name {name!r}: {rule} (Helm's --set syntax: a.b[0].c)")


def _document(text: Any) -> dict[str, Any] | None:
    """A `values` string as a mapping, or None if it is an expression or not a YAML mapping."""
    if not isinstance(text, str) or _is_expression(text):
        return None
    try:
        documents = load_documents(text)
    except yaml_module().YAMLError:
        return None
    if not documents:
        return {}
    data = documents[0].data
    if data is None:
        return {}
    return data if len(documents) == 1 and isinstance(data, dict) else None


def _is_expression(value: Any) -> bool:
    """A Terraform interpolation or a CDK token: known only after synth."""
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, list):
        return any(_is_expression(item) for item in value)
    return False


def _merge(base: dict[str, Any], tree: Mapping[str, Any]) -> None:
    """Helm's merge of one values file into the ones before it: maps key by key."""
    for key, value in tree.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _with_set(tree: Any, path: Location, value: Any) -> Any:
    """`tree` with `value` at `path`, creating maps and growing lists, as `--set` does."""
    if not path:
        return _plain(value)
    key, rest = path[0], path[1:]
    if isinstance(key, int):
        items = list(tree) if isinstance(tree, list) else []
        items += [None] * (key + 1 - len(items))
        items[key] = _with_set(items[key], rest, value)
        return items
    node = dict(tree) if isinstance(tree, Mapping) else {}
    node[key] = _with_set(node.get(key), rest, value)
    return node


def _has(tree: Any, location: Location) -> bool:
    for key in location:
        listed = isinstance(key, int) and isinstance(tree, list) and 0 <= key < len(tree)
        if not (listed or (isinstance(key, str) and isinstance(tree, Mapping) and key in tree)):
            return False
        tree = tree[key]
    return True
