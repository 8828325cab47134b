"""What every input format is read into: resources with a type, an address and properties.

Each reader turns one kind of document (a Terraform plan, a CDKTF stack, a Pulumi preview or
export, Kubernetes YAML) into these, so finding tags is written once, against the catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from image_digest.fields.catalog import Host

#: `Resource.public` of a resource nothing in which is marked secret or sensitive.
ALL_PUBLIC: Any = object()


@dataclass(frozen=True)
class Resource:
    """One resource about to be deployed: `type` in `host`'s naming (a Terraform type, a
    Pulumi type token), `address` as its tool names it, `props` its planned values.

    `public` is `props` with every value its tool marks sensitive (Terraform's
    `after_sensitive`) or secret (Pulumi) left out as None, when any is: a finding that is
    only in `props` is inside a secret, so it is audited but never printed (nor resolved by
    `--suggest`). Which values are secret is the tool's word, never a guess from their text.
    """

    host: Host
    type: str
    address: str
    props: Any
    public: Any = field(default=ALL_PUBLIC, compare=False)

    def hides(self, value: str) -> bool:
        """Is `value`, a string in `props`, inside a secret (not among the public values)?"""
        return self.public is not ALL_PUBLIC and value not in set(_strings(self.public))


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True)
class Document:
    """One input file, read: its format's name and the resources it deploys."""

    path: str
    format: str
    resources: tuple[Resource, ...]
