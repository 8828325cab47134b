"""Kubernetes manifests: YAML (or JSON) documents, each an object with `apiVersion` and `kind`.

A kind is looked up in the catalog under Pulumi's token for it (`apps/v1` `Deployment` is
`kubernetes:apps/v1:Deployment`, `v1` `Pod` is `kubernetes:core/v1:Pod`), whose fields are the
manifest's own camelCase paths (`spec.template.spec.containers[].image`, init and ephemeral
containers, a CronJob's `spec.jobTemplate...`). A `kind: List` is read item by item. Objects
are addressed `Kind/namespace/name`, or `Kind/name` when they name no namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from image_digest.audit.resources import Resource


def is_manifest(document: Any) -> bool:
    return isinstance(document, Mapping) and isinstance(document.get("kind"), str)


def manifest_resources(documents: Iterable[Any]) -> Iterator[Resource]:
    """Every object of every document, `List` items included; other documents are skipped."""
    for document in documents:
        if not is_manifest(document):
            continue
        if document["kind"].endswith("List") and isinstance(document.get("items"), list):
            yield from manifest_resources(document["items"])
            continue
        yield Resource("pulumi", type_token(document), address(document), document)


def type_token(manifest: Mapping[str, Any]) -> str:
    """Pulumi's token for a manifest's kind: `kubernetes:<group>/<version>:<Kind>`."""
    api_version = str(manifest.get("apiVersion", ""))
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{manifest['kind']}"


def address(manifest: Mapping[str, Any]) -> str:
    metadata = manifest.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = metadata.get("name") or metadata.get("generateName") or "(unnamed)"
    namespace = metadata.get("namespace")
    parts = [manifest["kind"], *([namespace] if namespace else []), name]
    return "/".join(str(part) for part in parts)
