"""`pin_images` finds images by shape: a pod spec in any kind (custom resources, YAML
components), image volumes and init containers, bare names; and leaves alone what is no
container image (a docker image ID, a `DigestImage`'s own input)."""

from __future__ import annotations

from pathlib import Path

import pulumi_docker as docker
import pulumi_kubernetes as k8s
import pytest

from image_digest import LockFile, has_digest, parse
from image_digest.fields.paths import find_images
from pulumi_digest import DigestImage, pin_images
from tests.pulumi.harness.engine import comparable
from tests.pulumi.harness.program import EchoMocks, run_program
from tests.pulumi.harness.provider_process import DynamicProviderProcess
from tests.support.images import build_image
from tests.support.registry import RegistryServer

PREVIEW = pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
IMAGE_ID = "sha256:" + "4" * 64


class Pushed:
    """Tags on the local registry, and what each must become."""

    def __init__(self, registry: RegistryServer, repo: str, *roles: str) -> None:
        self.ref: dict[str, str] = {}
        self.pinned: dict[str, str] = {}
        for role in roles:
            digest = registry.push(repo, role, build_image(f"{repo}/{role}"))
            self.ref[role] = registry.reference(repo, role)
            self.pinned[role] = f"{registry.host}/{repo}@{digest}"


@PREVIEW
def test_custom_resources_and_image_volumes_are_pinned_by_shape(
    registry: RegistryServer, unique_repo: str, preview: bool
) -> None:
    images = Pushed(registry, unique_repo, "knative", "rollout", "init", "model", "web")

    def program() -> None:
        pin_images()
        # Knative Serving's docs: a Service with one container (serving.knative.dev/v1)
        k8s.apiextensions.CustomResource(
            "hello",
            api_version="serving.knative.dev/v1",
            kind="Service",
            metadata={"name": "hello"},
            spec={"template": {"spec": {"containers": [{"image": images.ref["knative"]}]}}},
        )
        # Argo Rollouts' docs: a canary Rollout
        k8s.apiextensions.CustomResource(
            "canary",
            api_version="argoproj.io/v1alpha1",
            kind="Rollout",
            metadata={"name": "canary"},
            spec={
                "replicas": 2,
                "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
                "template": {
                    "spec": {
                        "initContainers": [{"name": "init", "image": images.ref["init"]}],
                        "containers": [{"name": "app", "image": images.ref["rollout"]}],
                    }
                },
            },
        )
        # apps/v1 Deployment with an init container and an image volume (Kubernetes 1.31+)
        k8s.apps.v1.Deployment(
            "web",
            spec={
                "selector": {"match_labels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "init_containers": [{"name": "init", "image": images.ref["init"]}],
                        "containers": [{"name": "web", "image": images.ref["web"]}],
                        "volumes": [{"name": "model", "image": {"reference": images.ref["model"]}}],
                    },
                },
            },
        )

    deployment = run_program(program, preview=preview)

    hello = deployment["hello"].inputs["spec"]["template"]["spec"]
    assert deployment["hello"].type == "kubernetes:serving.knative.dev/v1:Service"
    assert hello["containers"][0]["image"] == images.pinned["knative"]
    canary = deployment["canary"].inputs["spec"]
    assert canary["template"]["spec"]["containers"][0]["image"] == images.pinned["rollout"]
    assert canary["template"]["spec"]["initContainers"][0]["image"] == images.pinned["init"]
    assert canary["strategy"] == {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}
    web = deployment["web"].inputs["spec"]["template"]["spec"]
    assert web["initContainers"][0]["image"] == images.pinned["init"]
    assert web["containers"][0]["image"] == images.pinned["web"]
    assert web["volumes"] == [{"name": "model", "image": {"reference": images.pinned["model"]}}]
    assert deployment.warnings == []


