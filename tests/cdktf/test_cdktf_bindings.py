"""`PinImages` on resources declared through the prebuilt provider bindings, as users write them.

Synth deep-merges `add_override` values into what a binding holds and appends override lists
to the binding's lists, so a rewrite that works on escape-hatch resources can duplicate every
container here. Each test synthesizes the same program with and without the aspect and asserts
that the JSON differs in the image strings only, which are the digests the local registry holds.
Both frameworks, with their own bindings (cdktf-cdktf-provider-*, cdktn-provider-*).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cdktf_digest import IMAGE_PATHS, PinImages
from tests.cdktf.harness import Cdk, RecordingResolver, TerraformWorkdir
from tests.support.images import build_image
from tests.support.registry import RegistryServer


@dataclass(frozen=True)
class Images:
    """Three tags of distinct content in one repository, and their pinned forms."""

    app: str
    side: str
    init: str
    pinned: dict[str, str]


@pytest.fixture
def images(registry: RegistryServer, unique_repo: str) -> Images:
    name = f"{registry.host}/{unique_repo}"
    pinned = {
        f"{name}:{tag}": f"{name}@{registry.push(unique_repo, tag, build_image(unique_repo + tag))}"
        for tag in ("app", "side", "init")
    }
    return Images(f"{name}:app", f"{name}:side", f"{name}:init", pinned)


# ---- the programs: one resource of each listed type, declared through its binding with dicts --


def containers(images: Images) -> list[dict[str, Any]]:
    """Two containers with the fields users set beside the image."""
    return [
        {"name": "app", "image": images.app, "env": [{"name": "MODE", "value": "prod"}]},
        {"name": "proxy", "image": images.side, "args": ["--port", "9000"]},
    ]


def pod_spec(images: Images) -> dict[str, Any]:
    init = [{"name": "migrate", "image": images.init, "command": ["migrate", "--up"]}]
    return {"container": containers(images), "init_container": init}


def pod_template(images: Images) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec(images)}


SELECTOR = {"match_labels": {"app": "web"}}
#: Kubernetes module -> its `spec` argument, built around the pod template.
KUBERNETES_SPECS: dict[str, Callable[[Images], dict[str, Any]]] = {
    "deployment": lambda i: {"replicas": "2", "selector": SELECTOR, "template": pod_template(i)},
    "stateful_set": lambda i: {
        "service_name": "web",
        "selector": SELECTOR,
        "template": pod_template(i),
    },
    "daemonset": lambda i: {"selector": SELECTOR, "template": pod_template(i)},
    "daemon_set": lambda i: {"selector": SELECTOR, "template": pod_template(i)},
    "job": lambda i: {"backoff_limit": 2, "template": pod_template(i)},
    "cron_job": lambda i: {
        "schedule": "0 3 * * *",
        "job_template": {"metadata": {}, "spec": {"template": pod_template(i)}},
    },
    "pod": pod_spec,
}


def class_name(module: str) -> str:
    return "".join(part.capitalize() for part in module.split("_"))


Declare = Callable[[Cdk, Any, Images], None]


def kubernetes(module: str) -> Callable[[Cdk, Any, Images], None]:
    def declare(cdk: Cdk, scope: Any, images: Images) -> None:
        binding = getattr(cdk.bindings("kubernetes", module), class_name(module))
        spec = KUBERNETES_SPECS[module.removesuffix("_v1")](images)
        binding(scope, f"kubernetes_{module}", metadata={"name": "web"}, spec=spec)

    return declare


def kubernetes_manifest(cdk: Cdk, scope: Any, images: Images) -> None:
    """A raw Deployment map, as the provider's `kubernetes_manifest` docs declare one."""
    pod = {
        "initContainers": [{"name": "init", "image": images.init}],
        "containers": [
            {"name": "app", "image": images.app},
            {"name": "side", "image": images.side},
        ],
    }
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"spec": pod}},
    }
    cdk.bindings("kubernetes", "manifest").Manifest(scope, "kubernetes_manifest", manifest=manifest)


def docker_container(cdk: Cdk, scope: Any, images: Images) -> None:
    cdk.bindings("docker", "container").Container(
        scope, "docker_container", name="web", image=images.app, env=["MODE=prod"]
    )


def docker_service(cdk: Cdk, scope: Any, images: Images) -> None:
    spec = {"container_spec": {"image": images.side, "env": {"MODE": "prod"}}}
    cdk.bindings("docker", "service").Service(scope, "docker_service", name="s", task_spec=spec)


