"""`PinImages` in both frameworks: every listed type, one batch, and what it leaves alone."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from constructs import Construct

from cdktf_digest import IMAGE_FIELDS, IMAGE_PATHS, PinImages
from image_digest import Resolver
from image_digest.pinning.age import stamp
from tests.cdktf.harness import Cdk, RecordingResolver, resource
from tests.support.images import build_image
from tests.support.registry import RegistryServer

Attributes = dict[str, Any]


def pod(app: str, init: str) -> Attributes:
    return {
        "container": [{"name": "app", "image": app, "port": [{"container_port": 8080}]}],
        "init_container": [{"name": "migrate", "image": init, "command": ["migrate"]}],
    }


def workload(app: str, init: str) -> Attributes:
    return {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": "2",
            "selector": {"match_labels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod(app, init)},
        },
    }


def cron_job(app: str, init: str) -> Attributes:
    job = {"template": {"metadata": {}, "spec": pod(app, init)}}
    return {
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "job_template": {"metadata": {}, "spec": job}},
    }


def cloud_run_v2_service(app: str, sidecar: str) -> Attributes:
    containers = [
        {"name": "app", "image": app, "ports": {"container_port": 8080}},
        {"name": "proxy", "image": sidecar},
    ]
    return {"name": "api", "location": "us-central1", "template": {"containers": containers}}


def cloud_run_v2_job(app: str, sidecar: str) -> Attributes:
    containers = [{"image": app, "args": ["--once"]}, {"image": sidecar}]
    return {
        "name": "batch",
        "location": "us-central1",
        "template": {"template": {"containers": containers}},
    }


def cloud_run_service(app: str, sidecar: str) -> Attributes:
    spec = {
        "containers": [{"image": app, "env": [{"name": "A", "value": "1"}]}, {"image": sidecar}]
    }
    return {"name": "legacy", "location": "us-central1", "template": {"spec": spec}}


#: Escape-hatch resources (no provider bindings installed) and how users would write them.
SAMPLES: dict[str, Callable[[str, str], Attributes]] = {
    "google_cloud_run_v2_service": cloud_run_v2_service,
    "google_cloud_run_v2_job": cloud_run_v2_job,
    "google_cloud_run_service": cloud_run_service,
    **dict.fromkeys(
        [
            "kubernetes_deployment",
            "kubernetes_deployment_v1",
            "kubernetes_stateful_set",
            "kubernetes_stateful_set_v1",
            "kubernetes_daemonset",
            "kubernetes_daemon_set_v1",
            "kubernetes_job",
            "kubernetes_job_v1",
        ],
        workload,
    ),
    "kubernetes_cron_job": cron_job,
    "kubernetes_cron_job_v1": cron_job,
    "kubernetes_pod": lambda app, init: {"metadata": {"name": "p"}, "spec": pod(app, init)},
    "kubernetes_pod_v1": lambda app, init: {"metadata": {"name": "p"}, "spec": pod(app, init)},
}
#: Resource types declared with the docker provider's prebuilt bindings instead.
DOCKER_TYPES = {"docker_container", "docker_service"}


@pytest.fixture
def recording() -> Any:
    with RecordingResolver() as resolver:
        yield resolver


@pytest.fixture
def two_images(registry: RegistryServer, unique_repo: str) -> tuple[str, str, str, str]:
    """Two tags of fresh content: (app ref, app pinned, sidecar ref, sidecar pinned)."""
    app = registry.push(unique_repo, "app", build_image(f"{unique_repo} app"))
    side = registry.push(unique_repo, "side", build_image(f"{unique_repo} side"))
    name = f"{registry.host}/{unique_repo}"
    return f"{name}:app", f"{name}@{app}", f"{name}:side", f"{name}@{side}"


def test_the_samples_are_listed_types() -> None:
    """Escape-hatch samples of listed types (test_cdktf_bindings declares every one)."""
    assert set(SAMPLES) | DOCKER_TYPES <= set(IMAGE_FIELDS)


def test_image_paths_is_the_former_name_of_fields(cdk: Cdk, two_images: tuple[str, ...]) -> None:
    app, app_pinned, _, _ = two_images
    stack = cdk.stack()
    cdk.escape_hatch(stack, "thing", "acme_thing", spec={"image": app})
    with pytest.deprecated_call(match=r"PinImages\(fields=...\)"):
        aspect = PinImages(image_paths={"acme_thing": "spec.image"})
    cdk.lib.Aspects.of(stack).add(aspect)

    assert resource(cdk.synth(stack), "acme_thing", "thing") == {"spec": {"image": app_pinned}}
    assert IMAGE_PATHS is IMAGE_FIELDS


def test_every_listed_resource_type_is_pinned_in_one_batch(
    cdk: Cdk, recording: RecordingResolver, two_images: tuple[str, str, str, str]
) -> None:
    app, app_pinned, side, side_pinned = two_images
    stack = cdk.stack()
    for resource_type, sample in SAMPLES.items():
        cdk.escape_hatch(stack, resource_type, resource_type, **sample(app, side))
    service = cdk.docker("service")
    cdk.docker("container").Container(stack, "docker_container", name="c", image=app)
    spec = service.ServiceTaskSpecContainerSpec(image=side, env={"MODE": "prod"})
    service.Service(
        stack, "docker_service", name="s", task_spec=service.ServiceTaskSpec(container_spec=spec)
    )
    cdk.lib.Aspects.of(stack).add(PinImages(resolver=recording))

    synthesized = cdk.synth(stack)

    for resource_type, sample in SAMPLES.items():
        assert resource(synthesized, resource_type, resource_type) == sample(
            app_pinned, side_pinned
        ), resource_type
    assert resource(synthesized, "docker_container", "docker_container") == {
        "name": "c",
        "image": app_pinned,
    }
    assert resource(synthesized, "docker_service", "docker_service") == {
        "name": "s",
        "task_spec": {"container_spec": {"image": side_pinned, "env": {"MODE": "prod"}}},
    }
    assert (recording.batches, recording.singles) == ([[app, side]], [])


def test_one_aspect_serves_several_apps_and_a_second_synth_resolves_nothing(
    cdk: Cdk, recording: RecordingResolver, two_images: tuple[str, str, str, str]
) -> None:
    app, app_pinned, _, _ = two_images
    aspect = PinImages(resolver=recording)
    stacks = [cdk.stack(), cdk.stack()]  # two apps, same stack path
    for stack in stacks:
        cdk.docker("container").Container(stack, "c", name="c", image=app)
        cdk.lib.Aspects.of(stack).add(aspect)

    images = [resource(cdk.synth(stack), "docker_container", "c")["image"] for stack in stacks]
    again = resource(cdk.synth(stacks[0]), "docker_container", "c")["image"]

    assert images == [app_pinned, app_pinned] and again == app_pinned
    assert recording.batches == [[app], [app]]


def test_digests_tokens_and_skipped_prefixes_are_left_alone(
    cdk: Cdk, recording: RecordingResolver
) -> None:
    stack = cdk.stack()
    container = cdk.docker("container").Container
    pinned = "127.0.0.1:9/app@sha256:" + "b" * 64
    token = cdk.lib.TerraformVariable(stack, "image", type="string").string_value
    container(stack, "pinned", name="pinned", image=pinned)
    container(stack, "token", name="token", image=token)
    container(stack, "skipped", name="skipped", image="127.0.0.1:9/vendor/tool:1")
    cdk.lib.Aspects.of(stack).add(PinImages(skip_prefixes=["127.0.0.1:9/vendor/"]))

    synthesized = cdk.synth(stack)

    images = {
        name: resource(synthesized, "docker_container", name)["image"]
        for name in ("pinned", "token", "skipped")
    }
    assert images == {
        "pinned": pinned,
        "token": "${var.image}",
        "skipped": "127.0.0.1:9/vendor/tool:1",
    }


def test_users_extend_the_table_and_nested_blocks_may_be_lists(
    cdk: Cdk, two_images: tuple[str, str, str, str]
) -> None:
    app, app_pinned, side, side_pinned = two_images
    stack = cdk.stack()
    cdk.escape_hatch(
        stack, "thing", "acme_thing", spec={"image": app, "sidecars": [{"image": side}]}
    )
    listed = cdk.escape_hatch(
        stack, "svc", "google_cloud_run_v2_service", template=[{"containers": [{"image": app}]}]
    )
    extra = {"acme_thing": ("spec.image", "spec.sidecars[].image")}
    cdk.lib.Aspects.of(stack).add(PinImages(fields=extra))

    synthesized = cdk.synth(stack)

    assert resource(synthesized, "acme_thing", "thing") == {
        "spec": {"image": app_pinned, "sidecars": [{"image": side_pinned}]}
    }
    assert resource(synthesized, "google_cloud_run_v2_service", "svc") == {
        "template": [{"containers": [{"image": app_pinned}]}]
    }
    assert listed.node.path == "stack/svc"


def test_only_resources_under_the_aspects_scope_are_pinned(
    cdk: Cdk, two_images: tuple[str, str, str, str]
) -> None:
    app, app_pinned, _, _ = two_images
    stack = cdk.stack()
    group = Construct(stack, "group")
    container = cdk.docker("container").Container
    container(group, "inside", name="inside", image=app)
    container(stack, "outside", name="outside", image=app)
    cdk.lib.Aspects.of(group).add(PinImages())

    synthesized = cdk.synth(stack)

    images = {r["name"]: r["image"] for r in synthesized["resource"]["docker_container"].values()}
    assert images == {"inside": app_pinned, "outside": app}


def test_invalid_references_stop_synth_naming_each_construct(
    cdk: Cdk, two_images: tuple[str, str, str, str]
) -> None:
    app, _, _, _ = two_images
    stack = cdk.stack()
    cdk.escape_hatch(
        stack, "svc", "google_cloud_run_v2_service", **cloud_run_v2_service(app, "Bad/Name:1")
    )
    cdk.docker("container").Container(stack, "c", name="c", image="also bad")
    cdk.lib.Aspects.of(stack).add(PinImages())

    with pytest.raises(RuntimeError) as caught:
        cdk.synth(stack)

    message = str(caught.value)
    assert (
        "stack/svc: cannot pin 'Bad/Name:1': InvalidReferenceError: invalid image reference"
        in message
    )
    assert "stack/c: cannot pin 'also bad': InvalidReferenceError" in message


def test_an_unreachable_registry_stops_synth_naming_the_construct(
    cdk: Cdk, dead_host: str, quick_resolver: Resolver
) -> None:
    stack = cdk.stack()
    cdk.docker("container").Container(stack, "c", name="c", image=f"{dead_host}/app:v1")
    cdk.lib.Aspects.of(stack).add(PinImages(resolver=quick_resolver))

    with pytest.raises(
        RuntimeError, match=rf"stack/c: cannot pin '{dead_host}/app:v1': RegistryError"
    ):
        cdk.synth(stack)


def test_fallback_to_the_lock_pins_and_warns_on_the_resource(
    cdk: Cdk, own_registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"
    ref = own_registry.reference(unique_repo, "v1")
    digest = own_registry.push(unique_repo, "v1", build_image("aspect fallback"))

    def stack_with_container(**options: Any) -> tuple[Any, Any]:
        stack = cdk.stack()
        container = cdk.docker("container").Container(stack, "c", name="c", image=ref)
        cdk.lib.Aspects.of(stack).add(PinImages(lock=lock, **options))
        return stack, container

    cdk.synth(stack_with_container()[0])  # mode "resolve" records the lock entry
    own_registry.stop()
    stack, container = stack_with_container(mode="fallback")

    synthesized = cdk.synth(stack)

    assert resource(synthesized, "docker_container", "c")["image"] == (
        f"{own_registry.host}/{unique_repo}@{digest}"
    )
    [warning] = cdk.warnings(container)
    assert ref in warning


def test_ci_switches_to_locked_mode_by_environment(
    cdk: Cdk,
    registry: RegistryServer,
    unique_repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = registry.reference(unique_repo, "v1")
    locked = registry.push(unique_repo, "v1", build_image("locked by CI"))
    monkeypatch.setenv("IMAGE_DIGEST_LOCK", str(tmp_path / "image-digest.lock"))

    def synth_image() -> str:
        stack = cdk.stack()
        cdk.docker("container").Container(stack, "c", name="c", image=ref)
        cdk.lib.Aspects.of(stack).add(PinImages())
        return str(resource(cdk.synth(stack), "docker_container", "c")["image"])

    assert synth_image() == f"{registry.host}/{unique_repo}@{locked}"  # records the lock
    registry.push(unique_repo, "v1", build_image("pushed after the lock"))
    monkeypatch.setenv("IMAGE_DIGEST_MODE", "locked")

    assert synth_image() == f"{registry.host}/{unique_repo}@{locked}"


def test_an_aspect_added_to_the_app_says_it_was_never_applied(
    cdk: Cdk, two_images: tuple[str, str, str, str], tmp_path: Path
) -> None:
    """cdktf runs no App-level aspects: the tag stays, and the program says so on exit."""
    app, _, _, _ = two_images
    program = f"""
