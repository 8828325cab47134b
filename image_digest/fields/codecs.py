"""Values that hold images inside an encoding: a JSON document, or a `DOCKER|image` string.

ECS and Batch take their container definitions as one JSON string; Azure App Service takes
`DOCKER|registry/app:tag`. A field path names such a value with `key|codec` (see `fields`),
and the rest of the path applies to the decoded value. Each codec decodes a string (None when
the string is not of its kind: a Python runtime in `linuxFxVersion`, JSON that does not parse)
and encodes a changed value back, changing nothing in the text but the changed strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from image_digest.fields.terraform_expressions import read_jsonencode, replace_literals
from image_digest.safe_load import load_json


class ValueCodec(Protocol):
    """One way a string can hold images."""

    def decode(self, text: str) -> Any | None:
        """The decoded value, or None when `text` is not of this kind."""

    def encode(self, text: str, old: Any, new: Any) -> str:
        """`text` with the change from `old` (its decoded value) to `new` applied."""


class JsonCodec:
    """A JSON document in a string; the re-encoded text keeps its key order and layout.

    The images are replaced as quoted strings in the original text where that provably changes
    exactly them (every string equal to an old image is one to change, and the result decodes
    to the expected document); otherwise the document is dumped again, keys in order. In
    Terraform JSON the document may also be written `${jsonencode(<HCL literal>)}` (CDKTF's
    `Fn.jsonencode`): read as the value it encodes, its changed string literals rewritten.
    """

    def decode(self, text: str) -> Any | None:
        try:
            return load_json(text, "a JSON string")
        except ValueError:  # not JSON (a `${jsonencode(...)}`?), or nested too deep
            return read_jsonencode(text) if text.startswith("${") else None

    def encode(self, text: str, old: Any, new: Any) -> str:
        if text.startswith("${"):
            rewritten = replace_literals(text, old, new)
            if rewritten is None:
                raise ValueError(f"cannot rewrite the strings of {text[:80]!r} in place")
            return rewritten
        candidate = text
        changed: dict[str, str] = {}
        for before, after in _changed_strings(old, new):
            if changed.setdefault(before, after) != after:
                return json.dumps(new)  # one old string, two new ones: no text replacement
        for before, after in changed.items():
            quoted = json.dumps(before)
            if candidate.count(quoted) != sum(1 for s in _strings(old) if s == before):
                return json.dumps(new)  # escaped differently, or also a key: re-encode
            candidate = candidate.replace(quoted, json.dumps(after))
        return candidate if json.loads(candidate) == new else json.dumps(new)


class PrefixCodec:
    """A string `PREFIX<image>`, such as Azure App Service's `DOCKER|nginx:1.27`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def decode(self, text: str) -> str | None:
        if text[: len(self.prefix)].upper() != self.prefix.upper():
            return None
        return text[len(self.prefix) :]

    def encode(self, text: str, old: Any, new: Any) -> str:
        return f"{text[: len(self.prefix)]}{new}"


class YamlCodec:
    """YAML documents in a string (`kubernetes.yaml.v2.ConfigGroup(yaml=...)`), decoded to the
    list of its documents. A changed string is written over its own scalar in the text, in its
    own quoting style, so comments, order and layout stay (`image_digest.fields.yaml_scalars`, the
    splicer the Helm readers use, with the limits of every input)."""

    def decode(self, text: str) -> Any | None:
        from image_digest.fields.yaml_scalars import load_documents, yaml_module

        try:
            yaml = yaml_module()  # installed with pulumi, and [audit]
        except ModuleNotFoundError:
            return None
        try:
            documents = [document.data for document in load_documents(text, "a YAML string")]
        except (yaml.YAMLError, ValueError):  # not YAML, or beyond safe_load's limits
            return None
        return documents if any(isinstance(d, Mapping) for d in documents) else None

    def encode(self, text: str, old: Any, new: Any) -> str:
        from image_digest.fields.locations import string_changes
        from image_digest.fields.yaml_scalars import set_scalars

        changes = string_changes(old, new)
        return set_scalars(text, {(int(at[0]), at[1:]): value for at, value in changes.items()})


#: Codec name (as written after `|` in a field path) -> codec.
CODECS: Mapping[str, ValueCodec] = {
    "json": JsonCodec(),
    "docker": PrefixCodec("DOCKER|"),
    "yaml": YamlCodec(),
}


def _strings(obj: Any) -> Iterator[str]:
    """Every string in a decoded JSON document, keys included."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield key
            yield from _strings(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _strings(item)


def _changed_strings(old: Any, new: Any) -> Iterator[tuple[str, str]]:
    """(old, new) for every string value that differs between two same-shaped documents."""
    if isinstance(old, str) and isinstance(new, str):
        if old != new:
            yield old, new
    elif isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in old:
            yield from _changed_strings(old[key], new.get(key))
    elif isinstance(old, list) and isinstance(new, list):
        for before, after in zip(old, new, strict=False):
            yield from _changed_strings(before, after)