def binding(provider: str, module: str, **arguments: Callable[[Images], Any]) -> Declare:
    """Declare `module`'s resource with `arguments` built from the images."""

    def declare(cdk: Cdk, scope: Any, images: Images) -> None:
        cls = getattr(cdk.bindings(provider, module), class_name(module))
        values = {key: build(images) for key, build in arguments.items()}
        cls(scope, f"{provider}_{module}", **values)

    return declare


def escape_hatch_on_cdktn(
    provider: str, module: str, **arguments: Callable[[Images], Any]
) -> Declare:
    """A binding where the framework's provider package still has the type (azurerm 4, which
    cdktn-provider-azurerm binds, dropped `azurerm_app_service`); an escape hatch elsewhere."""
    with_binding = binding(provider, module, **arguments)

    def declare(cdk: Cdk, scope: Any, images: Images) -> None:
        try:
            cdk.bindings(provider, module)
        except ModuleNotFoundError:
            values = {key: build(images) for key, build in arguments.items()}
            cdk.escape_hatch(scope, f"{provider}_{module}", f"{provider}_{module}", **values)
        else:
            with_binding(cdk, scope, images)

    return declare


def ecs_definitions(images: Images) -> str:
    return json.dumps(
        [
            {
                "name": "web",
                "image": images.app,
                "essential": True,
                "portMappings": [{"containerPort": 80}],
            },
            {"name": "log-router", "image": images.side, "essential": False},
        ]
    )


def azure_containers(images: Images) -> list[dict[str, Any]]:
    return [
        {"name": "web", "image": images.app, "cpu": 0.5, "memory": "1Gi"},
        {"name": "proxy", "image": images.side, "cpu": 0.25, "memory": "0.5Gi"},
    ]


CLOUD_RUN = {"name": lambda i: "api", "location": lambda i: "europe-west1"}
RG = {"resource_group_name": lambda i: "rg", "location": lambda i: "westeurope"}
WEB_APP = {
    **RG,
    "app_service_plan_id": lambda i: "/subscriptions/s/plan",
    "site_config": lambda i: {"linux_fx_version": f"DOCKER|{i.app}"},
}