@PREVIEW
def test_bare_names_in_raw_manifests_of_a_yaml_component_are_pinned(
    registry: RegistryServer, unique_repo: str, tmp_path: Path, preview: bool
) -> None:
    """`busybox` is `docker.io/library/busybox:latest`: pinned from a real lock (locked mode,
    no network), in a batch/v1beta1 CronJob and a ReplicationController's init container."""
    images = Pushed(registry, unique_repo, "app")
    busybox = registry.push(unique_repo, "busybox", build_image("busybox"))
    lock = tmp_path / "image-digest.lock"
    app = images.pinned["app"].split("@")[1]
    LockFile(lock).record(
        [
            ("docker.io/library/busybox:latest", None, busybox, None),
            (str(parse(images.ref["app"])), None, app, None),
        ]
    )
    cron = {
        "apiVersion": "batch/v1beta1",
        "kind": "CronJob",
        "metadata": {"name": "hello"},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "hello", "image": "busybox"}],
                            "restartPolicy": "OnFailure",
                        }
                    }
                }
            },
        },
    }
    controller = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "app"},
        "spec": {
            "replicas": 1,
            "template": {
                "spec": {
                    "initContainers": [{"name": "wait", "image": "busybox"}],
                    "containers": [{"name": "app", "image": images.ref["app"]}],
                }
            },
        },
    }

    def program() -> None:
        pin_images(lock=lock, mode="locked")
        k8s.yaml.v2.ConfigGroup("manifests", objs=[cron, controller])

    group = run_program(program, preview=preview)["manifests"]

    objs = comparable(group.inputs)["objs"]
    pinned_busybox = f"busybox@{busybox}"
    pod = objs[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == pinned_busybox
    assert objs[1]["spec"]["template"]["spec"]["initContainers"][0]["image"] == pinned_busybox
    assert objs[1]["spec"]["template"]["spec"]["containers"][0]["image"] == images.pinned["app"]
    assert pod["restartPolicy"] == "OnFailure"


def test_lists_nested_in_lists_never_raise(registry: RegistryServer, unique_repo: str) -> None:
    images = Pushed(registry, unique_repo, "app")

    def program() -> None:
        pin_images()
        k8s.apiextensions.CustomResource(
            "odd",
            api_version="example.com/v1",
            kind="Widget",
            spec={
                "containers": [{"name": "app", "image": images.ref["app"]}],
                "extra": [[{"image": "ghcr.io/acme/side:1"}]],
            },
        )

    deployment = run_program(program, preview=True)

    assert deployment["odd"].inputs["spec"]["containers"][0]["image"] == images.pinned["app"]
    (warning,) = deployment.warnings
    assert "'ghcr.io/acme/side:1' at spec.extra[].image is deployed by tag" in warning


@PREVIEW
def test_a_docker_image_id_is_deployed_as_it_is(preview: bool) -> None:
    """The docker provider's documented `Container(image=remote.image_id)`: an image ID is
    local content, never looked up (it used to resolve as docker.io/library/sha256)."""

    def program() -> None:
        pin_images()
        ubuntu = docker.RemoteImage("ubuntu", name="ubuntu@sha256:" + "5" * 64)
        docker.Container("web", image=ubuntu.image_id, name="web")

    mocks = EchoMocks({"ubuntu": {"imageId": IMAGE_ID}})
    deployment = run_program(program, preview=preview, mocks=mocks)

    assert comparable(deployment["web"].inputs)["image"] == IMAGE_ID
    assert deployment.warnings == []


def test_digest_image_beside_pin_images_is_not_reported_even_strict(
    registry: RegistryServer,
    unique_repo: str,
    provider_process: DynamicProviderProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    images = Pushed(registry, unique_repo, "api")
    monkeypatch.setenv("IMAGE_DIGEST_STRICT", "1")

    def program() -> None:
        pin_images()
        api = DigestImage("api-image", image=images.ref["api"])
        k8s.core.v1.Pod("api", spec={"containers": [{"name": "api", "image": api.repo_digest}]})

    deployment = run_program(program, preview=False, provider=provider_process)

    assert deployment["api-image"].type == "pulumi-python:dynamic/pulumi-digest:DigestImage"
    assert deployment["api-image"].inputs["image"] == images.ref["api"]
    (image,) = find_images(deployment["api"].inputs, ["spec.containers[].image"])
    assert image == images.pinned["api"] and has_digest(image)
    assert deployment.warnings == []


@PREVIEW
def test_yaml_strings_of_a_yaml_component_are_pinned_in_place(
    registry: RegistryServer, unique_repo: str, preview: bool
) -> None:
    """`ConfigGroup(yaml=...)`, as Pulumi's docs write it: each image scalar is rewritten in
    its own quoting style; comments and layout stay."""
    images = Pushed(registry, unique_repo, "web", "init")
    text = f"""# rendered by a tool
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: '{images.ref["init"]}'  # quoted
      containers:
        - name: web
          image: {images.ref["web"]}
"""

    def program() -> None:
        pin_images()
        k8s.yaml.v2.ConfigGroup("example", yaml=text)

    group = run_program(program, preview=preview)["example"]

    expected = text.replace(images.ref["init"], images.pinned["init"]).replace(
        images.ref["web"], images.pinned["web"]
    )
    assert comparable(group.inputs)["yaml"] == expected
