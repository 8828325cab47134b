"""Where each kind of resource keeps its container images: one catalog for every reader.

The Pulumi transform, the CDKTF aspect and the check for tags left behind all read this table,
as k8s-digester's path list serves both its webhook and its CLI. An entry names a kind's
Pulumi type tokens and Terraform resource types, and its image fields once, in Pulumi's wire
names (camelCase); the Terraform names follow by rule (snake_case keys up to the first encoded
value; inside JSON the keys are the service's own) unless the two providers' shapes differ,
where the entry spells them out. Field syntax: `image_digest.fields.paths`.

Kubernetes objects are described by shape, not by a list of kinds: the type pattern
`kubernetes:*` gives every kind and apiVersion (custom resources such as Knative Services and
Argo Rollouts included) the fields of a pod spec at its usual places (`POD_SPEC_PLACES`), and
`kubernetes_manifest` the same under `manifest`. A table (`FieldTable`) answers a type with its
own paths plus those of every pattern it matches.

Images built by the program itself are catalogued too (`BUILDS`): a reference equal to one of
them must never be looked up in a registry (a local build never reaches one; a pushed one is
only there after the build ran, so only its `repo_digest` output is exact).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from image_digest.fields.paths import split_path

Host = Literal["pulumi", "terraform"]


@dataclass(frozen=True)
class PlatformRule:
    """The platform to pin, read from another field: Lambda rejects an image index, so its
    image must be the child for the function's architecture."""

    field: str
    platforms: Mapping[str, str]
    default: str

    def platform_for(self, props: Mapping[str, Any]) -> str:
        value = props.get(self.field)
        first = value[0] if isinstance(value, list | tuple) and value else value
        return self.platforms.get(first, self.default) if isinstance(first, str) else self.default


@dataclass(frozen=True)
class ImageKind:
    """One kind of resource that deploys images, as both hosts name it."""

    title: str
    pulumi: tuple[str, ...]
    terraform: tuple[str, ...]
    fields: tuple[str, ...]
    terraform_fields: tuple[str, ...] | None = None
    platform: PlatformRule | None = None

    def fields_for(self, host: Host) -> tuple[str, ...]:
        if host == "pulumi":
            return self.fields
        return self.terraform_fields or tuple(snake_case_path(p) for p in self.fields)

    def types_for(self, host: Host) -> tuple[str, ...]:
        return self.pulumi if host == "pulumi" else self.terraform

    def platform_rule(self, host: Host) -> PlatformRule | None:
        if self.platform is None or host == "pulumi":
            return self.platform
        return PlatformRule(
            snake_case_path(self.platform.field), self.platform.platforms, self.platform.default
        )


@dataclass(frozen=True)
class ImageBuild:
    """A resource that builds an image: where it names the image, and whether it pushes.

    `built_if` names a field that must be present for the resource to build (a docker image
    resource with a `build` block); `pushed` is "always", "never", or ("if"/"unless", field).
    `deploy` is the output to deploy instead of the tag: the exact digest of what was built.
    """

    title: str
    host: Host
    types: tuple[str, ...]
    names: tuple[str, ...]
    pushed: Literal["always", "never"] | tuple[Literal["if", "unless"], str]
    deploy: str
    built_if: str | None = None

    def builds(self, props: Mapping[str, Any]) -> bool:
        return self.built_if is None or props.get(self.built_if) not in (None, [], {})

    def pushes(self, props: Mapping[str, Any]) -> bool:
        if isinstance(self.pushed, str):
            return self.pushed == "always"
        condition, flag = self.pushed
        return bool(props.get(flag)) == (condition == "if")


def snake_case_path(path: str) -> str:
    """Terraform's name for a Pulumi field path: keys snake_cased up to the first codec."""
    head, bar, encoded = path.partition("|")
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", head).lower() + bar + encoded


def _pod(prefix: str, lists: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}.{name}[].image" for name in lists)


