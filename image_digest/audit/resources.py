"""What every input format is read into: resources with a type, an address and properties.

Each reader turns one kind of document (a Terraform plan, a CDKTF stack, a Pulumi preview or
export, Kubernetes YAML) into these, so finding tags is written once, against the catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from image_digest.catalog import Host


@dataclass(frozen=True)
class Resource:
    """One resource about to be deployed: `type` in `host`'s naming (a Terraform type, a
    Pulumi type token), `address` as its tool names it, `props` its planned values.

    `secrets` are the strings its tool marks sensitive or secret: audited like any value, but
    a finding inside one is never printed (nor resolved by `--suggest`).
    """

    host: Host
    type: str
    address: str
    props: Any
    secrets: frozenset[str] = field(default=frozenset(), compare=False)

    def hides(self, reference: str) -> bool:
        """Is `reference` part of a secret value (a JSON or `DOCKER|` string included)?"""
        return any(reference in secret for secret in self.secrets)


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@dataclass(frozen=True)
class Document:
    """One input file, read: its format's name and the resources it deploys."""

    path: str
    format: str
    resources: tuple[Resource, ...]
