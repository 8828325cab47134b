"""How the lock file is written: through a symlink, keeping its permissions, never into a
directory that does not exist, and not at all for pins that change nothing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from image_digest import LockError, LockFile, Resolver
from image_digest.atomic import atomic_write
from image_digest.pinning.lockfile import LockPin
from tests.support.images import build_image
from tests.support.registry import RegistryServer

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)


def test_a_lock_that_is_a_symlink_stays_one_and_its_target_is_updated(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "image-digest.lock"
    link = tmp_path / "image-digest.lock"
    link.symlink_to(target)

    with Resolver(lock=link) as resolver:
        resolver.resolve(f"{registry.host}/{unique_repo}:v1")

    assert link.is_symlink() and os.readlink(link) == str(target)
    assert [e.digest for e in LockFile(target).entries()] == [digest]


def test_a_lock_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "image-digest.lock"
    lock = LockFile(path)
    lock.record([LockPin("docker.io/library/nginx:1.25", None, DIGEST, None)])
    path.chmod(0o640)

    LockFile(path).record([LockPin("docker.io/library/nginx:1.25", None, OTHER, None)])

    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [e.digest for e in LockFile(path).entries()] == [OTHER]


def test_a_lock_in_a_missing_directory_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    lock = LockFile(missing / "image-digest.lock")

    with pytest.raises(LockError, match=str(missing)):
        lock.record([LockPin("docker.io/library/nginx:1.25", None, DIGEST, None)])

    assert not (tmp_path / "no").exists()


def test_the_cli_names_the_missing_directory_of_lock(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    missing = tmp_path / "ci"
    ref = f"{registry.host}/{unique_repo}:v1"
    done = subprocess.run(
        [sys.executable, "-m", "image_digest", "lock", "--lock", str(missing / "x.lock"), ref],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"{missing} does not exist" in done.stderr
    assert not missing.exists()


def test_unchanged_pins_never_touch_the_file(tmp_path: Path) -> None:
    path = tmp_path / "image-digest.lock"
    pin = LockPin("docker.io/library/nginx:1.25", None, DIGEST, None)
    LockFile(path).record([pin])
    lock = LockFile(path)
    lock.entries()
    path.chmod(0o400)  # a write, or a re-read under the file lock, would now be needed
    Path(f"{path}.flock").unlink(missing_ok=True)

    assert lock.record([pin]) is False
    assert not Path(f"{path}.flock").exists()


def test_atomic_write_keeps_mode_and_writes_through_links(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old\n")
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real.name)  # a relative link

    written = atomic_write(link, "new\n")

    assert written == real.resolve()
    assert link.is_symlink() and real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_atomic_write_refuses_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "out.json", "x")
    assert not (tmp_path / "missing").exists()


def test_the_text_is_jsons_own_however_it_was_built() -> None:
    """`render` reuses each entry's text between writes; the bytes stay `json.dumps`'s."""
    import json

    from image_digest.pinning.lockfile import LOCK_FORMAT, LockEntry, render

    def expected(entries: dict) -> str:
        images = [e.to_json() for _, e in sorted(entries.items())]
        document = {"format": LOCK_FORMAT, "images": images}
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    held = {"sha256:" + "b" * 64: "2026-01-02T00:00:00Z"}
    first = LockEntry("docker.io/library/a:1", None, DIGEST, "x/y", "2026-01-01T00:00:00Z")
    second = LockEntry("docker.io/library/b:1", "linux/arm64", OTHER, None, "t", "r\u00e9v")
    third = LockEntry("docker.io/library/c:1", None, OTHER, None, "t", first_seen=held)
    texts: dict = {}
    assert render({}, texts) == expected({})
    for entries in ({first.key: first}, {e.key: e for e in (first, second, third)}, {}):
        assert render(entries, texts) == expected(entries)