#: Where a Kubernetes object keeps its pod spec, whatever its kind and apiVersion: a Pod,
#: a workload's or custom resource's template (Deployment, Knative Service, Argo Rollout), a
#: CronJob's job template, a PodTemplate.
POD_SPEC_PLACES = (
    "spec",
    "spec.template.spec",
    "spec.jobTemplate.spec.template.spec",
    "template.spec",
)
#: Where a pod spec keeps its images: containers of every sort, and image volumes.
POD_SPEC_IMAGES = (
    "containers[].image",
    "initContainers[].image",
    "ephemeralContainers[].image",
    "volumes[].image.reference",
)


def pod_spec_fields(prefix: str = "") -> tuple[str, ...]:
    """Every image field of a Kubernetes object (at `prefix`) that has a pod spec anywhere usual."""
    head = f"{prefix}." if prefix else ""
    return tuple(f"{head}{place}.{image}" for place in POD_SPEC_PLACES for image in POD_SPEC_IMAGES)


_TERRAFORM_POD = ("container", "init_container")


def _terraform_kubernetes(*names: str) -> tuple[str, ...]:
    """`kubernetes_<name>` and its `_v1` twin (`daemonset` became `daemon_set_v1`)."""
    return tuple(t for name in names for t in (f"kubernetes_{name}", f"kubernetes_{name}_v1"))


_LAMBDA_ARCHITECTURES = PlatformRule(
    "architectures", {"x86_64": "linux/amd64", "arm64": "linux/arm64"}, "linux/amd64"
)

