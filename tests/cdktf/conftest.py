"""Fixtures for the CDK for Terraform adapter, run once per framework (cdktf and cdktn).

Both frameworks load into one jsii kernel, so one pytest process tests both. This directory
has no `__init__.py` on purpose: as a package it would shadow the real `cdktf` module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Read by jsii's node process and by Terraform when they start: set before either runs.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("TF_CLI_CONFIG_FILE", os.devnull)
os.environ.setdefault("CHECKPOINT_DISABLE", "1")

from image_digest import Resolver
from tests.cdktf.harness import FLAVORS, Cdk, TerraformWorkdir
from tests.support.registry import RegistryServer, free_port, require_tools


@pytest.fixture(params=FLAVORS, scope="session")
def cdk(request: pytest.FixtureRequest) -> Cdk:
    """The framework under test: every test that uses it runs with cdktf and with cdktn."""
    return Cdk(request.param)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user docker config, lock file or mode leaks into a test."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)


@pytest.fixture
def resolver() -> Iterator[Resolver]:
    with Resolver() as shared:
        yield shared


@pytest.fixture
def quick_resolver() -> Iterator[Resolver]:
    """No retries: an outage fails in milliseconds instead of after the core's backoff."""
    with Resolver(retries=0) as quick:
        yield quick


@pytest.fixture
def own_registry() -> Iterator[RegistryServer]:
    """A registry this test may stop and start without disturbing the shared one."""
    require_tools()
    with RegistryServer("plain") as server:
        yield server


@pytest.fixture
def dead_host() -> str:
    """`127.0.0.1:PORT` with nothing listening: connections are refused at once."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture
def workdir(cdk: Cdk, tmp_path: Path) -> TerraformWorkdir:
    return TerraformWorkdir(cdk, tmp_path)
