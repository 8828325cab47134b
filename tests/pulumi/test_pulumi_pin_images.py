"""`pin_images`: the stack transform pins every image field of every known resource type, in
previews and updates, concurrently, leaving digests, skipped prefixes and unknowns alone."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from fnmatch import fnmatchcase

import pulumi
import pulumi_docker as docker
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc

from image_digest import ResolvedImage, Resolver
from image_digest.fields.paths import find_images
from pulumi_digest import IMAGE_FIELDS, pin_images
from tests.pulumi.harness.engine import UNKNOWN, EngineError
from tests.pulumi.harness.network import UNREACHABLE
from tests.pulumi.harness.outage import LockedImage
from tests.pulumi.harness.program import run_program
from tests.pulumi.resource_builders import BUILDERS, NAME
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer

PREVIEW = pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])


class Pushed:
    """Three tags with distinct content: `refs` to deploy, `pinned` what they must become."""

    def __init__(self, registry: RegistryServer, repo: str) -> None:
        self.refs: list[str] = []
        self.pinned: dict[str, str] = {}
        for role in ("main", "init", "extra"):
            digest = registry.push(repo, role, build_image(f"{repo}/{role}"))
            self.refs.append(registry.reference(repo, role))
            self.pinned[self.refs[-1]] = f"{registry.host}/{repo}@{digest}"


@pytest.fixture
def pushed(registry: RegistryServer, unique_repo: str) -> Pushed:
    return Pushed(registry, unique_repo)


def images_of(type_: str, inputs: dict[str, object]) -> list[str]:
    return find_images(inputs, IMAGE_FIELDS[type_])


def test_every_builtin_type_has_a_builder() -> None:
    """Every type (or pattern: `kubernetes:*`) of the table has a builder, and every builder
    a type the table covers; other Kubernetes kinds: tests/pulumi/test_pulumi_shapes.py."""
    covered = {t for t in IMAGE_FIELDS if not t.endswith("Patch")}
    assert {t for t in covered if not any(fnmatchcase(b, t) for b in BUILDERS)} == set()
    assert all(IMAGE_FIELDS.get(b) for b in BUILDERS)


@PREVIEW
@pytest.mark.parametrize("type_", sorted(BUILDERS))
def test_every_image_field_is_pinned(pushed: Pushed, type_: str, preview: bool) -> None:
    def program() -> None:
        pin_images()
        BUILDERS[type_](*pushed.refs)

    subject = run_program(program, preview=preview)[NAME]

    assert subject.type == type_
    found = images_of(type_, subject.inputs)
    assert found, f"{type_}: no image at {IMAGE_FIELDS[type_]}"
    expected = [pushed.pinned[r] for r in pushed.refs if pushed.pinned[r] in found]
    assert sorted(found) == sorted(expected)
    assert pushed.pinned[pushed.refs[0]] in found  # the main container, always


def test_server_side_apply_patches_are_pinned(pushed: Pushed) -> None:
    def program() -> None:
        pin_images()
        k8s.apps.v1.DeploymentPatch(
            NAME,
            metadata={"name": "web"},
            spec={"template": {"spec": {"containers": [{"name": "a", "image": pushed.refs[0]}]}}},
        )

    subject = run_program(program, preview=True)[NAME]

    assert images_of(subject.type, subject.inputs) == [pushed.pinned[pushed.refs[0]]]


def test_digests_skipped_prefixes_and_unknowns_are_left_alone() -> None:
    digest_ref = f"{UNREACHABLE}/app@sha256:{'b' * 64}"
    skipped = f"{UNREACHABLE}/mirror/app:v1"
    resolver = Resolver(retries=0)

    def program() -> None:
        pin_images(resolver=resolver, skip_prefixes=[f"{UNREACHABLE}/mirror/"])
        # A provider-computed output: unknown during a preview (the pull itself is skipped).
        unknown = docker.RemoteImage("base", name=skipped).repo_digest
        k8s.core.v1.Pod(
            NAME,
            spec={
                "containers": [
                    {"name": "a", "image": digest_ref},
                    {"name": "b", "image": skipped},
                    {"name": "c", "image": unknown},
                ]
            },
        )

    subject = run_program(program, preview=True)[NAME]

    assert images_of(subject.type, subject.inputs) == [digest_ref, skipped, UNKNOWN]
    assert resolver.request_count() == 0


def test_secret_properties_stay_secret(pushed: Pushed) -> None:
    def program() -> None:
        pin_images()
        gcp.cloudrunv2.Service(
            NAME,
            location="europe-west1",
            template=gcp.cloudrunv2.ServiceTemplateArgs(
                containers=[
                    gcp.cloudrunv2.ServiceTemplateContainerArgs(
                        image=pushed.refs[0],
                        envs=[
                            gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(
                                name="TOKEN", value=pulumi.Output.secret("s3cr3t")
                            )
                        ],
                    )
                ]
            ),
        )

    subject = run_program(program, preview=False)[NAME]

    assert images_of(subject.type, subject.inputs) == [pushed.pinned[pushed.refs[0]]]
    assert rpc.is_rpc_secret(subject.raw_inputs["template"])
    assert not rpc.is_rpc_secret(subject.raw_inputs["location"])


def test_user_fields_extend_the_table(pushed: Pushed) -> None:
    def program() -> None:
        pin_images(fields={"acme:index:App": ["spec.image", "spec.sidecars[].image"]})
        pulumi.ComponentResource(
            "acme:index:App",
            NAME,
            props={"spec": {"image": pushed.refs[0], "sidecars": [{"image": pushed.refs[1]}]}},
        )

    subject = run_program(program, preview=True)[NAME]

    assert subject.inputs["spec"] == {
        "image": pushed.pinned[pushed.refs[0]],
        "sidecars": [{"image": pushed.pinned[pushed.refs[1]]}],
    }


class RendezvousResolver(Resolver):
    """A real resolver whose batches wait for each other: it only gets past the barrier if
    `parties` resources are being resolved at the same time (never when serialized)."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=30)

    def resolve_many(
        self, refs: Iterable[str], platform: str | None = None
    ) -> dict[str, ResolvedImage]:
        self.barrier.wait()
        return super().resolve_many(refs, platform)


