"""Pulumi-specific fixtures. The engine stand-in lives in `harness/`; registries come from the
top-level conftest (real docker-registry processes on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_digest import Resolver
from tests.pulumi.harness.outage import LockedImage
from tests.pulumi.harness.provider_process import DynamicProviderProcess
from tests.support.images import build_image
from tests.support.registry import RegistryServer, require_tools


@pytest.fixture(autouse=True)
def isolated_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty docker config and no lock/mode from the caller's environment."""
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(json.dumps({"auths": {}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)
    return config_dir


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """The directory the engine would run the program and its provider plugins in."""
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture
def provider_process(project_dir: Path) -> Iterator[DynamicProviderProcess]:
    """A fresh `python -m pulumi.dynamic` per test, as the engine starts one per deployment."""
    with DynamicProviderProcess(project_dir) as process:
        yield process


@pytest.fixture
def fast_resolver() -> Resolver:
    """A real resolver that gives up on an unreachable registry at once (no retries)."""
    return Resolver(retries=0)


@pytest.fixture
def locked_then_down(
    outage_registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> LockedImage:
    """Push, lock (mode "resolve" records it), then stop the registry: an outage with a lock."""
    lock = tmp_path / "image-digest.lock"
    digest = outage_registry.push(unique_repo, "v1", build_image(unique_repo))
    reference = outage_registry.reference(unique_repo, "v1")
    with Resolver(lock=lock) as resolver:
        resolver.resolve(reference)
    outage_registry.stop()
    return LockedImage(lock, reference, digest, f"{outage_registry.host}/{unique_repo}@{digest}")


@pytest.fixture
def outage_registry() -> Iterator[RegistryServer]:
    """A private registry a test may stop and start without disturbing the shared one."""
    require_tools()
    with RegistryServer("plain") as server:
        yield server
