"""`pin()` against the real local registry, and its use inside a synthesized stack."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import cdktf_digest
import image_digest
from cdktf_digest import PinError, UnresolvedTokenError, pin
from image_digest import InvalidReferenceError, RegistryError, Resolver
from image_digest.pinning.age import stamp
from tests.cdktf.harness import Cdk, resource
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer


def test_pin_returns_the_repo_digest_of_the_pushed_content(
    registry: RegistryServer, unique_repo: str
) -> None:
    digest = registry.push(unique_repo, "v1", build_image("pin one"))

    assert pin(registry.reference(unique_repo, "v1")) == f"{registry.host}/{unique_repo}@{digest}"


def test_pin_selects_a_platform_from_an_index(registry: RegistryServer, unique_repo: str) -> None:
    arm = build_image("pin multi", architecture="arm64")
    index = build_index([build_image("pin multi"), arm])
    registry.push(unique_repo, "multi", index)
    ref = registry.reference(unique_repo, "multi")

    assert pin(ref) == f"{registry.host}/{unique_repo}@{index.digest}"
    assert pin(ref, platform="linux/arm64") == f"{registry.host}/{unique_repo}@{arm.digest}"


def test_pin_leaves_a_digest_reference_alone_without_a_request(resolver: Resolver) -> None:
    ref = "127.0.0.1:9/nothing/here@sha256:" + "a" * 64

    assert pin(ref, resolver=resolver) == ref
    assert resolver.request_count() == 0


def test_pin_output_is_what_the_stack_deploys(
    cdk: Cdk, registry: RegistryServer, unique_repo: str
) -> None:
    digest = registry.push(unique_repo, "latest", build_image("pin in stack"))
    stack = cdk.stack()
    container = cdk.docker("container")
    container.Container(stack, "app", name="app", image=pin(f"{registry.host}/{unique_repo}"))

    synthesized = cdk.synth(stack)

    assert resource(synthesized, "docker_container", "app")["image"] == (
        f"{registry.host}/{unique_repo}@{digest}"
    )


def test_pin_refuses_a_token_and_points_to_registry_digest(cdk: Cdk) -> None:
    stack = cdk.stack()
    image = cdk.lib.TerraformVariable(stack, "image", type="string").string_value

    with pytest.raises(UnresolvedTokenError, match="RegistryDigest") as caught:
        pin(image)
    assert "unresolved CDK token" in str(caught.value)


def test_pin_raises_pin_error_with_the_cores_error_inside() -> None:
    with pytest.raises(PinError, match=r"cdktf_digest\.pin: cannot pin 'Not/Valid:tag'") as caught:
        pin("Not/Valid:tag")

    assert isinstance(caught.value.errors["Not/Valid:tag"], InvalidReferenceError)


def test_pin_fails_when_the_registry_is_unreachable(dead_host: str) -> None:
    with pytest.raises(PinError, match=dead_host) as caught:
        pin(f"{dead_host}/app:v1")

    assert isinstance(caught.value.errors[f"{dead_host}/app:v1"], RegistryError)


def test_one_pin_error_class_and_one_options_rule_in_both_packages(tmp_path: Path) -> None:
    import pulumi_digest

    assert cdktf_digest.PinError is pulumi_digest.PinError is image_digest.PinError
    with pytest.raises(TypeError, match="lock= configure the resolver this library creates"):
        pin("nginx:1.27", resolver=Resolver(), lock=tmp_path / "x.lock")
    with pytest.raises(TypeError, match="mode= configure the resolver this library creates"):
        cdktf_digest.PinImages(resolver=Resolver(), mode="locked")


def test_pin_passes_lock_and_mode_to_the_core(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"
    ref = registry.reference(unique_repo, "v1")
    registry.push(unique_repo, "v1", build_image("locked in"))
    locked = pin(ref, lock=lock)  # mode "resolve" records the lock entry
    registry.push(unique_repo, "v1", build_image("moved on"))

    assert pin(ref, lock=lock, mode="locked") == locked
    assert pin(ref, lock=lock) != locked


def test_pin_warns_when_it_falls_back_to_the_lock(
    own_registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"
    ref = own_registry.reference(unique_repo, "v1")
    own_registry.push(unique_repo, "v1", build_image("pin fallback"))
    locked = pin(ref, lock=lock)
    own_registry.stop()

    with pytest.warns(UserWarning, match="lock"):
        assert pin(ref, lock=lock, mode="fallback") == locked


def test_pin_rejects_lock_options_next_to_a_resolver(resolver: Resolver) -> None:
    with pytest.raises(TypeError, match="resolver="):
        pin("nginx:1.25", resolver=resolver, mode="locked")


def test_pin_min_age_holds_back_with_a_python_warning(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"
    ref = registry.reference(unique_repo, "v1")
    registry.push(unique_repo, "v1", build_image("cdktf age 1"))
    locked = pin(ref, lock=lock)
    fresh = stamp(datetime.now(UTC))
    registry.push(unique_repo, "v1", build_image("cdktf age 2", created=fresh))

    with pytest.warns(UserWarning, match="becomes eligible at"):
        assert pin(ref, lock=lock, min_age="1d") == locked
    with pytest.raises(TypeError, match="min_age"):
        pin(ref, resolver=Resolver(), min_age="1d")
