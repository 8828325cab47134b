"""`DigestImage` through the engine stand-in: resolved in Check (known in previews), diffed on
the digest across deployments, labels on request, no credential anywhere in its state."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import dill
import pulumi
import pulumi_docker as docker
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_digest import DigestImage, DigestImageProvider
from tests.pulumi.harness.engine import UNKNOWN, EngineError, State
from tests.pulumi.harness.network import UNREACHABLE
from tests.pulumi.harness.outage import LockedImage
from tests.pulumi.harness.program import run_program
from tests.pulumi.harness.provider_process import DynamicProviderProcess
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer

TYPE = "pulumi-python:dynamic/pulumi-digest:DigestImage"
PREVIEW = pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])


def deploy_app(
    reference: pulumi.Input[str],
    *,
    platform: str | None = None,
    with_labels: bool = False,
    lock: Path | None = None,
    mode: str | None = None,
) -> None:
    """A DigestImage and a container that runs it."""
    image = DigestImage(
        "app-image",
        image=reference,
        platform=platform,
        with_labels=with_labels,
        lock=lock,
        mode=mode,
    )
    docker.Container("app", image=image.repo_digest)
    pulumi.export("digest", image.digest)


@PREVIEW
def test_digest_is_known_during_preview(
    provider_process: DynamicProviderProcess,
    registry: RegistryServer,
    unique_repo: str,
    preview: bool,
) -> None:
    digest = registry.push(unique_repo, "v1", build_image(unique_repo))
    reference = registry.reference(unique_repo, "v1")

    deployment = run_program(
        lambda: deploy_app(reference), preview=preview, provider=provider_process
    )

    image = deployment["app-image"]
    assert image.type == TYPE
    assert image.outputs["digest"] == digest
    assert image.outputs["repo_digest"] == f"{registry.host}/{unique_repo}@{digest}"
    assert deployment["app"].inputs["image"] == f"{registry.host}/{unique_repo}@{digest}"


def test_diff_follows_content_across_deployments(
    provider_process: DynamicProviderProcess, registry: RegistryServer, unique_repo: str
) -> None:
    reference = registry.reference(unique_repo, "v1")
    state = State()
    first = registry.push(unique_repo, "v1", build_image("first"))
    run_program(
        lambda: deploy_app(reference), preview=False, provider=provider_process, state=state
    )

    registry.push(unique_repo, "v1", build_image("first"))  # identical content again
    same = run_program(
        lambda: deploy_app(reference), preview=True, provider=provider_process, state=state
    )
    assert same["app-image"].changes is False
    assert same["app"].inputs["image"].endswith(first)

    second = registry.push(unique_repo, "v1", build_image("second"))
    moved = run_program(
        lambda: deploy_app(reference), preview=True, provider=provider_process, state=state
    )
    assert moved["app-image"].changes is True
    assert moved["app-image"].checked is not None
    assert moved["app-image"].checked["digest"] == second
    assert moved["app"].inputs["image"] == f"{registry.host}/{unique_repo}@{second}"

    applied = run_program(
        lambda: deploy_app(reference), preview=False, provider=provider_process, state=state
    )
    assert applied["app-image"].outputs["digest"] == second
    assert applied["app-image"].id == same["app-image"].id  # updated in place


def test_unknown_image_is_unknown_in_preview(provider_process: DynamicProviderProcess) -> None:
    def program() -> None:
        built = docker.RemoteImage("built", name=f"{UNREACHABLE}/app:v1").repo_digest
        deploy_app(built)

    deployment = run_program(program, preview=True, provider=provider_process)

    assert deployment["app"].inputs["image"] == UNKNOWN


def test_platform_and_labels(
    provider_process: DynamicProviderProcess, registry: RegistryServer, unique_repo: str
) -> None:
    revision = "0123456789abcdef0123456789abcdef01234567"
    amd64 = build_image(unique_repo, architecture="amd64")
    arm64 = build_image(
        unique_repo, architecture="arm64", labels={"org.opencontainers.image.revision": revision}
    )
    for child in (amd64, arm64):
        registry.push(unique_repo, child.digest, child)
    registry.push(unique_repo, "multi", build_index([amd64, arm64]))
    reference = registry.reference(unique_repo, "multi")

    deployment = run_program(
        lambda: deploy_app(reference, platform="linux/arm64", with_labels=True),
        preview=True,
        provider=provider_process,
    )

    outputs = deployment["app-image"].outputs
    assert outputs["digest"] == arm64.digest
    assert outputs["platform"] == "linux/arm64"
    assert outputs["labels"]["org.opencontainers.image.revision"] == revision


def test_labels_are_not_read_unless_asked(
    provider_process: DynamicProviderProcess, registry: RegistryServer, unique_repo: str
) -> None:
    registry.push(unique_repo, "v1", build_image(unique_repo, labels={"a": "b"}))

    deployment = run_program(
        lambda: deploy_app(registry.reference(unique_repo, "v1")),
        preview=True,
        provider=provider_process,
    )

    assert "labels" not in deployment["app-image"].outputs


def test_invalid_reference_fails_naming_the_resource(
    provider_process: DynamicProviderProcess,
) -> None:
    with pytest.raises(EngineError) as caught:
        run_program(lambda: deploy_app("UPPER/Case:v1"), preview=True, provider=provider_process)

    message = str(caught.value)
    assert f"{TYPE} resource 'app-image'" in message
    assert "invalid image reference 'UPPER/Case:v1'" in message


def test_unreachable_registry_fails_and_never_uses_the_tag(
    provider_process: DynamicProviderProcess,
) -> None:
    with pytest.raises(EngineError) as caught:
        run_program(
            lambda: deploy_app(f"{UNREACHABLE}/app:v1"), preview=False, provider=provider_process
        )

    assert f"{TYPE} resource 'app-image'" in str(caught.value)
    assert f"registry {UNREACHABLE} is unreachable" in str(caught.value)


def test_fallback_warns_through_the_engine(
    provider_process: DynamicProviderProcess,
    locked_then_down: LockedImage,
) -> None:
    lock, reference, digest = (
        locked_then_down.lock,
        locked_then_down.reference,
        locked_then_down.digest,
    )

    deployment = run_program(
        lambda: deploy_app(reference, lock=lock, mode="fallback"),
        preview=True,
        provider=provider_process,
    )

    assert deployment["app-image"].outputs["digest"] == digest
    warnings = provider_process.engine.warnings()
    assert any(reference in w and str(lock) in w for w in warnings), warnings


def test_state_and_provider_hold_no_credential(
    provider_process: DynamicProviderProcess,
    basic_registry: RegistryServer,
    unique_repo: str,
    isolated_credentials: Path,
) -> None:
    username, password = basic_registry.credentials or ("", "")
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    (isolated_credentials / "config.json").write_text(
        json.dumps({"auths": {basic_registry.host: {"auth": auth}}})
    )
    digest = basic_registry.push(unique_repo, "v1", build_image(unique_repo))

    deployment = run_program(
        lambda: deploy_app(basic_registry.reference(unique_repo, "v1"), with_labels=True),
        preview=False,
        provider=provider_process,
    )

    image = deployment["app-image"]
    assert image.outputs["digest"] == digest
    blob = image.raw_inputs["__provider"]
    provider = dill.loads(base64.b64decode(blob))
    assert type(provider) is DigestImageProvider
    assert vars(provider) == {
        "lock": None,
        "mode": None,
        "with_labels": True,
        "ca_bundle": None,
        "insecure_registries": (),
        "min_age": None,
        "total_timeout": None,
        "keep_tag": False,
        "mirrors": (),
        "deploy_from": None,
        "verify": None,
    }
    everything = json.dumps(
        [image.raw_inputs, image.checked, image.outputs, deployment["app"].inputs], default=str
    )
    for secret in (password, auth):
        assert secret not in everything
        assert secret.encode() not in base64.b64decode(blob)


def test_serialized_provider_is_stable_and_not_secret(
    provider_process: DynamicProviderProcess, registry: RegistryServer, unique_repo: str
) -> None:
    registry.push(unique_repo, "v1", build_image(unique_repo))
    reference = registry.reference(unique_repo, "v1")

    deployment = run_program(lambda: deploy_app(reference), preview=True, provider=provider_process)

    blob = deployment["app-image"].raw_inputs["__provider"]
    assert blob == serialize_provider(DigestImageProvider())  # identical run after run
    assert isinstance(blob, str)  # a plain value: nothing secret was captured


def test_unknown_mode_is_rejected_in_the_program() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        DigestImage("x", image="nginx:1.27", mode="sometimes")


def test_a_lan_registry_over_plain_http_is_reached_with_insecure_registries(
    provider_process: DynamicProviderProcess, registry: RegistryServer, unique_repo: str
) -> None:
    """The engine's provider process resolves with the options the program gave: a registry
    named by a non-loopback host (`0.0.0.0:PORT` on Linux) speaks plain HTTP only when told."""
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} lan"))
    lan = registry.host.replace("127.0.0.1", "0.0.0.0", 1)
    reference = f"{lan}/{unique_repo}:v1"

    def program(insecure: list[str]) -> None:
        DigestImage("app-image", image=reference, insecure_registries=insecure)

    deployment = run_program(lambda: program([lan]), preview=False, provider=provider_process)

    assert deployment["app-image"].outputs["repo_digest"] == f"{lan}/{unique_repo}@{digest}"
    with pytest.raises(EngineError, match="insecure"):
        run_program(lambda: program([]), preview=False, provider=provider_process)
