"""`DigestImage` in both frameworks: attributes, labels, lock modes, failures that stop synth."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdktf_digest import DigestImage, PinError, UnresolvedTokenError
from image_digest import InvalidReferenceError, LockError, RegistryError, Resolver
from tests.cdktf.harness import Cdk, resource
from tests.support.images import build_image
from tests.support.registry import RegistryServer

REVISION = "org.opencontainers.image.revision"


def test_exposes_the_reference_its_digest_and_the_pinned_reference(
    cdk: Cdk, registry: RegistryServer, unique_repo: str
) -> None:
    digest = registry.push(unique_repo, "v1", build_image("digest image"))
    ref = registry.reference(unique_repo, "v1")
    stack = cdk.stack()

    image = DigestImage(stack, "app-image", image=ref)
    cdk.lib.DataResource(stack, "deployed", input={"image": image.repo_digest})

    assert (image.image, image.digest) == (ref, digest)
    assert image.repo_digest == f"{registry.host}/{unique_repo}@{digest}"
    assert image.labels is None
    assert image.node.path == "stack/app-image"
    deployed = resource(cdk.synth(stack), "terraform_data", "deployed")
    assert deployed["input"] == {"image": image.repo_digest}


def test_labels_and_platform_on_request(
    cdk: Cdk, registry: RegistryServer, unique_repo: str
) -> None:
    pushed = build_image("labelled", labels={REVISION: "abc123"}, architecture="arm64")
    registry.push(unique_repo, "v1", pushed)
    stack = cdk.stack()

    image = DigestImage(
        stack,
        "img",
        image=registry.reference(unique_repo, "v1"),
        platform="linux/arm64",
        with_labels=True,
    )

    assert image.labels is not None and image.labels[REVISION] == "abc123"
    assert (image.digest, image.platform) == (pushed.digest, "linux/arm64")


def test_locked_mode_reads_only_the_lock_and_names_what_is_missing(
    cdk: Cdk, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"
    ref = registry.reference(unique_repo, "v1")
    digest = registry.push(unique_repo, "v1", build_image("locked"))
    DigestImage(cdk.stack(), "record", image=ref, lock=lock)  # mode resolve writes the lock
    stack = cdk.stack()

    image = DigestImage(stack, "img", image=ref, lock=lock, mode="locked")
    with pytest.raises(PinError, match=r"stack/missing: cannot pin .*LockError") as caught:
        DigestImage(
            stack, "missing", image=registry.reference(unique_repo, "v2"), lock=lock, mode="locked"
        )

    assert image.digest == digest
    assert isinstance(caught.value.__cause__, LockError)


def test_fallback_to_the_lock_warns_on_the_construct(
    cdk: Cdk, own_registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"
    ref = own_registry.reference(unique_repo, "v1")
    digest = own_registry.push(unique_repo, "v1", build_image("fallback"))
    DigestImage(cdk.stack(), "record", image=ref, lock=lock)
    own_registry.stop()
    stack = cdk.stack()

    image = DigestImage(stack, "img", image=ref, lock=lock, mode="fallback")

    assert image.repo_digest == f"{own_registry.host}/{unique_repo}@{digest}"
    assert image.resolved.source == "lock"
    [warning] = cdk.warnings(image)
    assert image.resolved.warning == warning and ref in warning


def test_an_invalid_reference_stops_synth_naming_the_construct(cdk: Cdk) -> None:
    stack = cdk.stack()

    with pytest.raises(PinError, match=r"stack/bad: cannot pin 'Bad/Name:1'.*invalid") as caught:
        DigestImage(stack, "bad", image="Bad/Name:1")

    assert isinstance(caught.value.__cause__, InvalidReferenceError)
    assert caught.value.uses == {"Bad/Name:1": ["stack/bad"]}


def test_an_unreachable_registry_stops_synth_naming_the_construct(
    cdk: Cdk, dead_host: str, quick_resolver: Resolver
) -> None:
    stack = cdk.stack()

    with pytest.raises(PinError, match=rf"stack/down: cannot pin '{dead_host}/app:v1'") as caught:
        DigestImage(stack, "down", image=f"{dead_host}/app:v1", resolver=quick_resolver)

    assert isinstance(caught.value.__cause__, RegistryError)
    assert "unreachable" in str(caught.value)


def test_a_token_is_refused_with_the_construct_path(cdk: Cdk) -> None:
    stack = cdk.stack()
    token = cdk.lib.TerraformVariable(stack, "image", type="string").string_value

    with pytest.raises(UnresolvedTokenError, match=r"stack/img: .*RegistryDigest"):
        DigestImage(stack, "img", image=token)
