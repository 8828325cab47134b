"""Where each Terraform resource type keeps its container images.

Paths use the core's syntax (`image_digest.fields`): dotted attribute names as synthesized
(snake_case), `[]` for every element of a list. Nested blocks that allow one item (`template`,
`spec`, `container_spec`) are synthesized as objects by the provider bindings, repeated blocks
(`containers`, `container`) as lists; this table follows that shape, as k8s-digester's explicit
path list does for Kubernetes objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_POD = ("container[].image", "init_container[].image")


def _under(prefix: str, paths: tuple[str, ...] = _POD) -> tuple[str, ...]:
    return tuple(f"{prefix}.{path}" for path in paths)


_WORKLOAD = _under("spec.template.spec")
_CRON_JOB = _under("spec.job_template.spec.template.spec")

#: Resource type -> attribute paths holding image references. Read-only; extend it per aspect
#: with `PinImages(image_paths={...})`.
IMAGE_PATHS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "google_cloud_run_v2_service": ("template.containers[].image",),
        "google_cloud_run_v2_job": ("template.template.containers[].image",),
        "google_cloud_run_service": ("template.spec.containers[].image",),
        "kubernetes_deployment": _WORKLOAD,
        "kubernetes_deployment_v1": _WORKLOAD,
        "kubernetes_stateful_set": _WORKLOAD,
        "kubernetes_stateful_set_v1": _WORKLOAD,
        "kubernetes_daemonset": _WORKLOAD,
        "kubernetes_daemon_set_v1": _WORKLOAD,
        "kubernetes_job": _WORKLOAD,
        "kubernetes_job_v1": _WORKLOAD,
        "kubernetes_cron_job": _CRON_JOB,
        "kubernetes_cron_job_v1": _CRON_JOB,
        "kubernetes_pod": _under("spec"),
        "kubernetes_pod_v1": _under("spec"),
        "docker_container": ("image",),
        "docker_service": ("task_spec.container_spec.image",),
    }
)


def merged_paths(
    extra: Mapping[str, str | tuple[str, ...] | list[str]] | None,
) -> dict[str, tuple[str, ...]]:
    """The built-in table plus `extra`; a user's paths for a known type are added to ours."""
    table = dict(IMAGE_PATHS)
    for resource_type, paths in (extra or {}).items():
        more = (paths,) if isinstance(paths, str) else tuple(paths)
        table[resource_type] = tuple(dict.fromkeys(table.get(resource_type, ()) + more))
    return table