#: Every kind of resource whose images are pinned, in both hosts.
CATALOG: tuple[ImageKind, ...] = (
    # Kubernetes
    ImageKind(
        "Kubernetes object with a pod spec: any kind and apiVersion (workloads, custom resources "
        "such as Knative Services and Argo Rollouts, `...Patch` types), in Terraform as a "
        "`kubernetes_manifest`",
        ("kubernetes:*",),
        ("kubernetes_manifest",),
        pod_spec_fields(),
        pod_spec_fields("manifest"),
    ),
    ImageKind(
        "Kubernetes objects inline in a YAML component (`yaml.v2.ConfigGroup(objs=..., yaml=...)`)",
        ("kubernetes:yaml/v2:ConfigGroup",),
        (),
        (*pod_spec_fields("objs[]"), *pod_spec_fields("yaml|yaml[]")),
    ),
    ImageKind(
        "Kubernetes pod",
        (),
        _terraform_kubernetes("pod"),
        _pod("spec", _TERRAFORM_POD),
    ),
    ImageKind(
        "Kubernetes workload (deployment, stateful set, daemon set, replica set, job)",
        (),
        (
            *_terraform_kubernetes("deployment", "stateful_set", "job"),
            "kubernetes_daemonset",
            "kubernetes_daemon_set_v1",
        ),
        _pod("spec.template.spec", _TERRAFORM_POD),
    ),
    ImageKind(
        "Kubernetes cron job",
        (),
        _terraform_kubernetes("cron_job"),
        _pod("spec.job_template.spec.template.spec", _TERRAFORM_POD),
    ),
    # Google Cloud
    ImageKind(
        "Cloud Run v2 service",
        ("gcp:cloudrunv2/service:Service",),
        ("google_cloud_run_v2_service",),
        ("template.containers[].image",),
    ),
    ImageKind(
        "Cloud Run v2 job",
        ("gcp:cloudrunv2/job:Job",),
        ("google_cloud_run_v2_job",),
        ("template.template.containers[].image",),
    ),
    ImageKind(
        "Cloud Run v2 worker pool",
        ("gcp:cloudrunv2/workerPool:WorkerPool",),
        ("google_cloud_run_v2_worker_pool",),
        ("template.containers[].image",),
    ),
    ImageKind(
        "Cloud Run service (v1)",
        ("gcp:cloudrun/service:Service",),
        ("google_cloud_run_service",),
        ("template.spec.containers[].image",),
    ),
    ImageKind(
        "App Engine flexible version",
        ("gcp:appengine/flexibleAppVersion:FlexibleAppVersion",),
        ("google_app_engine_flexible_app_version",),
        ("deployment.container.image",),
    ),
    ImageKind(
        "Vertex AI endpoint with a Model Garden deployment",
        ("gcp:vertex/aiEndpointWithModelGardenDeployment:AiEndpointWithModelGardenDeployment",),
        ("google_vertex_ai_endpoint_with_model_garden_deployment",),
        ("modelConfig.containerSpec.imageUri",),
    ),
    # AWS
    ImageKind(
        "ECS task definition",
        ("aws:ecs/taskDefinition:TaskDefinition",),
        ("aws_ecs_task_definition",),
        ("containerDefinitions|json[].image",),
    ),
    ImageKind(
        "Lambda function",
        ("aws:lambda/function:Function",),
        ("aws_lambda_function",),
        ("imageUri",),
        platform=_LAMBDA_ARCHITECTURES,
    ),
    ImageKind(
        "App Runner service",
        ("aws:apprunner/service:Service",),
        ("aws_apprunner_service",),
        ("sourceConfiguration.imageRepository.imageIdentifier",),
    ),
    ImageKind(
        "Batch job definition",
        ("aws:batch/jobDefinition:JobDefinition",),
        ("aws_batch_job_definition",),
        (
            "containerProperties|json.image",
            "nodeProperties|json.nodeRangeProperties[].container.image",
            "ecsProperties|json.taskProperties[].containers[].image",
        ),
    ),
    ImageKind(
        "awsx ECS service or task definition (its task definition child is pinned too)",
        tuple(f"awsx:ecs:{kind}" for kind in ("FargateService", "EC2Service")),
        (),
        ("taskDefinitionArgs.container.image", "taskDefinitionArgs.containers.*.image"),
    ),
    ImageKind(
        "awsx ECS task definition",
        tuple(f"awsx:ecs:{kind}" for kind in ("FargateTaskDefinition", "EC2TaskDefinition")),
        (),
        ("container.image", "containers.*.image"),
    ),
    # Azure
    ImageKind(
        "Azure container group (Container Instances)",
        ("azure-native:containerinstance:ContainerGroup",),
        ("azurerm_container_group",),
        ("containers[].image", "initContainers[].image"),
        ("container[].image", "init_container[].image"),
    ),
    ImageKind(
        "Azure container app or job",
        ("azure-native:app:ContainerApp", "azure-native:app:Job"),
        ("azurerm_container_app", "azurerm_container_app_job"),
        ("template.containers[].image", "template.initContainers[].image"),
        ("template.container[].image", "template.init_container[].image"),
    ),
    ImageKind(
        "Azure web app or slot for containers (App Service)",
        ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"),
        ("azurerm_app_service", "azurerm_app_service_slot"),
        ("siteConfig.linuxFxVersion|docker", "siteConfig.windowsFxVersion|docker"),
    ),
    # Docker
    ImageKind(
        "Docker container", ("docker:index/container:Container",), ("docker_container",), ("image",)
    ),
    ImageKind(
        "Docker service",
        ("docker:index/service:Service",),
        ("docker_service",),
        ("taskSpec.containerSpec.image",),
    ),
    ImageKind(
        "Docker image pulled from a registry (pinning re-pulls exactly when content changes)",
        ("docker:index/remoteImage:RemoteImage",),
        ("docker_image",),
        ("name",),
    ),
)

#: Resources that build images, whose references are never looked up in a registry.
BUILDS: tuple[ImageBuild, ...] = (
    ImageBuild(
        "pulumi_docker.Image",
        "pulumi",
        ("docker:index/image:Image",),
        ("imageName",),
        ("unless", "skipPush"),
        "repo_digest",
    ),
    ImageBuild(
        "pulumi_docker_build.Image",
        "pulumi",
        ("docker-build:index:Image",),
        ("tags[]",),
        ("if", "push"),
        "ref",
    ),
    ImageBuild(
        "pulumi_docker.RemoteImage with build",
        "pulumi",
        ("docker:index/remoteImage:RemoteImage",),
        ("name",),
        "never",
        "image_id",
        built_if="build",
    ),
    ImageBuild(
        "docker_image with build",
        "terraform",
        ("docker_image",),
        ("name",),
        "never",
        "image_id",
        built_if="build",
    ),
    ImageBuild(
        "docker_registry_image",
        "terraform",
        ("docker_registry_image",),
        ("name",),
        "always",
        "sha256_digest",
    ),
)


