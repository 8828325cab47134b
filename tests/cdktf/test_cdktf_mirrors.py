"""CDKTF entry points resolve through a mirror (a real pull-through cache): `PinImages` and
`pin` deploy the program's name by default, the mirror's with `deploy_from="mirror"`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cdktf_digest import DigestImage, PinImages, pin
from tests.cdktf.harness import TerraformWorkdir, resource
from tests.support.images import build_image
from tests.support.mirror import PullThroughCache
from tests.support.registry import RegistryServer


@pytest.fixture
def mirror(registry: RegistryServer) -> Iterator[PullThroughCache]:
    with PullThroughCache(registry) as cache:
        yield cache


def test_entry_points_resolve_through_the_mirror(
    workdir: TerraformWorkdir, registry: RegistryServer, mirror: PullThroughCache, unique_repo: str
) -> None:
    lib = workdir.cdk.lib
    digest = registry.push(unique_repo, "v1", build_image(unique_repo))
    tag = registry.reference(unique_repo, "v1")
    mirrors = {registry.host: mirror.host}

    def build(stack: Any) -> None:
        lib.DataResource(stack, "app", input={"image": tag})
        lib.DataResource(stack, "job", input={"image": pin(tag, mirrors=mirrors)})
        side = DigestImage(stack, "side-image", image=tag, mirrors=mirrors, deploy_from="mirror")
        lib.DataResource(stack, "side", input={"image": side.repo_digest})
        lib.Aspects.of(stack).add(
            PinImages(
                fields={"terraform_data": "input.image"}, mirrors=mirrors, deploy_from="mirror"
            )
        )

    synthesized = workdir.synth(build)

    def image(name: str) -> str:
        return str(resource(synthesized, "terraform_data", name)["input"]["image"])

    assert image("app") == f"{mirror.host}/{unique_repo}@{digest}"
    assert image("job") == f"{registry.host}/{unique_repo}@{digest}"
    assert image("side") == f"{mirror.host}/{unique_repo}@{digest}"
    assert mirror.log_tail(400).count(f"/v2/{unique_repo}/manifests/v1 HTTP/1.1") >= 3