#: Resource type -> how a user declares it through the prebuilt bindings.
DECLARE: dict[str, Callable[[Cdk, Any, Images], None]] = {
    # AWS
    "aws_ecs_task_definition": binding(
        "aws", "ecs_task_definition", family=lambda i: "web", container_definitions=ecs_definitions
    ),
    "aws_lambda_function": binding(
        "aws",
        "lambda_function",
        function_name=lambda i: "fn",
        role=lambda i: "arn:aws:iam::123456789012:role/fn",
        package_type=lambda i: "Image",
        image_uri=lambda i: i.app,
        architectures=lambda i: ["x86_64"],
    ),
    "aws_apprunner_service": binding(
        "aws",
        "apprunner_service",
        service_name=lambda i: "web",
        source_configuration=lambda i: {
            "auto_deployments_enabled": False,
            "image_repository": {
                "image_identifier": i.app,
                "image_repository_type": "ECR_PUBLIC",
                "image_configuration": {"port": "8000"},
            },
        },
    ),
    "aws_batch_job_definition": binding(
        "aws",
        "batch_job_definition",
        name=lambda i: "job",
        type=lambda i: "container",
        container_properties=lambda i: json.dumps({"command": ["run"], "image": i.app}),
    ),
    # Azure
    "azurerm_container_group": binding(
        "azurerm",
        "container_group",
        **RG,
        name=lambda i: "web",
        os_type=lambda i: "Linux",
        container=lambda i: [
            {"name": "web", "image": i.app, "cpu": 1, "memory": 1.5},
            {"name": "proxy", "image": i.side, "cpu": 0.5, "memory": 0.5},
        ],
        init_container=lambda i: [{"name": "migrate", "image": i.init, "commands": ["migrate"]}],
    ),
    "azurerm_container_app": binding(
        "azurerm",
        "container_app",
        resource_group_name=lambda i: "rg",
        name=lambda i: "web",
        container_app_environment_id=lambda i: "/subscriptions/s/env",
        revision_mode=lambda i: "Single",
        template=lambda i: {
            "container": azure_containers(i),
            "init_container": [{"name": "migrate", "image": i.init}],
        },
    ),
    "azurerm_container_app_job": binding(
        "azurerm",
        "container_app_job",
        **RG,
        name=lambda i: "job",
        container_app_environment_id=lambda i: "/subscriptions/s/env",
        replica_timeout_in_seconds=lambda i: 600,
        manual_trigger_config=lambda i: {"parallelism": 1},
        template=lambda i: {
            "container": azure_containers(i),
            "init_container": [{"name": "migrate", "image": i.init}],
        },
    ),
    "azurerm_app_service": escape_hatch_on_cdktn(
        "azurerm", "app_service", **WEB_APP, name=lambda i: "web"
    ),
    "azurerm_app_service_slot": escape_hatch_on_cdktn(
        "azurerm",
        "app_service_slot",
        **WEB_APP,
        name=lambda i: "staging",
        app_service_name=lambda i: "web",
    ),
    # Google Cloud beyond Cloud Run services and jobs
    "google_cloud_run_v2_worker_pool": binding(
        "google",
        "cloud_run_v2_worker_pool",
        name=lambda i: "pool",
        location=lambda i: "europe-west1",
        template=lambda i: {"containers": containers(i)},
    ),
    "google_app_engine_flexible_app_version": binding(
        "google",
        "app_engine_flexible_app_version",
        service=lambda i: "default",
        runtime=lambda i: "custom",
        version_id=lambda i: "v1",
        deployment=lambda i: {"container": {"image": i.app}},
        liveness_check=lambda i: {"path": "/"},
        readiness_check=lambda i: {"path": "/"},
    ),
    "google_vertex_ai_endpoint_with_model_garden_deployment": binding(
        "google",
        "vertex_ai_endpoint_with_model_garden_deployment",
        location=lambda i: "us-central1",
        hugging_face_model_id=lambda i: "google/gemma-3-1b-it",
        model_config=lambda i: {"container_spec": {"image_uri": i.app}},
    ),
    # Docker: the image the provider pulls
    "docker_image": binding("docker", "image", name=lambda i: i.side, keep_locally=lambda i: True),
    "google_cloud_run_v2_service": binding(
        "google",
        "cloud_run_v2_service",
        **CLOUD_RUN,
        template=lambda i: {"containers": containers(i)},
    ),
    "google_cloud_run_v2_job": binding(
        "google",
        "cloud_run_v2_job",
        **CLOUD_RUN,
        template=lambda i: {"template": {"containers": containers(i)}},
    ),
    "google_cloud_run_service": binding(
        "google",
        "cloud_run_service",
        **CLOUD_RUN,
        template=lambda i: {"spec": {"containers": containers(i)}},
    ),
    **{
        f"kubernetes_{module}": kubernetes(module)
        for module in (
            "deployment",
            "deployment_v1",
            "stateful_set",
            "stateful_set_v1",
            "daemonset",
            "daemon_set_v1",
            "job",
            "job_v1",
            "cron_job",
            "cron_job_v1",
            "pod",
            "pod_v1",
        )
    },
    "kubernetes_manifest": kubernetes_manifest,
    "docker_container": docker_container,
    "docker_service": docker_service,
}


def every_listed_type(cdk: Cdk, stack: Any, images: Images) -> None:
    for declare in DECLARE.values():
        declare(cdk, stack, images)


def providers(cdk: Cdk, stack: Any) -> None:
    """The provider constructs `App.synth` insists on (its validation; `Testing` skips it)."""
    cdk.bindings("aws", "provider").AwsProvider(stack, "aws", region="eu-west-1")
    cdk.bindings("azurerm", "provider").AzurermProvider(stack, "azurerm", features=[{}])
    cdk.bindings("google", "provider").GoogleProvider(stack, "google", project="p")
    cdk.bindings("kubernetes", "provider").KubernetesProvider(stack, "kubernetes")
    cdk.bindings("docker", "provider").DockerProvider(stack, "docker")


# ---- comparing two synths --------------------------------------------------------------------


def differences(plain: Any, pinned: Any, here: str = "") -> dict[str, tuple[Any, Any]]:
    """Path -> (plain, pinned) for every value that differs; a changed shape (other keys, other
    list length) is one difference at the node whose shape changed."""
    if isinstance(plain, dict) and isinstance(pinned, dict) and plain.keys() == pinned.keys():
        return {
            path: pair
            for key in plain
            for path, pair in differences(plain[key], pinned[key], f"{here}.{key}").items()
        }
    if isinstance(plain, list) and isinstance(pinned, list) and len(plain) == len(pinned):
        return {
            path: pair
            for index, (old, new) in enumerate(zip(plain, pinned, strict=True))
            for path, pair in differences(old, new, f"{here}[{index}]").items()
        }
    return {} if plain == pinned else {here: (plain, pinned)}


