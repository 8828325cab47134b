"""Where each known resource type keeps its images, in the engine's wire names.

Paths use the core's `image_digest.fields` syntax: dotted camelCase keys, `[]` for every
element of a list. They are the names a stack transform sees (`taskSpec`, not `task_spec`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

#: The container lists of a Kubernetes PodSpec; each entry has an `image`.
POD_SPEC_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def pod_spec_images(pod_spec: str) -> tuple[str, ...]:
    """Image paths of every container list of the PodSpec at `pod_spec`."""
    return tuple(f"{pod_spec}.{name}[].image" for name in POD_SPEC_CONTAINER_LISTS)


_POD = pod_spec_images("spec")
_WORKLOAD = pod_spec_images("spec.template.spec")
_CRON_JOB = pod_spec_images("spec.jobTemplate.spec.template.spec")

_KUBERNETES: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": _POD,
    "kubernetes:apps/v1:Deployment": _WORKLOAD,
    "kubernetes:apps/v1:StatefulSet": _WORKLOAD,
    "kubernetes:apps/v1:DaemonSet": _WORKLOAD,
    "kubernetes:apps/v1:ReplicaSet": _WORKLOAD,
    "kubernetes:batch/v1:Job": _WORKLOAD,
    "kubernetes:batch/v1:CronJob": _CRON_JOB,
}
# Server-side-apply patches have the same shape as the objects they patch.
_KUBERNETES |= {f"{token}Patch": paths for token, paths in _KUBERNETES.items()}

IMAGE_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "docker:index/container:Container": ("image",),
        "docker:index/service:Service": ("taskSpec.containerSpec.image",),
        "gcp:cloudrunv2/service:Service": ("template.containers[].image",),
        "gcp:cloudrunv2/job:Job": ("template.template.containers[].image",),
        "gcp:cloudrun/service:Service": ("template.spec.containers[].image",),
        **_KUBERNETES,
    }
)
"""The built-in table: type token -> image paths. `pin_images(fields=...)` extends it."""


def merged(extra: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """The built-in table plus the user's paths (added to, never replacing, a type's paths)."""
    table = dict(IMAGE_FIELDS)
    for token, paths in (extra or {}).items():
        if isinstance(paths, str):
            raise TypeError(f"fields[{token!r}] must be a list of paths, not a string")
        table[token] = tuple(dict.fromkeys((*table.get(token, ()), *paths)))
    return table