def test_resources_resolve_concurrently(registry: RegistryServer, unique_repo: str) -> None:
    count = 4
    refs = []
    for i in range(count):
        registry.push(unique_repo, f"v{i}", build_image(f"{unique_repo}/{i}"))
        refs.append(registry.reference(unique_repo, f"v{i}"))
    resolver = RendezvousResolver(count)

    def program() -> None:
        pin_images(resolver=resolver)
        for i, ref in enumerate(refs):
            docker.Container(f"c{i}", image=ref)

    deployment = run_program(program, preview=True)

    assert deployment.max_transforms_in_flight >= count
    assert all("@sha256:" in deployment[f"c{i}"].inputs["image"] for i in range(count))


def test_invalid_reference_fails_naming_the_resource() -> None:
    def program() -> None:
        pin_images()
        k8s.apps.v1.Deployment(
            "web",
            spec={
                "selector": {"match_labels": {"a": "b"}},
                "template": {"spec": {"containers": [{"name": "a", "image": "UPPER/Case:v1"}]}},
            },
        )

    with pytest.raises(EngineError) as caught:
        run_program(program, preview=True)

    message = str(caught.value)
    assert "kubernetes:apps/v1:Deployment 'web': cannot pin 'UPPER/Case:v1'" in message
    assert "invalid image reference 'UPPER/Case:v1'" in message


def test_unreachable_registry_fails_naming_the_resource(fast_resolver: Resolver) -> None:
    def program() -> None:
        pin_images(resolver=fast_resolver)
        docker.Container("db", image=f"{UNREACHABLE}/postgres:16")

    with pytest.raises(EngineError) as caught:
        run_program(program, preview=False)

    message = str(caught.value)
    assert "docker:index/container:Container 'db': cannot pin" in message
    assert f"registry {UNREACHABLE} is unreachable" in message
    assert "refusing to deploy by tag instead" in message


def test_fallback_warns_naming_the_resource(locked_then_down: LockedImage) -> None:
    lock, reference = locked_then_down.lock, locked_then_down.reference

    def program() -> None:
        pin_images(resolver=Resolver(lock=lock, mode="fallback", retries=0))
        docker.Container("app", image=reference)

    deployment = run_program(program, preview=True)

    assert deployment["app"].inputs["image"] == locked_then_down.pinned
    assert any("'app'" in w and reference in w and str(lock) in w for w in deployment.warnings)


def test_lock_and_mode_pass_through(locked_then_down: LockedImage) -> None:
    lock, reference = locked_then_down.lock, locked_then_down.reference

    def program() -> None:
        pin_images(lock=lock, mode="locked")
        docker.Container("app", image=reference)

    deployment = run_program(program, preview=True)

    assert deployment["app"].inputs["image"] == locked_then_down.pinned


def test_mode_from_the_environment(
    locked_then_down: LockedImage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock, reference = locked_then_down.lock, locked_then_down.reference
    monkeypatch.setenv("IMAGE_DIGEST_MODE", "locked")
    monkeypatch.setenv("IMAGE_DIGEST_LOCK", str(lock))

    def program() -> None:
        pin_images()
        docker.Container("app", image=reference)

    deployment = run_program(program, preview=True)

    assert deployment["app"].inputs["image"] == locked_then_down.pinned


def test_platform_applies_to_every_image(registry: RegistryServer, unique_repo: str) -> None:
    amd64 = build_image(unique_repo, architecture="amd64")
    arm64 = build_image(unique_repo, architecture="arm64")
    for child in (amd64, arm64):
        registry.push(unique_repo, child.digest, child)
    registry.push(unique_repo, "multi", build_index([amd64, arm64]))

    def program() -> None:
        pin_images(platform="linux/arm64")
        docker.Container("app", image=registry.reference(unique_repo, "multi"))

    deployment = run_program(program, preview=True)

    assert deployment["app"].inputs["image"] == f"{registry.host}/{unique_repo}@{arm64.digest}"
