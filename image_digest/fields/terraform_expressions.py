"""Terraform expressions in JSON configuration: which ones hold images, and which we can pin.

A synthesized CDKTF stack (and any `*.tf.json`) writes expressions as `${...}` strings. Most
are opaque: `${var.image}` or `${aws_ecr_repository.app.repository_url}:latest` are known only
when Terraform plans, so nothing can pin them before; they are reported instead. One kind is
plain data in disguise: `Fn.jsonencode([...])`, which synthesizes as
`${jsonencode([{"name" = "app", "image" = "nginx:1.25"}])}`, an HCL literal whose image
strings can be changed in place, so that `terraform plan` sees the digest. `read_jsonencode`
reads such a literal into the value it encodes (opaque parts as `Expression`), and
`replace_literals` writes changed strings back into the text, changing nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: A reference to an attribute that holds content, not a tag (docker's `image_id`, ...).
_ATTRIBUTES_THAT_ARE_DIGESTS = re.compile(
    r"(\$\{)?[\w.\-\[\]\"]+\.(?:image_id|repo_digest|sha256_digest|digest|image_digest)(?(1)\})"
)
_JSONENCODE = re.compile(r"\$\{jsonencode\((.*)\)\}", re.DOTALL)
_DELIMITERS = ",]}\n"
_OPENERS = {"(": ")", "[": "]", "{": "}"}

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Expression:
    """A part of an expression that only Terraform can evaluate, as written."""

    text: str


def is_expression(value: object) -> bool:
    """A string that holds a Terraform interpolation (`${...}`, not the escaped `$${`)."""
    return isinstance(value, str) and "${" in value.replace("$${", "")


def pinned_by_terraform(text: str) -> bool:
    """Does the expression itself name content, not a tag? `repo@${...sha256_digest}` (what
    `RegistryDigest` writes) and docker's `${docker_image.x.image_id}` do."""
    return "@${" in text or "@sha256:" in text or bool(_ATTRIBUTES_THAT_ARE_DIGESTS.fullmatch(text))


def read_jsonencode(text: str) -> Any | None:
    """The value `${jsonencode(<literal>)}` encodes, or None for any other text."""
    parsed = _parse_jsonencode(text)
    return None if parsed is None else parsed[0]


def replace_literals(text: str, old: Any, new: Any) -> str | None:
    """`text` (a `${jsonencode(...)}`) with each string literal that differs between `old`
    (its decoded value) and `new` written anew; None when that cannot be done exactly."""
    parsed = _parse_jsonencode(text)
    if parsed is None or parsed[0] != old:
        return None
    spans = parsed[1]
    edits = sorted(((spans[where], after) for where, after in _changed(old, new, ())), reverse=True)
    if any(span is None for span, _ in edits):
        return None
    for (start, end), after in edits:
        text = text[:start] + json.dumps(after) + text[end:]
    reread = read_jsonencode(text)
    return text if reread == new else None


def _changed(old: Any, new: Any, here: Location) -> Iterator[tuple[Location, str]]:
    if isinstance(old, str) and isinstance(new, str):
        if old != new:
            yield here, new
    elif isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in old:
            yield from _changed(old[key], new.get(key), (*here, key))
    elif isinstance(old, list) and isinstance(new, list):
        for index, (before, after) in enumerate(zip(old, new, strict=False)):
            yield from _changed(before, after, (*here, index))


def _parse_jsonencode(text: str) -> tuple[Any, dict[Location, tuple[int, int]]] | None:
    match = _JSONENCODE.fullmatch(text)
    if match is None:
        return None
    reader = _Reader(text, match.start(1), match.end(1))
    try:
        value = reader.value(())
        reader.blank()
        if reader.at != reader.end:
            return None
    except _NotALiteral:
        return None
    return value, reader.spans


class _NotALiteral(Exception):
    """The text is not an HCL literal this reader knows."""


class _Reader:
    """A reader of the HCL literals cdktf writes: lists, objects (`"k" = v` or `k: v`),
    strings, numbers, booleans, null; anything else is kept as an `Expression`."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text, self.at, self.end = text, start, end
        self.spans: dict[Location, tuple[int, int]] = {}

    def blank(self) -> None:
        while self.at < self.end and self.text[self.at] in " \t\r\n":
            self.at += 1

    def peek(self) -> str:
        self.blank()
        if self.at >= self.end:
            raise _NotALiteral
        return self.text[self.at]

    def value(self, where: Location) -> Any:
        first = self.peek()
        if first == "[":
            return self.list(where)
        if first == "{":
            return self.object(where)
        if first == '"':
            start = self.at
            literal = self.string()
            if is_expression(literal):
                return Expression(literal)
            self.spans[where] = (start, self.at)
            return literal
        return self.other()

    def list(self, where: Location) -> list[Any]:
        self.at += 1
        items: list[Any] = []
        while self.peek() != "]":
            items.append(self.value((*where, len(items))))
            if self.peek() == ",":
                self.at += 1
        self.at += 1
        return items

    def object(self, where: Location) -> dict[str, Any]:
        self.at += 1
        items: dict[str, Any] = {}
        while self.peek() != "}":
            key = self.string() if self.peek() == '"' else self.identifier()
            if self.peek() not in "=:":
                raise _NotALiteral
            self.at += 1
            items[key] = self.value((*where, key))
            if self.peek() == ",":
                self.at += 1
        self.at += 1
        return items

    def string(self) -> str:
        """A quoted string, escapes decoded; a template's `${...}` kept as written."""
        self.at += 1
        out: list[str] = []
        while self.at < self.end:
            char = self.text[self.at]
            if char == '"':
                self.at += 1
                return "".join(out)
            if char == "\\" and self.at + 1 < self.end:
                escaped = self.text[self.at : self.at + 2]
                try:
                    out.append(json.loads(f'"{escaped}"'))
                except ValueError:
                    raise _NotALiteral from None
                self.at += 2
            elif self.text.startswith("${", self.at):
                start = self.at
                self.at += 1
                self.skip_balanced()
                out.append(self.text[start : self.at])
            else:
                out.append(char)
                self.at += 1
        raise _NotALiteral

    def identifier(self) -> str:
        match = re.compile(r"[A-Za-z_][\w-]*").match(self.text, self.at, self.end)
        if match is None:
            raise _NotALiteral
        self.at = match.end()
        return match.group()

    def other(self) -> Any:
        """A number, a boolean, null, or an expression up to the next delimiter."""
        start = self.at
        while self.at < self.end and self.text[self.at] not in _DELIMITERS:
            char = self.text[self.at]
            if char in _OPENERS:
                self.skip_balanced()
            elif char == '"':
                self.string()
            else:
                self.at += 1
        written = self.text[start : self.at].strip()
        if not written:
            raise _NotALiteral
        constants = {"true": True, "false": False, "null": None}
        if written in constants:
            return constants[written]
        try:
            return (
                json.loads(written)
                if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", written)
                else Expression(written)
            )
        except ValueError:
            return Expression(written)

    def skip_balanced(self) -> None:
        """From an opening bracket to just after its closing one, strings included."""
        closing = [_OPENERS[self.text[self.at]]]
        self.at += 1
        while closing and self.at < self.end:
            char = self.text[self.at]
            if char == '"':
                self.string()
                continue
            if char in _OPENERS:
                closing.append(_OPENERS[char])
            elif char == closing[-1]:
                closing.pop()
            self.at += 1
        if closing:
            raise _NotALiteral
