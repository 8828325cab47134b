"""Helm values in `PinImages`: the images a `helm_release` sets in `values`, `set`,
`set_list` and `set_sensitive`.

The values are merged as the Helm provider merges them (`image_digest.fields.helm_release`), and
each pin is written into the entry or YAML document Helm takes the value from: a set entry's
`value`, or the document's text with one scalar changed. Images the chart sets in its own
defaults are rendered by the provider's Helm, never seen here: each release without an
`image-digest` post-renderer gets one warning naming it and the `postrender` block to add.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from cdktf_digest.attributes import set_strings
from cdktf_digest.errors import PinError, UnsafeRewriteError
from cdktf_digest.framework import Flavor
from image_digest import ResolvedImage
from image_digest.fields.helm_release import HELM_RELEASE, release_values
from image_digest.fields.helm_values import ValuesImage, chart_defaults_message, post_renders
from image_digest.fields.selection import needs_resolution
from image_digest.fields.yaml_scalars import with_value

#: The setting the warning names (Terraform's helm provider runs it with these arguments).
POST_RENDER_BLOCK = (
    'postrender { binary_path = "image-digest", args = ["post-render", "--lock", '
    '"image-digest.lock"] }'
)

Resolve = Callable[
    [Mapping[str | None, list[str]], Mapping[str, list[str]]],
    dict[tuple[str, str | None], ResolvedImage],
]


class Release(Protocol):
    """What the aspect knows of a resource: its construct, type, path and attributes."""

    construct: Any
    attributes: dict[str, Any]

    @property
    def type(self) -> str: ...

    @property
    def path(self) -> str: ...


def pin_helm_releases(
    resources: Iterable[Release],
    flavor: Flavor,
    resolve: Resolve,
    platform: str | None,
    skip_prefixes: tuple[str, ...],
) -> None:
    """Pin the values images of every `helm_release`, in one batch; warn once per release."""
    releases = [(r, release_values(r.attributes)) for r in resources if r.type == HELM_RELEASE]
    wanted: dict[int, list[ValuesImage]] = {}
    uses: dict[str, list[str]] = defaultdict(list)
    for index, (release, values) in enumerate(releases):
        images, partial = values.images()
        if not post_renders(release.attributes.get("postrender")):
            message = chart_defaults_message(
                f"{release.path} ({HELM_RELEASE})", partial, values.unreadable, POST_RENDER_BLOCK
            )
            flavor.lib.Annotations.of(release.construct).add_warning(message)
        wanted[index] = [i for i in images if needs_resolution(i.reference, skip_prefixes)]
        for image in wanted[index]:
            uses[image.reference].append(release.path)
    if not uses:
        return
    resolved = resolve({platform: list(uses)}, uses)
    for index, (release, values) in enumerate(releases):
        pins = {i.reference: resolved[i.reference, platform] for i in wanted[index]}
        if not pins:
            continue
        changes = values.changes(wanted[index], pins)
        try:
            set_strings(release.construct, changes)
        except UnsafeRewriteError as err:
            raise PinError.at(release.path, err.reference or next(iter(pins)), err) from err
        release.attributes = _with_changes(release.attributes, changes)
        for pin in pins.values():
            if pin.warning:
                flavor.lib.Annotations.of(release.construct).add_warning(pin.warning)


def _with_changes(attributes: dict[str, Any], changes: Mapping[Any, str]) -> dict[str, Any]:
    for location, value in changes.items():
        attributes = with_value(attributes, location, value)
    return dict(attributes)