def differences_of(plain_text: str, pinned_text: str) -> dict[str, tuple[Any, Any]]:
    return differences(json.loads(plain_text), json.loads(pinned_text))


def synth_text(cdk: Cdk, build: Callable[[Any], None], *aspects: PinImages) -> str:
    stack = cdk.stack()
    build(stack)
    for aspect in aspects:
        cdk.lib.Aspects.of(stack).add(aspect)
    return str(cdk.lib.Testing.synth(stack))


def assert_only_images_pinned(plain_text: str, pinned_text: str, images: Images) -> None:
    """The two synths differ exactly in image strings, each now its registry digest (inside a
    JSON string or a `DOCKER|` value too)."""
    for old, new in differences_of(plain_text, pinned_text).values():
        assert isinstance(old, str) and isinstance(new, str), (old, new)
        expected = old
        for tag, pinned in images.pinned.items():
            expected = expected.replace(tag, pinned)
        assert new == expected != old
    unpinned = pinned_text
    for tag, pinned in images.pinned.items():
        unpinned = unpinned.replace(pinned, tag)
    assert unpinned == plain_text  # byte for byte, apart from the images


# ---- tests -----------------------------------------------------------------------------------


def test_the_bindings_cover_every_listed_type() -> None:
    assert set(DECLARE) == set(IMAGE_PATHS)


def test_every_listed_type_keeps_its_lists_and_only_its_images_change(
    cdk: Cdk, images: Images
) -> None:
    def build(stack: Any) -> None:
        every_listed_type(cdk, stack, images)

    plain = synth_text(cdk, build)
    pinned = synth_text(cdk, build, PinImages())

    assert_only_images_pinned(plain, pinned, images)
    changed = {path.split(".")[2] for path in differences_of(plain, pinned)}
    assert changed == set(DECLARE)  # every resource had its images pinned
    assert all(tag not in pinned for tag in images.pinned)  # not one tag left anywhere


def typed_structs(cdk: Cdk, stack: Any, images: Images) -> None:
    """Cloud Run and a Deployment written with the bindings' struct classes, with tokens mixed
    in: a variable's value in an env entry, and one image only Terraform knows."""
    run = cdk.bindings("google", "cloud_run_v2_service")
    k8s = cdk.bindings("kubernetes", "deployment_v1")
    database = cdk.lib.TerraformVariable(stack, "database", type="string").string_value
    sidecar = cdk.lib.TerraformVariable(stack, "sidecar", type="string").string_value
    run.CloudRunV2Service(
        stack,
        "typed_run",
        name="api",
        location="europe-west1",
        template=run.CloudRunV2ServiceTemplate(
            containers=[
                run.CloudRunV2ServiceTemplateContainers(
                    name="app",
                    image=images.app,
                    ports=run.CloudRunV2ServiceTemplateContainersPorts(container_port=8080),
                    env=[run.CloudRunV2ServiceTemplateContainersEnv(name="DB", value=database)],
                ),
                run.CloudRunV2ServiceTemplateContainers(name="proxy", image=sidecar),
            ],
            max_instance_request_concurrency=80,
        ),
    )
    container = k8s.DeploymentV1SpecTemplateSpecContainer
    k8s.DeploymentV1(
        stack,
        "typed_deployment",
        metadata=k8s.DeploymentV1Metadata(name="web", labels={"app": "web"}),
        spec=k8s.DeploymentV1Spec(
            replicas="3",
            selector=k8s.DeploymentV1SpecSelector(match_labels={"app": "web"}),
            template=k8s.DeploymentV1SpecTemplate(
                metadata=k8s.DeploymentV1SpecTemplateMetadata(labels={"app": "web"}),
                spec=k8s.DeploymentV1SpecTemplateSpec(
                    container=[
                        container(
                            name="web",
                            image=images.app,
                            port=[k8s.DeploymentV1SpecTemplateSpecContainerPort(container_port=80)],
                            env=[
                                k8s.DeploymentV1SpecTemplateSpecContainerEnv(
                                    name="DB", value=database
                                )
                            ],
                        ),
                        container(name="proxy", image=images.side, args=["--port", "9000"]),
                    ],
                    init_container=[
                        k8s.DeploymentV1SpecTemplateSpecInitContainer(
                            name="migrate", image=images.init, command=["migrate"]
                        )
                    ],
                ),
            ),
        ),
    )


