"""Reads never write: `Resolver.check`, `exists` and `inspect` go through the read-only
`Lookup`, against a real registry and a real lock file, whatever the resolver's mode.

Before the split, `check()` reused the path that records: the first check reported `moved`
and wrote the new digest, so the second said `unchanged`; under `IMAGE_DIGEST_MODE=locked` it
answered `unchanged` from the lock itself, after no request at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from image_digest import LockFile, Resolver
from image_digest.lookup import Lookup
from tests.support.images import build_image
from tests.support.registry import RegistryServer


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)


@pytest.fixture
def moved(registry: RegistryServer, unique_repo: str, tmp_path: Path) -> tuple[Path, str, str]:
    """A lock pinned to v1's first digest, and the tag pushed again since: (lock, old, new)."""
    lock = tmp_path / "image-digest.lock"
    ref = f"{registry.host}/{unique_repo}:v1"
    old = registry.push(unique_repo, "v1", build_image(f"{unique_repo} old"))
    with Resolver(lock=lock) as resolver:
        assert resolver.resolve(ref).digest == old
    new = registry.push(unique_repo, "v1", build_image(f"{unique_repo} new"))
    return lock, old, new


def test_check_reports_a_moved_tag_every_time_and_leaves_the_lock_as_it_was(moved):
    lock, old, new = moved
    before = lock.read_bytes()
    with Resolver(lock=lock) as resolver:
        first = resolver.check()
        second = resolver.check()
        assert lock.read_bytes() == before
        # The same resolver still pins, and records, when asked to.
        assert resolver.resolve(first[0].entry.reference).digest == new

    assert [(f.status, f.entry.digest, f.current) for f in first] == [("moved", old, new)]
    assert [(f.status, f.entry.digest, f.current) for f in second] == [("moved", old, new)]
    with Resolver(lock=lock) as again:
        assert [f.status for f in again.check()] == ["unchanged"]


def test_check_asks_the_registry_even_when_the_environment_says_locked(moved, monkeypatch):
    lock, old, new = moved
    before = lock.read_bytes()
    monkeypatch.setenv("IMAGE_DIGEST_MODE", "locked")
    monkeypatch.setenv("IMAGE_DIGEST_LOCK", str(lock))
    with Resolver() as resolver:
        assert resolver.mode == "locked"
        findings = resolver.check()
        assert resolver.request_count() > 0
    assert [(f.status, f.entry.digest, f.current) for f in findings] == [("moved", old, new)]
    assert lock.read_bytes() == before


def test_checking_existence_writes_nothing(moved):
    lock, old = moved[:2]
    before = lock.read_bytes()
    with Resolver(lock=lock) as resolver:
        findings = resolver.check(verify_exists=True)
        name = findings[0].entry.reference.rsplit(":", 1)[0]
        assert resolver.exists(f"{name}@{old}") is True
    assert [f.status for f in findings] == ["present"]
    assert lock.read_bytes() == before


def test_the_lookup_holds_no_lock_file(moved):
    """Safe by construction: nothing the lookup holds is a lock file or can reach one."""
    lock = moved[0]
    with Resolver(lock=lock) as resolver:
        lookup = resolver.lookup
        assert isinstance(lookup, Lookup)
        assert not any(isinstance(value, LockFile) for value in vars(lookup).values())
        assert resolver.policy.lock is resolver.lock
