"""Small programs in the style of the providers' public examples, run with `pin_images()`.

ECS on Fargate (container definitions in a JSON string), Lambda from an image on arm64, an
Azure container app, an Azure web app for containers, a docker-compose-like set with one image
built locally, an image built and pushed in the same program, and a type no table knows (a
warning, or an error in strict mode). Every image is pinned to the right digest from the real
local registry, or left alone where the program builds it.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure
import pulumi_docker as docker
import pulumi_docker_build as docker_build
import pulumi_kubernetes as k8s
import pytest

from image_digest import Resolver
from pulumi_digest import pin_images
from tests.pulumi.harness.engine import EngineError
from tests.pulumi.harness.program import run_program
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer

PREVIEW = pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])


@pytest.fixture
def web(registry: RegistryServer, unique_repo: str) -> tuple[str, str]:
    """A tag and its pinned form."""
    digest = registry.push(unique_repo, "web", build_image(f"{unique_repo} web"))
    return registry.reference(unique_repo, "web"), f"{registry.host}/{unique_repo}@{digest}"


@PREVIEW
def test_ecs_fargate_task_definition_json_changes_only_its_images(
    web: tuple[str, str], preview: bool
) -> None:
    tag, pinned = web
    definitions = json.dumps(
        [
            {
                "name": "web",
                "image": tag,
                "essential": True,
                "portMappings": [{"containerPort": 80, "hostPort": 80}],
                "environment": [{"name": "IMAGE_NOTE", "value": "built from web"}],
            }
        ],
        indent=2,
    )

    def program() -> None:
        pin_images()
        aws.ecs.TaskDefinition(
            "app",
            family="web",
            cpu="256",
            memory="512",
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            container_definitions=definitions,
        )

    inputs = run_program(program, preview=preview)["app"].inputs

    assert inputs["containerDefinitions"] == definitions.replace(f'"{tag}"', f'"{pinned}"')


@PREVIEW
@pytest.mark.parametrize(
    ("architectures", "expected"), [(["arm64"], "arm"), (["x86_64"], "amd"), (None, "amd")]
)
def test_lambda_from_an_index_pins_the_child_for_its_architecture(
    registry: RegistryServer,
    unique_repo: str,
    architectures: list[str] | None,
    expected: str,
    preview: bool,
) -> None:
    """Lambda rejects an image index: the function gets the child for its architecture."""
    amd = build_image(f"{unique_repo} amd")
    arm = build_image(f"{unique_repo} arm", architecture="arm64", variant="v8")
    children = {
        "amd": registry.push(unique_repo, "amd", amd),
        "arm": registry.push(unique_repo, "arm", arm),
    }
    registry.push(unique_repo, "multi", build_index([amd, arm]))

    def program() -> None:
        pin_images()
        aws.lambda_.Function(
            "fn",
            package_type="Image",
            image_uri=registry.reference(unique_repo, "multi"),
            role="arn:aws:iam::123456789012:role/fn",
            architectures=architectures,
            timeout=30,
        )

    inputs = run_program(program, preview=preview)["fn"].inputs

    assert inputs["imageUri"] == f"{registry.host}/{unique_repo}@{children[expected]}"


def test_azure_container_app_and_web_app_for_containers(web: tuple[str, str]) -> None:
    tag, pinned = web

    def program() -> None:
        pin_images()
        azure.app.ContainerApp(
            "app",
            resource_group_name="rg",
            managed_environment_id="/subscriptions/s/resourceGroups/rg/providers/x/env",
            configuration=azure.app.ConfigurationArgs(
                ingress=azure.app.IngressArgs(external=True, target_port=80)
            ),
            template=azure.app.TemplateArgs(
                containers=[
                    azure.app.ContainerArgs(
                        name="web",
                        image=tag,
                        resources=azure.app.ContainerResourcesArgs(cpu=0.5, memory="1Gi"),
                    )
                ]
            ),
        )
        azure.web.WebApp(
            "site",
            resource_group_name="rg",
            server_farm_id="/subscriptions/s/resourceGroups/rg/providers/x/plan",
            kind="app,linux,container",
            site_config=azure.web.SiteConfigArgs(
                app_settings=[azure.web.NameValuePairArgs(name="WEBSITES_PORT", value="80")],
                linux_fx_version=f"DOCKER|{tag}",
                always_on=True,
            ),
        )

    deployed = run_program(program, preview=True)

    assert deployed["app"].inputs["template"]["containers"][0]["image"] == pinned
    site_config = deployed["site"].inputs["siteConfig"]
    assert site_config["linuxFxVersion"] == f"DOCKER|{pinned}"
    assert site_config["appSettings"] == [{"name": "WEBSITES_PORT", "value": "80"}]


def test_compose_like_set_with_a_locally_built_image_is_never_looked_up(
    web: tuple[str, str], tmp_path: object
) -> None:
    """`docker.Image(skip_push=True)` builds `myapp:dev`; the container that runs it keeps the
    name (no registry has it), and the pulled images beside it are pinned."""
    tag, pinned = web
    resolver = Resolver()

    def program() -> None:
        pin_images(resolver=resolver)
        network = docker.Network("net", name="app")
        app = docker.Image(
            "app-image",
            image_name="myapp:dev",
            build=docker.DockerBuildArgs(context="./app"),
            skip_push=True,
        )
        proxy = docker.RemoteImage("proxy-image", name=tag, keep_locally=True)
        docker.Container(
            "app",
            image=app.image_name,
            networks_advanced=[{"name": network.name}],
        )
        docker.Container("proxy", image=proxy.name, ports=[{"internal": 80, "external": 8080}])

    deployed = run_program(program, preview=False)

    assert deployed["app"].inputs["image"] == "myapp:dev"
    assert deployed["proxy-image"].inputs["name"] == pinned
    assert deployed["proxy"].inputs["image"] == pinned
    assert resolver.request_count() > 0  # the proxy was resolved; myapp:dev never was
    [note] = [m for m in deployed.infos if "myapp:dev" in m]
    assert "'app': 'myapp:dev' is built by app-image" in note and "never looked up" in note
    assert not any("myapp" in w for w in deployed.warnings)
    resolver.close()


def test_an_image_built_and_pushed_here_is_left_to_its_ref_output(
    registry: RegistryServer, unique_repo: str
) -> None:
    """The registry has the new content only after the build runs: a lookup at preview would
    pin the previous push. The user is told, once, to deploy the build's `ref`. (The
    Deployment takes the tag from the build's outputs, which also orders the two.)"""
    image = registry.reference(unique_repo, "v2")

    def program() -> None:
        pin_images()
        build = docker_build.Image("build", tags=[image], push=True, context={"location": "./app"})
        tag = build.tags.apply(lambda tags: (tags or [""])[0])
        k8s.apps.v1.Deployment(
            "web",
            spec={
                "selector": {"match_labels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{"name": "a", "image": tag}],
                        "init_containers": [{"name": "b", "image": tag}],
                    },
                },
            },
        )

    deployed = run_program(program, preview=True)

    containers = deployed["web"].inputs["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == image
    [told] = [w for w in deployed.warnings if image in w]
    assert "built and pushed by build" in told and "`ref` output" in told


def sagemaker_model(image: str) -> None:
    """A type no table knows, with an image in a field named like one."""
    aws.sagemaker.Model(
        "model",
        execution_role_arn="arn:aws:iam::123456789012:role/sm",
        primary_container={"image": image, "mode": "SingleModel"},
    )


def test_a_tag_in_a_field_no_table_covers_is_a_warning_naming_the_fix(
    web: tuple[str, str],
) -> None:
    tag, pinned = web

    def program() -> None:
        pin_images()
        sagemaker_model(tag)

    deployed = run_program(program, preview=True)

    assert deployed["model"].inputs["primaryContainer"]["image"] == tag
    [warning] = deployed.warnings
    assert warning == (
        f"'model': image {tag!r} at primaryContainer.image is deployed by tag: no table covers "
        "this field of aws:sagemaker/model:Model; pin it with "
        'pin_images(fields={"aws:sagemaker/model:Model": ["primaryContainer.image"]})'
    )

    def fixed() -> None:  # the entry the warning names pins it
        pin_images(fields={"aws:sagemaker/model:Model": ["primaryContainer.image"]})
        sagemaker_model(tag)

    deployed = run_program(fixed, preview=True)
    assert deployed["model"].inputs["primaryContainer"]["image"] == pinned
    assert deployed.warnings == []


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_strict_mode_fails_the_program_listing_the_field(
    web: tuple[str, str], how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag, _ = web
    if how == "environment":
        monkeypatch.setenv("IMAGE_DIGEST_STRICT", "1")

    def program() -> None:
        pin_images(strict=True if how == "argument" else None)
        sagemaker_model(tag)

    with pytest.raises(EngineError) as caught:
        run_program(program, preview=True)

    message = str(caught.value)
    assert "UnpinnedImagesError" in message or "would be deployed by tag" in message
    assert f"image {tag!r} at primaryContainer.image" in message


def test_pulumi_output_json_dumps_container_definitions(web: tuple[str, str]) -> None:
    """The usual way to build ECS definitions from Outputs: `pulumi.Output.json_dumps`."""
    tag, pinned = web

    def program() -> None:
        pin_images()
        image = pulumi.Output.from_input(tag)
        aws.ecs.TaskDefinition(
            "app",
            family="web",
            container_definitions=pulumi.Output.json_dumps(
                [{"name": "web", "image": image, "memory": 128, "essential": True}]
            ),
        )

    definitions = run_program(program, preview=False)["app"].inputs["containerDefinitions"]

    assert json.loads(definitions) == [
        {"name": "web", "image": pinned, "memory": 128, "essential": True}
    ]
