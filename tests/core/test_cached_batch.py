"""A batch whose answers are all known builds no thread pool: `resolve_many` on pairs already
resolved (a Pulumi transform asks once per resource) costs a dictionary lookup, not threads."""

from __future__ import annotations

from pathlib import Path

import pytest

import image_digest.lookup.batch as batch_module
from image_digest import Resolver
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def test_known_answers_need_no_pool_and_no_request(
    registry: RegistryServer,
    unique_repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    ref = f"{registry.host}/{unique_repo}:v1"
    pools: list[int] = []

    class CountedPool(batch_module.ThreadPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            pools.append(1)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch_module, "ThreadPoolExecutor", CountedPool)
    with Resolver(lock=tmp_path / "image-digest.lock") as resolver:
        assert resolver.resolve_many([ref])[ref].digest == digest
        first = (len(pools), resolver.request_count())
        for _ in range(20):
            assert resolver.resolve_many([ref, f"{ref}@{digest}"])[ref].digest == digest
        assert (len(pools), resolver.request_count()) == first == (1, 2)
