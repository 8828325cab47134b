"""Helm values in `pin_images()`: images a `Release` or a `Chart` (v4) sets in its `values`.

The catalog's fields are fixed paths; a chart's values name images by convention at any depth
(`image_digest.fields.helm_values`), and the pin goes where the chart reads it (`digest`, or
`tag: "<tag>@sha256:..."`). A `helm.v3.Chart` needs nothing here: it renders in the program,
and the transform pins its rendered objects like any others. A `Chart` v4's objects pass
through the transform as its children too. A `Release` is installed by the provider's own
Helm: images the chart sets in its defaults never reach the program, so each release that has
no `image-digest` post-renderer gets one warning naming it and the setting that pins them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi

from image_digest import needs_resolution
from image_digest.fields.helm_values import (
    chart_defaults_message,
    pin_values,
    post_renders,
    values_images,
)

if TYPE_CHECKING:
    from .transform import ImagePinner

RELEASE = "kubernetes:helm.sh/v3:Release"
CHART_V4 = "kubernetes:helm.sh/v4:Chart"
#: Resource types whose `values` hold chart values.
HELM_VALUES_TYPES = frozenset({RELEASE, CHART_V4})
#: How a `Release` runs the post-renderer (`postrender` takes a command, without arguments).
RELEASE_POST_RENDER = 'postrender="image-digest-post-render" (a script that runs image-digest)'


async def pin_helm_values(
    pinner: ImagePinner, args: pulumi.ResourceTransformArgs, props: dict[str, Any]
) -> dict[str, Any]:
    """`props` with the images of its `values` pinned (the same dict when there are none)."""
    if args.type_ not in HELM_VALUES_TYPES:
        return props
    values = props.get("values")
    images, partial = values_images(values) if isinstance(values, Mapping) else ([], [])
    if args.type_ == RELEASE and not post_renders(props.get("postrender")):
        where = f"{args.type_} {args.name!r}"
        files = ["valueYamlFiles"] if props.get("valueYamlFiles") else []
        pulumi.log.warn(chart_defaults_message(where, partial, files, RELEASE_POST_RENDER))
    wanted = [
        image
        for image in images
        if needs_resolution(image.reference, pinner.skip_prefixes)
        and pinner.builds.find(image.reference) is None
    ]
    references = list(dict.fromkeys(image.reference for image in wanted))
    if not references:
        return props
    resolved = await pinner.resolve(args, references, pinner.platform)
    return {**props, "values": pin_values(values, wanted, resolved)}
