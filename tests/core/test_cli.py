"""The `image-digest` CLI, run as a real subprocess against a real registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.images import build_image, build_index


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "image_digest", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_resolve_prints_ref_tab_repo_digest(registry, unique_repo, tmp_path):
    pushed = registry.push(unique_repo, "v1", build_image("cli"))
    ref = f"{registry.host}/{unique_repo}:v1"

    done = run_cli("resolve", ref, env={"DOCKER_CONFIG": str(tmp_path)})

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{ref}\t{registry.host}/{unique_repo}@{pushed}\n"


def test_resolve_json_and_platform(registry, unique_repo):
    arm = build_image("cli arm", architecture="arm64", variant="v8")
    registry.push(unique_repo, "multi", build_index([build_image("cli amd"), arm]))
    ref = f"{registry.host}/{unique_repo}:multi"

    done = run_cli("resolve", "--json", "--platform", "linux/arm64", ref)

    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout)
    assert entry["digest"] == arm.digest
    assert entry["platform"] == "linux/arm64"
    assert entry["reference"] == ref


def test_one_failure_gives_exit_1_and_one_line_per_error(registry, unique_repo):
    pushed = registry.push(unique_repo, "v1", build_image("partial"))
    good = f"{registry.host}/{unique_repo}:v1"
    missing = f"{registry.host}/{unique_repo}:nope"

    done = run_cli("resolve", good, missing)

    assert done.returncode == 1
    assert done.stdout == f"{good}\t{registry.host}/{unique_repo}@{pushed}\n"
    [line] = done.stderr.strip().splitlines()
    assert missing in line and line.startswith("image-digest: error: ")
    assert "Traceback" not in done.stderr


def test_a_bad_reference_is_a_usage_error_and_nothing_resolves(registry, unique_repo):
    registry.push(unique_repo, "v1", build_image("bad beside good"))
    good = f"{registry.host}/{unique_repo}:v1"

    done = run_cli("resolve", good, "UPPER")

    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert "'UPPER'" in line and "lowercase" in line and "nothing was resolved" in line
    assert "Traceback" not in done.stderr


def test_version_and_usage_errors():
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("image-digest ")
    usage = run_cli("resolve")
    assert usage.returncode == 2 and "REF" in usage.stderr
    bad_platform = run_cli("resolve", "--platform", "linux", "nginx@sha256:" + "a" * 64)
    assert bad_platform.returncode == 2
    assert "os/arch" in bad_platform.stderr and "Traceback" not in bad_platform.stderr
