"""`pin`: known images resolve while the program runs (so previews see digests), Outputs once
known; digests pass through; failures stop the program and never fall back to the tag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pulumi
import pulumi_docker as docker
import pytest
from pulumi.runtime.mocks import MockResourceArgs

from image_digest import Resolver
from image_digest.pinning.age import stamp
from pulumi_digest import pin
from tests.pulumi.harness.engine import UNKNOWN
from tests.pulumi.harness.network import UNREACHABLE
from tests.pulumi.harness.outage import LockedImage
from tests.pulumi.harness.program import EchoMocks, run_program
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer

PREVIEW = pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])


@PREVIEW
def test_known_image_resolves_in_preview_and_up(
    registry: RegistryServer, unique_repo: str, preview: bool
) -> None:
    digest = registry.push(unique_repo, "v1", build_image(unique_repo))
    reference = registry.reference(unique_repo, "v1")

    def program() -> None:
        docker.Container("app", image=pin(reference))

    deployment = run_program(program, preview=preview)

    assert deployment["app"].inputs["image"] == f"{registry.host}/{unique_repo}@{digest}"


class PushedLaterMocks(EchoMocks):
    """`imageName` is computed by the provider: unknown in a preview, known after create."""

    def __init__(self, preview: bool, image_name: str) -> None:
        super().__init__()
        self.preview, self.image_name = preview, image_name

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        id_, outputs = super().new_resource(args)
        if args.typ == "docker:index/image:Image":
            outputs.pop("imageName", None)
            if not self.preview:
                outputs["imageName"] = self.image_name
        return id_, outputs


@PREVIEW
def test_output_image_resolves_once_known(
    registry: RegistryServer, unique_repo: str, preview: bool
) -> None:
    digest = registry.push(unique_repo, "latest", build_image(unique_repo))
    reference = registry.reference(unique_repo)

    def program() -> None:
        image = docker.Image("built", image_name=reference, build={"context": "."})
        docker.Container("app", image=pin(image.image_name))

    deployment = run_program(program, preview=preview, mocks=PushedLaterMocks(preview, reference))

    expected = UNKNOWN if preview else f"{registry.host}/{unique_repo}@{digest}"
    assert deployment["app"].inputs["image"] == expected


def test_digest_reference_passes_through_without_network() -> None:
    pinned = f"{UNREACHABLE}/app@sha256:{'a' * 64}"
    resolver = Resolver(retries=0)

    def program() -> None:
        docker.Container("app", image=pin(pinned, resolver=resolver))

    deployment = run_program(program, preview=True)

    assert deployment["app"].inputs["image"] == pinned
    assert resolver.request_count() == 0


def test_platform_picks_the_child_of_an_index(registry: RegistryServer, unique_repo: str) -> None:
    amd64 = build_image(unique_repo, architecture="amd64")
    arm64 = build_image(unique_repo, architecture="arm64")
    for child in (amd64, arm64):
        registry.push(unique_repo, child.digest, child)
    registry.push(unique_repo, "multi", build_index([amd64, arm64]))

    def program() -> None:
        docker.Container(
            "app", image=pin(registry.reference(unique_repo, "multi"), platform="linux/arm64")
        )

    deployment = run_program(program, preview=True)

    assert deployment["app"].inputs["image"] == f"{registry.host}/{unique_repo}@{arm64.digest}"


def test_invalid_reference_fails_naming_the_resource() -> None:
    def program() -> None:
        docker.Container("app", image=pin("Not A Reference!"))

    with pytest.raises(ValueError, match="While processing resource: 'app'") as caught:
        run_program(program, preview=True)

    assert "invalid image reference 'Not A Reference!'" in str(caught.value)
    assert "pulumi_digest.pin: cannot pin 'Not A Reference!'" in str(caught.value)
    assert "refusing to deploy by tag instead" in str(caught.value)


def test_unreachable_registry_fails_and_never_falls_back_to_the_tag(
    fast_resolver: Resolver,
) -> None:
    registered: list[str] = []

    class Recording(EchoMocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            registered.append(args.name)
            return super().new_resource(args)

    def program() -> None:
        docker.Container("app", image=pin(f"{UNREACHABLE}/app:v1", resolver=fast_resolver))

    with pytest.raises(ValueError, match="While processing resource: 'app'") as caught:
        run_program(program, preview=True, mocks=Recording())

    assert f"registry {UNREACHABLE} is unreachable" in str(caught.value)
    assert "refusing to deploy by tag instead" in str(caught.value)
    assert registered == []


def test_locked_mode_reads_the_lock_without_the_registry(locked_then_down: LockedImage) -> None:
    lock, reference = locked_then_down.lock, locked_then_down.reference

    def program() -> None:
        docker.Container("app", image=pin(reference, lock=lock, mode="locked"))

    deployment = run_program(program, preview=True)

    assert deployment["app"].inputs["image"] == locked_then_down.pinned


def test_fallback_uses_the_lock_and_warns(locked_then_down: LockedImage) -> None:
    lock, reference = locked_then_down.lock, locked_then_down.reference
    resolver = Resolver(lock=lock, mode="fallback", retries=0)

    def program() -> None:
        docker.Container("app", image=pin(reference, resolver=resolver))

    deployment = run_program(program, preview=False)

    assert deployment["app"].inputs["image"] == locked_then_down.pinned
    assert any(reference in w and str(lock) in w for w in deployment.warnings)


def test_resolver_and_lock_options_are_exclusive(tmp_path: Path) -> None:
    """The same rule, and the same TypeError, as every entry point in both packages."""
    with pytest.raises(TypeError, match="lock= configure the resolver this library creates"):
        pin("nginx:1.27", resolver=Resolver(), lock=tmp_path / "x.lock")


def test_pinned_value_is_what_the_program_sees(registry: RegistryServer, unique_repo: str) -> None:
    digest = registry.push(unique_repo, "v1", build_image(unique_repo))
    seen: list[str] = []

    def program() -> None:
        pin(registry.reference(unique_repo, "v1")).apply(seen.append)
        pulumi.export("image", "done")

    run_program(program, preview=True)

    assert seen == [f"{registry.host}/{unique_repo}@{digest}"]


def test_min_age_holds_a_fresh_push_back_and_warns(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"
    reference = registry.reference(unique_repo, "v1")
    old = registry.push(unique_repo, "v1", build_image("pulumi age 1"))
    Resolver(lock=lock).resolve(reference)
    fresh = datetime.now(UTC) - timedelta(minutes=1)
    new = registry.push(unique_repo, "v1", build_image("pulumi age 2", created=stamp(fresh)))

    def program() -> None:
        docker.Container("held", image=pin(reference, lock=lock, min_age="1h"))
        docker.Container("taken", image=pin(reference, lock=lock, min_age=timedelta(0)))

    deployment = run_program(program, preview=True)

    assert deployment["held"].inputs["image"] == f"{registry.host}/{unique_repo}@{old}"
    assert deployment["taken"].inputs["image"] == f"{registry.host}/{unique_repo}@{new}"
    assert any(new in w and "becomes eligible at" in w for w in deployment.warnings)
    with pytest.raises(TypeError, match="min_age= configure the resolver"):
        pin(reference, resolver=Resolver(), min_age="1h")
