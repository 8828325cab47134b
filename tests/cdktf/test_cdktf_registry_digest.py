"""`RegistryDigest` in both frameworks: the docker provider resolves at plan time.

Provider downloads are impossible here, so these stacks are checked by synth: the data source
is declared with the prebuilt bindings and the pinned reference is a Terraform expression.
"""

from __future__ import annotations

import pytest

from cdktf_digest import PinError, RegistryDigest
from image_digest import InvalidReferenceError
from tests.cdktf.harness import Cdk, resource
from tests.support.registry import RegistryServer


def test_declares_the_data_source_and_pins_to_its_digest(
    cdk: Cdk, registry: RegistryServer, unique_repo: str
) -> None:
    ref = registry.reference(unique_repo, "v1")
    stack = cdk.stack()
    cdk.docker("provider").DockerProvider(stack, "docker")

    image = RegistryDigest(stack, "app", image=ref)
    cdk.docker("container").Container(stack, "c", name="c", image=image.repo_digest)

    synthesized = cdk.synth(stack)
    assert synthesized["data"]["docker_registry_image"]["app"]["name"] == ref
    assert resource(synthesized, "docker_container", "c")["image"] == (
        f"{registry.host}/{unique_repo}@${{data.docker_registry_image.app.sha256_digest}}"
    )
    assert synthesized["terraform"]["required_providers"]["docker"]["source"] == (
        "kreuzwerker/docker"
    )
    assert image.image == ref and image.data.node.path == "stack/app/image"


def test_keeps_the_repository_as_written(cdk: Cdk) -> None:
    stack = cdk.stack()

    image = RegistryDigest(stack, "hub", image="nginx:1.25")
    cdk.lib.TerraformOutput(stack, "out", value=image.repo_digest)

    output = cdk.synth(stack)["output"]["out"]["value"]
    assert output == "nginx@${data.docker_registry_image.hub.sha256_digest}"


def test_a_token_image_is_resolved_by_terraform(cdk: Cdk) -> None:
    stack = cdk.stack()
    variable = cdk.lib.TerraformVariable(stack, "image", type="string")

    image = RegistryDigest(stack, "var", image=variable.string_value)
    cdk.lib.TerraformOutput(stack, "out", value=image.repo_digest)

    synthesized = cdk.synth(stack)
    assert synthesized["data"]["docker_registry_image"]["var"]["name"] == "${var.image}"
    assert synthesized["output"]["out"]["value"] == (
        '${replace(var.image, "/:[^:/]+$/", "")}@${data.docker_registry_image.var.sha256_digest}'
    )


def test_an_invalid_literal_fails_at_synth_naming_the_construct(cdk: Cdk) -> None:
    with pytest.raises(PinError, match=r"stack/bad: cannot pin 'Bad/Name:1'") as caught:
        RegistryDigest(cdk.stack(), "bad", image="Bad/Name:1")

    assert isinstance(caught.value.__cause__, InvalidReferenceError)
