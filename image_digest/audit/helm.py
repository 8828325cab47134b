"""Images a Helm release sets in its chart values, for the gate: the same conventions the
pinners read (`image_digest.fields.helm_values`), on a Pulumi `Release` or `Chart` v4's
`values`, or a Terraform `helm_release`'s merged `values` and `set` entries. Each is reported at
`values.<where>` (`values.controller.image`), with the reference it composes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from image_digest.audit.resources import Resource
from image_digest.fields.helm_release import HELM_RELEASE, release_values
from image_digest.fields.helm_values import dotted, values_images

#: Pulumi types whose `values` are chart values.
PULUMI_HELM_TYPES = frozenset({"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"})


def values_tags(resource: Resource, values: Any) -> list[tuple[str, str]]:
    """(path, reference) for every image the release's values set by tag, read from `values`
    (the resource's props, or their public part when some are secret)."""
    props = values if isinstance(values, Mapping) else {}
    if resource.host == "terraform" and resource.type == HELM_RELEASE:
        images, _ = release_values(props).images()
    elif resource.host == "pulumi" and resource.type in PULUMI_HELM_TYPES:
        chart_values = props.get("values")
        images, _ = values_images(chart_values) if isinstance(chart_values, Mapping) else ([], [])
    else:
        return []
    return [(f"values.{dotted(image.at)}", image.reference) for image in images]