def test_typed_structs_and_tokens_keep_every_other_field(cdk: Cdk, images: Images) -> None:
    def build(stack: Any) -> None:
        typed_structs(cdk, stack, images)

    plain = synth_text(cdk, build)
    pinned = synth_text(cdk, build, PinImages())

    assert_only_images_pinned(plain, pinned, images)
    assert sorted(differences_of(plain, pinned)) == [
        ".resource.google_cloud_run_v2_service.typed_run.template.containers[0].image",
        ".resource.kubernetes_deployment_v1.typed_deployment.spec.template.spec.container[0].image",
        ".resource.kubernetes_deployment_v1.typed_deployment.spec.template.spec.container[1].image",
        ".resource.kubernetes_deployment_v1.typed_deployment.spec.template.spec.init_container[0].image",
    ]
    assert '"image": "${var.sidecar}"' in pinned and '"value": "${var.database}"' in pinned
    assert '"container_port": 8080' in pinned and '"max_instance_request_concurrency": 80' in pinned


def test_escape_hatch_overrides_on_a_binding_are_pinned_in_place(cdk: Cdk, images: Images) -> None:
    """A user's own index override (`containers.1.image`) and an extra raw attribute."""

    def build(stack: Any) -> None:
        run = cdk.bindings("google", "cloud_run_v2_service")
        service = run.CloudRunV2Service(
            stack,
            "api",
            name="api",
            location="europe-west1",
            template={
                "containers": [
                    {"name": "app", "image": images.app},
                    {"name": "proxy", "image": "placeholder"},
                ]
            },
        )
        service.add_override("template.containers.1.image", images.side)
        service.add_override("template.annotations", {"team": "web"})

    plain = synth_text(cdk, build)
    pinned = synth_text(cdk, build, PinImages())

    assert_only_images_pinned(plain, pinned, images)
    assert len(differences_of(plain, pinned)) == 2


def test_a_binding_list_extended_by_an_override_list_fails_naming_resource_and_path(
    cdk: Cdk, images: Images
) -> None:
    """cdktf appends an override list to the binding's; the binding's element cannot be
    changed without replacing the user's addition, so synth stops instead of guessing."""
    stack = cdk.stack()
    run = cdk.bindings("google", "cloud_run_v2_service")
    service = run.CloudRunV2Service(
        stack, "api", name="api", location="eu", template={"containers": [{"image": images.app}]}
    )
    service.add_override("template.containers", [{"image": images.side}])
    cdk.lib.Aspects.of(stack).add(PinImages())

    with pytest.raises(RuntimeError) as caught:
        cdk.lib.Testing.synth(stack)

    message = str(caught.value)
    assert f"stack/api: cannot pin {images.app!r}: UnsafeRewriteError" in message
    assert "stack/api (google_cloud_run_v2_service)" in message
    assert "template.containers[0].image" in message
    assert "extended with add_override" in message


def test_synth_again_and_a_second_aspect_change_nothing(cdk: Cdk, images: Images) -> None:
    first, second = RecordingResolver(), RecordingResolver()
    stack = cdk.stack()
    every_listed_type(cdk, stack, images)
    cdk.lib.Aspects.of(stack).add(PinImages(resolver=first))
    cdk.lib.Aspects.of(stack).add(PinImages(resolver=second))

    once = str(cdk.lib.Testing.synth(stack))
    again = str(cdk.lib.Testing.synth(stack))

    assert again == once
    assert once == synth_text(cdk, lambda s: every_listed_type(cdk, s, images), PinImages())
    # one batch, and one more for Lambda's platform (an image index has a child per platform)
    assert {image for batch in first.batches for image in batch} == set(images.pinned)
    assert len(first.batches) == 2 and second.batches == []
    first.close()
    second.close()


def test_app_synth_twice_in_one_process_writes_the_same_json(
    cdk: Cdk, images: Images, tmp_path: Any
) -> None:
    app = cdk.lib.App(outdir=str(tmp_path / "out"))
    stack = cdk.lib.TerraformStack(app, "pinned")
    providers(cdk, stack)
    every_listed_type(cdk, stack, images)
    cdk.lib.Aspects.of(stack).add(PinImages())
    written = tmp_path / "out" / "stacks" / "pinned" / "cdk.tf.json"

    app.synth()
    once = written.read_bytes()
    app.synth()

    assert written.read_bytes() == once
    assert once.count(b"@sha256:") == str(cdk.lib.Testing.synth(stack)).count("@sha256:") > 0


