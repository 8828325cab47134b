"""docs/workflows.md runs as written: every `image-digest` command on the page (and the `cp`
between them) against the local registry, in order, with the exit status the page promises."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from image_digest.pinning.age import stamp
from tests.support.docs import code_blocks
from tests.support.images import build_image

DOC = "docs/workflows.md"
HOST = "registry.example.com"
#: `check` runs after `api:prod` moved, so it exits 1 and shows the change; the rest succeed.
EXPECTED_EXIT = {
    "check": 1,
    "check --json": 1,
    # The second `lock` took the moved tag into staging's lock: production differs.
    "diff environments/prod/image-digest.lock image-digest.lock": 1,
}


def commands() -> list[list[str]]:
    lines = [
        line.removeprefix("$ ")
        for block in code_blocks(DOC, "console")
        for line in block.splitlines()
        if line.startswith(("$ image-digest ", "$ cp "))
    ]
    return [shlex.split(line) for line in lines]


def test_every_image_digest_command_in_workflows_md_runs(registry, tmp_path):
    days_ago = stamp(datetime.now(UTC) - timedelta(days=2))

    def push(repo: str, revision: str, version: str) -> str:
        labels = {
            "org.opencontainers.image.revision": revision,
            "org.opencontainers.image.source": "https://github.com/acme/api",
            "org.opencontainers.image.version": version,
        }
        image = build_image(f"workflows {repo} {revision}", labels=labels, created=days_ago)
        return registry.push(repo, "prod", image)

    push("team/api", "6f1e0c2", "1.4.0")
    push("team/worker", "0a0a0a0", "2.0.0")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGE_DIGEST_")}
    env["DOCKER_CONFIG"] = str(tmp_path / "docker")
    ran: list[str] = []
    for argv in commands():
        argv = [arg.replace(HOST, registry.host) for arg in argv]
        if argv[0] == "cp":
            (tmp_path / argv[2]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / argv[1], tmp_path / argv[2])
            continue
        done = subprocess.run(
            [sys.executable, "-m", "image_digest", *argv[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
            check=False,
        )
        words = " ".join(argv[1:])
        assert done.returncode == EXPECTED_EXIT.get(words, 0), (
            f"{words}\n{done.stdout}{done.stderr}"
        )
        ran.append(argv[1])
        if argv[1] == "lock":  # then the tag moves, so `check` has a change to show
            push("team/api", "a81b2c3", "1.5.0")
        if words == "check":
            assert "compare: https://github.com/acme/api/compare/6f1e0c2...a81b2c3" in done.stdout
        if words == "pins --json":
            assert set(json.loads(done.stdout)) == {
                f"{registry.host}/team/api",
                f"{registry.host}/team/worker",
            }
        if words == "diff image-digest.lock environments/prod/image-digest.lock":
            assert "deploy the same digests (2 repositories)" in done.stderr
        if words == "diff environments/prod/image-digest.lock image-digest.lock":
            assert done.stdout.startswith(f"~ {registry.host}/team/api: sha256:")
    assert sorted(set(ran)) == ["check", "diff", "lock", "pins", "resolve"]
