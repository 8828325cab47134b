"""`check --json` and `lock --json` describe an unchanged entry's current digest too: it is the
locked digest, so its revision, source, version and created are the locked ones (a digest is
content-addressed), not nulls a dashboard would read as "unknown"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.images import build_image
from tests.support.registry import RegistryServer

LABELS = {
    "org.opencontainers.image.revision": "1111111",
    "org.opencontainers.image.source": "https://github.com/acme/app",
    "org.opencontainers.image.version": "1.4.2",
}


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGE_DIGEST_")}
    return subprocess.run(
        [sys.executable, "-m", "image_digest", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**env, "DOCKER_CONFIG": str(tmp_path / "docker")},
        check=False,
    )


def test_unchanged_entries_carry_their_current_fields(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    digest = registry.push(unique_repo, "v1", build_image("labelled", labels=LABELS))
    ref = f"{registry.host}/{unique_repo}:v1"
    assert run(tmp_path, "lock", "--labels", ref).returncode == 0

    checked = run(tmp_path, "check", "--json")
    relocked = run(tmp_path, "lock", "--json", ref)

    assert checked.returncode == 0, checked.stderr
    assert relocked.returncode == 0, relocked.stderr
    for finding in (json.loads(checked.stdout)[0], json.loads(relocked.stdout)[0]):
        assert finding["status"] == "unchanged"
        assert finding["current_digest"] == finding["locked_digest"] == digest
        assert finding["current_revision"] == finding["locked_revision"] == "1111111"
        assert finding["current_source"] == "https://github.com/acme/app"
        assert finding["current_version"] == "1.4.2"