import json
from {cdk.name} import App, Aspects, TerraformStack
from {cdk.docker("container").__name__} import Container
from {cdk.docker("provider").__name__} import DockerProvider
from cdktf_digest import PinImages

app = App(outdir="out")
stack = TerraformStack(app, "s")
DockerProvider(stack, "docker")
Container(stack, "web", name="web", image="{app}")
Aspects.of(app).add(PinImages())
app.synth()
"""
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "out/stacks/s/cdk.tf.json").read_text())
    assert written["resource"]["docker_container"]["web"]["image"] == app
    assert "a PinImages aspect was never applied" in done.stderr
    assert "add it to each TerraformStack" in done.stderr


def test_an_applied_aspect_says_nothing_on_exit(
    cdk: Cdk, two_images: tuple[str, str, str, str], tmp_path: Path
) -> None:
    app, app_pinned, _, _ = two_images
    program = f"""
from {cdk.name} import Aspects, Testing, TerraformStack
from {cdk.docker("container").__name__} import Container
from cdktf_digest import PinImages

stack = TerraformStack(Testing.app(), "s")
Container(stack, "web", name="web", image="{app}")
Aspects.of(stack).add(PinImages())
print(Testing.synth(stack))
"""
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0 and app_pinned in done.stdout, done.stderr
    assert "never applied" not in done.stderr


def test_min_age_keeps_the_locked_digest_and_warns_on_the_resource(
    cdk: Cdk, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"
    ref = registry.reference(unique_repo, "v1")
    old = registry.push(unique_repo, "v1", build_image("aspect age 1"))
    Resolver(lock=lock).resolve(ref)
    fresh = stamp(datetime.now(UTC) - timedelta(minutes=1))
    new = registry.push(unique_repo, "v1", build_image("aspect age 2", created=fresh))
    stack = cdk.stack()
    container = cdk.docker("container").Container(stack, "c", name="c", image=ref)
    cdk.lib.Aspects.of(stack).add(PinImages(lock=lock, min_age="6h"))

    synthesized = cdk.synth(stack)

    assert resource(synthesized, "docker_container", "c")["image"] == (
        f"{registry.host}/{unique_repo}@{old}"
    )
    [warning] = cdk.warnings(container)
    assert new in warning and "becomes eligible at" in warning
