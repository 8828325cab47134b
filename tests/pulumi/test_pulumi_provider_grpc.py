"""The DigestImage provider for real: `python -m pulumi.dynamic` started as the engine starts
it, driven over gRPC with the provider serialized the way the SDK serializes it."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import plugin_pb2, provider_pb2

from pulumi_digest import DigestImageProvider
from tests.pulumi.harness.provider_process import DynamicProviderProcess, from_struct
from tests.support.images import build_image
from tests.support.registry import RegistryServer

URN = "urn:pulumi:dev::project::pulumi-python:dynamic/pulumi-digest:DigestImage::app"
NO_CHANGE = provider_pb2.DiffResponse.DIFF_NONE
CHANGE = provider_pb2.DiffResponse.DIFF_SOME


@pytest.fixture
def provider_blob() -> str:
    return str(serialize_provider(DigestImageProvider()))


def checked(
    process: DynamicProviderProcess, news: dict[str, Any], olds: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = process.check(URN, olds or {}, news)
    assert list(response.failures) == []
    return from_struct(response.inputs)


def test_check_diff_create_update_read(
    provider_process: DynamicProviderProcess,
    provider_blob: str,
    registry: RegistryServer,
    unique_repo: str,
) -> None:
    reference = registry.reference(unique_repo, "v1")
    news = {"image": reference, "__provider": provider_blob}
    first = registry.push(unique_repo, "v1", build_image("first"))

    # First deployment: Check resolves (so a preview would show it), Create records it.
    inputs = checked(provider_process, news)
    assert inputs["digest"] == first
    assert inputs["repo_digest"] == f"{registry.host}/{unique_repo}@{first}"
    created = provider_process.create(URN, inputs)
    state = from_struct(created.properties)
    assert created.id == reference
    assert state["digest"] == first and state["__provider"] == provider_blob

    # The same content pushed again: same digest, no diff.
    assert registry.push(unique_repo, "v1", build_image("first")) == first
    again = checked(provider_process, news, olds=inputs)
    diff = provider_process.diff(URN, created.id, state, again)
    assert diff.changes == NO_CHANGE
    assert list(diff.replaces) == []

    # New content: a change, on the digest, never a replacement.
    second = registry.push(unique_repo, "v1", build_image("second"))
    moved = checked(provider_process, news, olds=again)
    assert moved["digest"] == second
    diff = provider_process.diff(URN, created.id, state, moved)
    assert diff.changes == CHANGE
    assert list(diff.replaces) == []
    assert {k for k in moved if moved[k] != state.get(k)} == {"digest", "repo_digest"}
    updated = from_struct(provider_process.update(URN, created.id, state, moved).properties)
    assert updated["digest"] == second

    # Refresh after the tag moves again: Read asks the registry, not the state.
    third = registry.push(unique_repo, "v1", build_image("third"))
    read = provider_process.read(URN, created.id, updated)
    assert read.id == created.id
    assert from_struct(read.properties)["digest"] == third
    assert from_struct(read.inputs)["digest"] == third


def test_platform_or_image_change_is_an_update_not_a_replacement(
    provider_process: DynamicProviderProcess,
    provider_blob: str,
    registry: RegistryServer,
    unique_repo: str,
) -> None:
    digest = registry.push(unique_repo, "a", build_image(unique_repo))
    registry.push(unique_repo, "b", build_image(unique_repo))
    old = checked(
        provider_process,
        {"image": registry.reference(unique_repo, "a"), "__provider": provider_blob},
    )
    new = checked(
        provider_process,
        {"image": registry.reference(unique_repo, "b"), "__provider": provider_blob},
        olds=old,
    )
    assert new["digest"] == old["digest"] == digest

    diff = provider_process.diff(URN, "id", {**old, "__provider": provider_blob}, new)

    assert diff.changes == CHANGE
    assert list(diff.replaces) == []


def test_unknown_image_is_resolved_later(
    provider_process: DynamicProviderProcess, provider_blob: str
) -> None:
    inputs = checked(provider_process, {"image": rpc.UNKNOWN, "__provider": provider_blob})
    assert "digest" not in inputs and isinstance(inputs["image"], Unknown)

    diff = provider_process.diff(
        URN, "id", {"image": "old:v1", "digest": "sha256:" + "0" * 64}, inputs
    )
    assert diff.changes == CHANGE


def test_check_reports_the_core_error_on_the_image_property(
    provider_process: DynamicProviderProcess, provider_blob: str
) -> None:
    response = provider_process.check(
        URN, {}, {"image": "UPPER/Case:v1", "__provider": provider_blob}
    )

    [failure] = response.failures
    assert failure.property == "image"
    assert "invalid image reference 'UPPER/Case:v1'" in failure.reason


def test_plugin_info(provider_process: DynamicProviderProcess) -> None:
    assert provider_process.stub.GetPluginInfo(plugin_pb2.PluginInfo()).version
