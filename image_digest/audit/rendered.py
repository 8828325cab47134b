"""Where each image deployed by tag sits in rendered manifests: `image-digest post-render`.

Helm hands a post-renderer its rendered manifests as one multi-document YAML stream. The
images in it are exactly what `audit` reports for the same objects (`tags_in`: the catalog's
fields, then the image heuristics), so the post-renderer pins what the gate would fail on;
this module only adds where each one is: its document and its location in that document, so
the pin can be spliced into the text (`image_digest.fields.yaml_scalars`), nothing else touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from image_digest.audit.findings import tags_in
from image_digest.audit.kubernetes import address, is_manifest, type_token
from image_digest.audit.resources import Resource
from image_digest.fields.locations import Location
from image_digest.fields.paths import Segment, split_path
from image_digest.fields.yaml_scalars import YamlDocument


@dataclass(frozen=True)
class PlacedImage:
    """A reference deployed by tag, at `location` of document `document` (0-based)."""

    document: int
    location: Location
    reference: str
    address: str


def placed_images(documents: Sequence[YamlDocument]) -> list[PlacedImage]:
    """Every image deployed by tag in the documents, with its place; a `ValueError` for one
    whose place cannot be written (inside an encoded string)."""
    placed: dict[PlacedImage, None] = {}
    for index, document in enumerate(documents):
        for prefix, manifest in _objects(document.data, ()):
            resource = Resource("pulumi", type_token(manifest), address(manifest), manifest)
            for finding in tags_in(resource):
                segments = split_path(finding.path)
                if any(segment.codec is not None for segment in segments):
                    raise ValueError(
                        f"{finding.address}: image {finding.reference!r} at {finding.path} is "
                        "inside an encoded string, which post-render does not rewrite"
                    )
                for location in _locations(manifest, segments, ()):
                    if _at(manifest, location) == finding.reference:
                        found = (index, (*prefix, *location), finding.reference)
                        placed[PlacedImage(*found, finding.address)] = None
    return list(placed)


def _objects(data: Any, prefix: Location) -> Iterator[tuple[Location, Mapping[str, Any]]]:
    """Each Kubernetes object of a document, `List` items included, with its location."""
    if not is_manifest(data):
        return
    items = data.get("items")
    if data["kind"].endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            yield from _objects(item, (*prefix, "items", index))
        return
    yield prefix, data


def _locations(obj: Any, segments: Sequence[Segment], here: Location) -> Iterator[Location]:
    """The locations a field path names in `obj`, lists walked wherever they are met."""
    if isinstance(obj, list):
        for index, item in enumerate(obj):
            yield from _locations(item, segments, (*here, index))
        return
    if not segments:
        yield here
        return
    if isinstance(obj, Mapping):
        first, rest = segments[0], segments[1:]
        keys = list(obj) if first.key == "*" else [first.key] if first.key in obj else []
        for key in keys:
            yield from _locations(obj[key], rest, (*here, key))


def _at(obj: Any, location: Location) -> Any:
    for key in location:
        obj = obj[key]
    return obj
