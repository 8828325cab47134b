"""`pin-vars` writes nothing at all unless it succeeds, the lock file included, and writes its
output as `atomic_write` does: permissions kept, symlinks written through."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from image_digest import LockFile
from tests.audit.cli import run_cli
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def variables_file(tmp_path: Path, variables: dict[str, object]) -> Path:
    path = tmp_path / "images.tfvars.json"
    path.write_text(json.dumps(variables))
    return path


def test_a_failure_midway_leaves_the_lock_and_the_output_untouched(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    good = f"{registry.host}/{unique_repo}:v1"
    registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    path = variables_file(
        tmp_path, {"app_image": good, "worker_image": f"{registry.host}/{unique_repo}:gone"}
    )
    lock, out = tmp_path / "image-digest.lock", tmp_path / "pinned.auto.tfvars.json"
    out.write_text('{"previous": "run"}\n')

    done = run_cli("pin-vars", path, "-o", out, "--lock", lock)

    assert done.returncode == 1, done.stderr
    assert "nothing was written" in done.stderr
    assert not lock.exists()
    assert out.read_text() == '{"previous": "run"}\n'


def test_an_existing_lock_is_not_touched_when_an_image_fails(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    first = registry.push(unique_repo, "v1", build_image(f"{unique_repo} first"))
    good = f"{registry.host}/{unique_repo}:v1"
    lock = tmp_path / "image-digest.lock"
    assert run_cli("lock", "--lock", lock, good).returncode == 0
    before = lock.read_bytes()
    registry.push(unique_repo, "v1", build_image(f"{unique_repo} second"))
    path = variables_file(
        tmp_path, {"app_image": good, "worker_image": f"{registry.host}/{unique_repo}:gone"}
    )

    done = run_cli("pin-vars", path, "--lock", lock)

    assert done.returncode == 1 and done.stdout == ""
    assert lock.read_bytes() == before
    assert [e.digest for e in LockFile(lock).entries()] == [first]


def test_an_output_that_cannot_be_written_leaves_the_lock_unwritten(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    path = variables_file(tmp_path, {"app_image": f"{registry.host}/{unique_repo}:v1"})
    lock, out = tmp_path / "image-digest.lock", tmp_path / "missing" / "out.tfvars.json"

    done = run_cli("pin-vars", path, "-o", out, "--lock", lock)

    assert done.returncode == 2, done.stderr
    assert str(out.parent) in done.stderr and "nothing was written" in done.stderr
    assert not lock.exists() and not out.parent.exists()


def test_success_writes_the_output_and_then_records_the_pins(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    ref = f"{registry.host}/{unique_repo}:v1"
    path = variables_file(tmp_path, {"app_image": ref})
    lock, out = tmp_path / "image-digest.lock", tmp_path / "out.tfvars.json"

    done = run_cli("pin-vars", path, "-o", out, "--lock", lock)

    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text()) == {"app_image": f"{registry.host}/{unique_repo}@{digest}"}
    assert [e.digest for e in LockFile(lock).entries()] == [digest]


def test_a_private_output_stays_private_and_a_symlink_stays_a_link(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    """The output holds every variable, secrets included: 0600 stays 0600."""
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    path = variables_file(tmp_path, {"app_image": f"{registry.host}/{unique_repo}:v1"})
    real = tmp_path / "secrets" / "out.tfvars.json"
    real.parent.mkdir()
    real.write_text("{}\n")
    real.chmod(0o600)
    link = tmp_path / "out.tfvars.json"
    link.symlink_to(real)

    done = run_cli("pin-vars", path, "-o", link)

    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert digest in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
