"""Pulumi entry points resolve through a mirror (a real pull-through cache) and deploy the
program's name, or the mirror's with `deploy_from="mirror"`."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi_docker as docker
import pytest

from pulumi_digest import DigestImage, pin, pin_images
from tests.pulumi.harness.program import run_program
from tests.pulumi.harness.provider_process import DynamicProviderProcess
from tests.support.images import build_image
from tests.support.mirror import PullThroughCache
from tests.support.registry import RegistryServer


@pytest.fixture
def mirror(registry: RegistryServer) -> Iterator[PullThroughCache]:
    with PullThroughCache(registry) as cache:
        yield cache


def test_entry_points_resolve_through_the_mirror(
    provider_process: DynamicProviderProcess,
    registry: RegistryServer,
    mirror: PullThroughCache,
    unique_repo: str,
) -> None:
    digest = registry.push(unique_repo, "v1", build_image(unique_repo))
    tag = registry.reference(unique_repo, "v1")
    mirrors = {registry.host: mirror.host}

    def program() -> None:
        pin_images(mirrors=mirrors, deploy_from="mirror")
        docker.Container("web", image=tag)
        docker.Container("job", image=pin(tag, mirrors=mirrors))

    def with_a_resource() -> None:
        image = DigestImage("app-image", image=tag, mirrors=mirrors, deploy_from="mirror")
        docker.Container("app", image=image.repo_digest)

    deployment = run_program(program, preview=False)
    resource = run_program(with_a_resource, preview=False, provider=provider_process)

    assert deployment["web"].inputs["image"] == f"{mirror.host}/{unique_repo}@{digest}"
    assert deployment["job"].inputs["image"] == f"{registry.host}/{unique_repo}@{digest}"
    assert resource["app"].inputs["image"] == f"{mirror.host}/{unique_repo}@{digest}"
    assert mirror.log_tail(400).count(f"/v2/{unique_repo}/manifests/v1 HTTP/1.1") >= 3
    assert deployment.warnings == resource.warnings == []
