"""Readable pins in Pulumi (`keep_tag=True`): `repo:tag@sha256:...` from `pin`, `pin_images`
and `DigestImage`, and a preview that changes exactly when the digest does."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker
import pytest

from image_digest import Resolver
from pulumi_digest import DigestImage, pin, pin_images
from tests.pulumi.harness.engine import State
from tests.pulumi.harness.program import run_program
from tests.pulumi.harness.provider_process import DynamicProviderProcess
from tests.support.images import build_image
from tests.support.registry import RegistryServer

PREVIEW = pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])


@PREVIEW
def test_pin_and_pin_images_write_readable_pins(
    registry: RegistryServer, unique_repo: str, preview: bool
) -> None:
    digest = registry.push(unique_repo, "1.27", build_image(unique_repo))
    tag = registry.reference(unique_repo, "1.27")

    def program() -> None:
        pin_images(keep_tag=True)
        docker.Container("web", image=tag)
        docker.Container("job", image=pin(tag, keep_tag=True))
        docker.Container("plain", image=pin(tag))
        docker.Container("given", image=f"{tag}@{digest}")  # already readable: left alone

    deployment = run_program(program, preview=preview)

    readable = f"{tag}@{digest}"
    assert deployment["web"].inputs["image"] == readable
    assert deployment["job"].inputs["image"] == readable
    assert deployment["plain"].inputs["image"] == f"{registry.host}/{unique_repo}@{digest}"
    assert deployment["given"].inputs["image"] == readable
    assert deployment.warnings == []  # a readable pin is pinned: no "deployed by tag" warning


def test_keep_tag_with_a_resolver_is_a_type_error() -> None:
    with Resolver() as resolver, pytest.raises(TypeError, match="keep_tag="):
        pin("nginx:1.27", resolver=resolver, keep_tag=True)
    with Resolver(keep_tag=True) as resolver:
        assert resolver.keep_tag


def test_digest_image_changes_exactly_when_the_digest_does(
    provider_process: DynamicProviderProcess, registry: RegistryServer, unique_repo: str
) -> None:
    tag = registry.reference(unique_repo, "1.27")

    def program() -> None:
        image = DigestImage("app-image", image=tag, keep_tag=True)
        docker.Container("app", image=image.repo_digest)
        pulumi.export("pinned", image.repo_digest)

    state = State()
    first = registry.push(unique_repo, "1.27", build_image(f"{unique_repo} v1"))
    created = run_program(program, preview=False, provider=provider_process, state=state)
    assert created["app-image"].outputs["repo_digest"] == f"{tag}@{first}"
    assert created["app"].inputs["image"] == f"{tag}@{first}"

    registry.push(unique_repo, "1.27", build_image(f"{unique_repo} v1"))  # identical re-push
    same = run_program(program, preview=True, provider=provider_process, state=state)
    assert same["app-image"].changes is False
    assert same["app"].inputs["image"] == f"{tag}@{first}"

    second = registry.push(unique_repo, "1.27", build_image(f"{unique_repo} v2"))
    moved = run_program(program, preview=True, provider=provider_process, state=state)
    assert moved["app-image"].changes is True
    assert moved["app"].inputs["image"] == f"{tag}@{second}"
