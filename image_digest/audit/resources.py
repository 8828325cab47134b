"""What every input format is read into: resources with a type, an address and properties.

Each reader turns one kind of document (a Terraform plan, a CDKTF stack, a Pulumi preview or
export, Kubernetes YAML) into these, so finding tags is written once, against the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from image_digest.catalog import Host


@dataclass(frozen=True)
class Resource:
    """One resource about to be deployed: `type` in `host`'s naming (a Terraform type, a
    Pulumi type token), `address` as its tool names it, `props` its planned values."""

    host: Host
    type: str
    address: str
    props: Any


@dataclass(frozen=True)
class Document:
    """One input file, read: its format's name and the resources it deploys."""

    path: str
    format: str
    resources: tuple[Resource, ...]
