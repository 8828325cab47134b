"""`check --exists` costs what a batch costs: one token request per registry for all its
repositories, then one HEAD per locked digest (before, a token per repository)."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_digest import LockFile, Resolver
from tests.support.images import build_image
from tests.support.registry import RegistryServer


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)


def test_existence_of_many_repositories_asks_for_one_token(
    token_registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    tokens = token_registry.token_server
    assert tokens is not None
    lock = LockFile(tmp_path / "image-digest.lock")
    pins = []
    for n in range(4):
        repo = f"{unique_repo}/r{n}"
        digest = token_registry.push(repo, "v1", build_image(f"{repo} v1"))
        pins.append((f"{token_registry.host}/{repo}:v1", None, digest, None))
    lock.record(pins)
    before = len(tokens.token_requests())

    with Resolver(lock=lock.path) as resolver:
        findings = resolver.check(verify_exists=True)

    assert [f.status for f in findings] == ["present"] * 4
    assert len(tokens.token_requests()) - before == 1