class FieldTable(Mapping[str, tuple[str, ...]]):
    """Resource type -> image field paths. A key with `*` is a pattern (`kubernetes:*`: every
    Kubernetes kind, custom resources included); a type gets its own paths and those of every
    pattern it matches."""

    def __init__(self, entries: Mapping[str, tuple[str, ...]]) -> None:
        self._entries = dict(entries)
        self._patterns = {key: paths for key, paths in entries.items() if "*" in key}
        self._found: dict[str, tuple[str, ...]] = {}

    def __getitem__(self, resource_type: str) -> tuple[str, ...]:
        found = self._found.get(resource_type)
        if found is None:
            paths = [*self._entries.get(resource_type, ())]
            for pattern, more in self._patterns.items():
                if pattern != resource_type and fnmatchcase(resource_type, pattern):
                    paths += more
            found = self._found[resource_type] = tuple(dict.fromkeys(paths))
        if not found and resource_type not in self._entries:
            raise KeyError(resource_type)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    @property
    def entries(self) -> Mapping[str, tuple[str, ...]]:
        """The table as written: types and patterns, each with its own paths only."""
        return MappingProxyType(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@cache
def image_fields(host: Host) -> FieldTable:
    """Type (or pattern) -> image field paths in `host`'s names, read-only, built once."""
    table: dict[str, tuple[str, ...]] = {}
    for kind in CATALOG:
        for resource_type in kind.types_for(host):
            table[resource_type] = table.get(resource_type, ()) + kind.fields_for(host)
    return FieldTable(table)


@cache
def platform_rules(host: Host) -> Mapping[str, PlatformRule]:
    """Type -> the rule that picks its platform from its own fields (Lambda)."""
    return MappingProxyType(
        {
            resource_type: rule
            for kind in CATALOG
            if (rule := kind.platform_rule(host)) is not None
            for resource_type in kind.types_for(host)
        }
    )


@cache
def builds(host: Host) -> Mapping[str, tuple[ImageBuild, ...]]:
    """Type -> the build rules for resources of that type in `host`."""
    table: dict[str, tuple[ImageBuild, ...]] = {}
    for build in BUILDS:
        if build.host == host:
            for resource_type in build.types:
                table[resource_type] = (*table.get(resource_type, ()), build)
    return MappingProxyType(table)


def merged_fields(
    builtin: Mapping[str, tuple[str, ...]], extra: Mapping[str, Any] | None
) -> FieldTable:
    """`builtin` plus a user's `fields=` (type or `*` pattern -> a path or a list of paths); a
    user's paths for a known type are added to the built-in ones, never replacing them."""
    table = dict(builtin.entries if isinstance(builtin, FieldTable) else builtin)
    if extra is None:
        return FieldTable(table)
    if not isinstance(extra, Mapping):
        raise TypeError(
            f"fields must be a mapping of resource type to paths, such as "
            f'{{"acme_worker": ["spec.image"]}}, not {type(extra).__name__}'
        )
    for resource_type, paths in extra.items():
        more = (paths,) if isinstance(paths, str) else tuple(paths)
        for path in more:
            if not isinstance(path, str):
                raise TypeError(f"fields[{resource_type!r}] must hold path strings, not {path!r}")
            split_path(path)  # a malformed path fails here, naming itself
        table[resource_type] = tuple(dict.fromkeys((*table.get(resource_type, ()), *more)))
    return FieldTable(table)


__all__ = [
    "BUILDS",
    "CATALOG",
    "POD_SPEC_IMAGES",
    "POD_SPEC_PLACES",
    "FieldTable",
    "ImageBuild",
    "ImageKind",
    "PlatformRule",
    "builds",
    "image_fields",
    "merged_fields",
    "platform_rules",
    "pod_spec_fields",
    "snake_case_path",
]
