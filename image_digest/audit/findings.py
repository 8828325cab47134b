"""Which references in a resource are deployed by tag: the catalog first, heuristics after.

A field the catalog names for the resource's type (or a pod spec's container, in any kind) is
an image field for certain, so every reference in it without a digest is a finding, even a
bare `nginx`; image IDs and VM images are not references (`image_digest.fields.recognize`). Every
other field named like an image (`unpinned_images`) is reported only when its value clearly
is an image (it has a tag, or names a registry host). Values that are not references at all
are never findings: unknowns, expressions such as `${var.image}`, `[secret]`. The names a
resource builds (a `docker_image` with a `build` block, `pulumi_docker.Image`'s `imageName`)
are not deployed from a registry, so they are not findings either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from image_digest.audit.helm import values_tags
from image_digest.audit.resources import ALL_PUBLIC, Resource
from image_digest.fields.catalog import builds, image_fields, platform_rules
from image_digest.fields.paths import find_images
from image_digest.fields.recognize import deployed_by_tag, is_library_input
from image_digest.fields.unpinned import unpinned_images
from image_digest.names.reference import parse


@dataclass(frozen=True)
class Finding:
    """A reference deployed by tag: where (`path` in field syntax) and how it was found
    (`catalog` or `heuristic`); `platform` is what the resource runs (Lambda), if fixed;
    `secret` when the value is marked secret or sensitive, so it must not be shown."""

    address: str
    type: str
    path: str
    reference: str
    source: str
    platform: str | None = None
    secret: bool = False

    @property
    def shown(self) -> str:
        """The reference as output may show it."""
        return "[secret]" if self.secret else self.reference

    def allowed_by(self, patterns: tuple[str, ...]) -> bool:
        """Does a glob match the reference as written, or its canonical form?"""
        spellings = {self.reference, str(parse(self.reference))}
        return any(fnmatchcase(s, pattern) for s in spellings for pattern in patterns)


def tags_in(resource: Resource) -> list[Finding]:
    """Every reference `resource` deploys by tag, catalog fields first, without repeats; a
    finding is `secret` when it is not in the resource's public values (`Resource.public`).

    A `DigestImage`'s input is a tag on purpose (it resolves it itself): never a finding.
    """
    if is_library_input(resource.type):
        return []
    found = _tags(resource, resource.props)
    if resource.public is ALL_PUBLIC:
        return found
    shown = {(f.path, f.reference) for f in _tags(resource, resource.public)}
    return [replace(f, secret=(f.path, f.reference) not in shown) for f in found]


def _tags(resource: Resource, values: Any) -> list[Finding]:
    """The findings in `values`, which are `resource`'s props or its public part."""
    props = resource.props if isinstance(resource.props, Mapping) else {}
    values = values if isinstance(values, Mapping) else {}
    fields = image_fields(resource.host).get(resource.type, ())
    built = tuple(
        name
        for rule in builds(resource.host).get(resource.type, ())
        if rule.builds(props)
        for name in rule.names
    )
    rule = platform_rules(resource.host).get(resource.type)
    platform = rule.platform_for(props) if rule else None
    found: dict[Finding, None] = {}
    for path in (p for p in fields if p not in built):
        for value in find_images(values, [path]):
            if deployed_by_tag(value):
                where = (resource.address, resource.type, path, value)
                found[Finding(*where, "catalog", platform)] = None
    for item in unpinned_images(values, covered=(*fields, *built)):
        where = (resource.address, resource.type, item.path, item.reference)
        found[Finding(*where, "heuristic")] = None
    for path, reference in values_tags(resource, values):  # Helm chart values: audit/helm.py
        if any(finding.reference == reference for finding in found):
            continue  # a string `image:` the heuristics found already
        where = (resource.address, resource.type, path, reference)
        found[Finding(*where, "heuristic")] = None
    return list(found)