# ---- real Terraform on the synthesized lists -------------------------------------------------


def deployment_and_service(cdk: Cdk, images: Images) -> Callable[[Any], None]:
    def build(stack: Any) -> None:
        providers(cdk, stack)
        DECLARE["kubernetes_deployment_v1"](cdk, stack, images)
        DECLARE["google_cloud_run_v2_service"](cdk, stack, images)
        cdk.lib.Aspects.of(stack).add(PinImages())

    return build


def test_terraform_plans_follow_image_content_through_binding_lists(
    cdk: Cdk, images: Images, registry: RegistryServer, unique_repo: str, workdir: TerraformWorkdir
) -> None:
    """The providers cannot be downloaded here, so Terraform plans `terraform_data` mirrors
    whose inputs are the synthesized attributes, lists and all."""
    build = deployment_and_service(cdk, images)
    first = workdir.synth_mirrored(build)
    workdir.init()
    workdir.apply()

    for tag in ("app", "side", "init"):  # identical content pushed again
        registry.push(unique_repo, tag, build_image(unique_repo + tag))
    assert workdir.synth_mirrored(build) == first
    unchanged = workdir.plan()

    new_app = registry.push(unique_repo, "app", build_image("new content"))
    workdir.synth_mirrored(build)
    changed = workdir.plan()

    assert (unchanged.exit_code, unchanged.actions()) == (0, {})
    deployment = "terraform_data.kubernetes_deployment_v1__kubernetes_deployment_v1"
    service = "terraform_data.google_cloud_run_v2_service__google_cloud_run_v2_service"
    assert changed.exit_code == 2
    assert changed.actions() == {deployment: ["update"], service: ["update"]}
    new_pinned = images.pinned[images.app].split("@")[0] + f"@{new_app}"
    inputs = {
        address: (changed.changes[address]["before"]["input"], change["after"]["input"])
        for address, change in changed.changes.items()
    }
    old_pinned = images.pinned[images.app]
    assert {address: differences(*pair) for address, pair in inputs.items()} == {
        deployment: {".spec.template.spec.container[0].image": (old_pinned, new_pinned)},
        service: {".template.containers[0].image": (old_pinned, new_pinned)},
    }


def test_a_locally_built_image_is_left_alone_and_uncovered_tags_are_reported(
    cdk: Cdk, images: Images
) -> None:
    """docker_image with a build block makes `myapp:dev`: its container keeps the name; a tag
    in a field no table covers is a warning naming the `fields=` entry, an error if strict."""

    def build(stack: Any) -> None:
        docker = cdk.bindings("docker", "image")
        built = docker.Image(
            stack, "app-image", name="myapp:dev", build_attribute={"context": "./app"}
        )
        cdk.bindings("docker", "container").Container(stack, "app", name="app", image=built.name)
        cdk.bindings("docker", "container").Container(stack, "proxy", name="p", image=images.side)
        cdk.escape_hatch(
            stack, "model", "aws_sagemaker_model", primary_container={"image": images.app}
        )

    stack = cdk.stack()
    build(stack)
    cdk.lib.Aspects.of(stack).add(PinImages())
    synthesized = json.loads(cdk.lib.Testing.synth(stack))

    containers = synthesized["resource"]["docker_container"]
    assert containers["app"]["image"] == "${docker_image.app-image.name}"
    assert containers["proxy"]["image"] == images.pinned[images.side]
    assert synthesized["resource"]["docker_image"]["app-image"]["name"] == "myapp:dev"
    assert cdk.warnings(stack.node.find_child("model")) == [
        (
            f"stack/model: image {images.app!r} at primary_container.image is deployed by tag: no "
            "table covers this field of aws_sagemaker_model; pin it with "
            'PinImages(fields={"aws_sagemaker_model": ["primary_container.image"]})'
        )
    ]
    [note] = [m for m in stack.node.find_child("app-image").node.metadata if "info" in m.type]
    assert "'myapp:dev' is built by stack/app-image" in str(note.data)

    strict = cdk.stack()
    build(strict)
    cdk.lib.Aspects.of(strict).add(PinImages(strict=True))
    with pytest.raises(RuntimeError, match=r"strict mode .* 1 image\(s\) would be deployed by tag"):
        cdk.lib.Testing.synth(strict)
