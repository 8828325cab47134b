"""`image-digest lock` and `image-digest check`, run as real subprocesses against a registry."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from image_digest import LockFile
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer, require_tools

REVISION = "org.opencontainers.image.revision"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IMAGE_DIGEST_")}
    return {**clean, "DOCKER_CONFIG": str(tmp_path / "docker")}


@pytest.fixture
def run(tmp_path, env):
    """Run `python -m image_digest ARGS` in tmp_path (so ./image-digest.lock lands there)."""

    def run_cli(
        *args: str, stdin: str | None = None, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "image_digest", *args],
            capture_output=True,
            text=True,
            input=stdin,
            timeout=120,
            cwd=tmp_path,
            env={**env, **(extra_env or {})},
            check=False,
        )

    return run_cli


@pytest.fixture
def lock(tmp_path) -> Path:
    return tmp_path / "image-digest.lock"


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


# --- lock -------------------------------------------------------------------------------------


def test_lock_records_to_the_default_path_and_is_idempotent(registry, unique_repo, run, lock):
    a = registry.push(unique_repo, "a", build_image("cli a"))
    b = registry.push(unique_repo, "b", build_image("cli b"))
    ref_a, ref_b = (f"{registry.host}/{unique_repo}:{t}" for t in "ab")

    first = run("lock", ref_b, ref_a)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"{ref_a}: {a} (added)", f"{ref_b}: {b} (added)"]
    assert "2 added" in first.stderr
    assert [(e.reference, e.digest) for e in LockFile(lock).entries()] == [(ref_a, a), (ref_b, b)]
    before = snapshot(lock)

    again = run("lock", ref_a, ref_b)

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"{ref_a}: {a} (unchanged)", f"{ref_b}: {b} (unchanged)"]
    assert "no digest changed" in again.stderr
    assert snapshot(lock) == before


def test_lock_reads_references_from_a_file_and_stdin(registry, unique_repo, run, tmp_path, lock):
    pushed = {t: registry.push(unique_repo, t, build_image(f"from {t}")) for t in ("x", "y", "z")}
    refs = {t: f"{registry.host}/{unique_repo}:{t}" for t in pushed}
    listing = tmp_path / "images.txt"
    listing.write_text(f"# images we deploy\n\n  {refs['x']}   # the web app\n{refs['y']}\n")

    done = run("lock", "--from", str(listing), refs["z"])
    assert done.returncode == 0, done.stderr
    assert {e.reference: e.digest for e in LockFile(lock).entries()} == {
        refs[t]: pushed[t] for t in ("x", "y", "z")
    }

    other = tmp_path / "other.lock"
    piped = run("lock", "--lock", str(other), "--from", "-", stdin=f"{refs['y']}\n")
    assert piped.returncode == 0, piped.stderr
    assert [e.reference for e in LockFile(other).entries()] == [refs["y"]]


def test_lock_rejects_a_bad_reference_file_before_any_request(run, tmp_path, lock):
    listing = tmp_path / "images.txt"
    listing.write_text("nginx:1.25\n# fine\nNot A Reference\n")

    bad = run("lock", "--from", str(listing))
    assert bad.returncode == 2
    assert f"{listing}:3:" in bad.stderr and "'Not A Reference'" in bad.stderr
    assert not lock.exists()

    missing = run("lock", "--from", str(tmp_path / "absent.txt"))
    assert missing.returncode == 2 and "absent.txt" in missing.stderr
    nothing = run("lock")
    assert nothing.returncode == 2 and "no references" in nothing.stderr
    for result in (bad, missing, nothing):
        assert "Traceback" not in result.stderr


def test_lock_platform_labels_prune_and_partial_failure(registry, unique_repo, run, lock):
    arm = build_image("pl", labels={REVISION: "arm-rev"}, architecture="arm64", variant="v8")
    registry.push(unique_repo, "multi", build_index([build_image("pl"), arm]))
    registry.push(unique_repo, "old", build_image("to prune"))
    multi = f"{registry.host}/{unique_repo}:multi"
    old = f"{registry.host}/{unique_repo}:old"
    missing = f"{registry.host}/{unique_repo}:missing"
    assert run("lock", old).returncode == 0

    done = run("lock", "--platform", "linux/arm64", "--labels", "--prune", multi, missing)

    assert done.returncode == 1  # one reference failed; the other is still recorded
    assert f"{multi} [linux/arm64]: {arm.digest} (revision arm-rev) (added)" in done.stdout
    assert f"{old}: " in done.stdout and "(removed)" in done.stdout
    assert missing in done.stderr and "not found" in done.stderr
    [entry] = LockFile(lock).entries()
    assert (entry.reference, entry.platform, entry.digest) == (multi, "linux/arm64", arm.digest)
    assert entry.revision == "arm-rev"


def test_lock_ignores_a_locked_mode_environment_and_uses_the_lock_env(
    registry, unique_repo, run, tmp_path
):
    pushed = registry.push(unique_repo, "v1", build_image("env lock"))
    ref = f"{registry.host}/{unique_repo}:v1"
    elsewhere = tmp_path / "ci" / "pins.lock"
    elsewhere.parent.mkdir()
    extra = {"IMAGE_DIGEST_MODE": "locked", "IMAGE_DIGEST_LOCK": str(elsewhere)}

    done = run("lock", ref, extra_env=extra)
    assert done.returncode == 0, done.stderr
    assert [e.digest for e in LockFile(elsewhere).entries()] == [pushed]

    checked = run("check", extra_env=extra)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    resolved = run("resolve", ref, extra_env=extra)  # resolve honours the environment
    assert resolved.returncode == 0 and resolved.stdout.endswith(f"@{pushed}\n")


# --- check -----------------------------------------------------------------------------------


def test_check_passes_then_fails_after_a_tag_moves(registry, unique_repo, run, lock):
    registry.push(unique_repo, "latest", build_image("r1", labels={REVISION: "1111111"}))
    stable = registry.push(unique_repo, "stable", build_image("stable"))
    latest_ref = f"{registry.host}/{unique_repo}:latest"
    stable_ref = f"{registry.host}/{unique_repo}:stable"
    assert run("lock", latest_ref, stable_ref).returncode == 0
    old = LockFile(lock).get(latest_ref, None)
    assert old is not None and old.revision is None  # revisions read later, by digest

    clean = run("check")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"{latest_ref}: {old.digest} (unchanged)" in clean.stdout
    assert "2 unchanged" in clean.stdout

    new = registry.push(unique_repo, "latest", build_image("r2", labels={REVISION: "2222222"}))
    before = snapshot(lock)
    drift = run("check")

    assert drift.returncode == 1
    assert (
        f"{latest_ref}: {old.digest} (revision 1111111) -> {new} (revision 2222222)"
        in drift.stdout.splitlines()
    )
    assert f"{stable_ref}: {stable} (unchanged)" in drift.stdout
    assert "1 moved" in drift.stdout
    assert f"image-digest lock --lock image-digest.lock {latest_ref}" in drift.stdout
    assert snapshot(lock) == before  # check never writes

    as_json = run("check", "--json")
    assert as_json.returncode == 1
    moved = [f for f in json.loads(as_json.stdout) if f["status"] == "moved"]
    assert moved == [
        {
            "reference": latest_ref,
            "platform": None,
            "status": "moved",
            "locked_digest": old.digest,
            "current_digest": new,
            "locked_revision": "1111111",
            "current_revision": "2222222",
            "note": None,
            # The life of the pin: these images carry a revision label only.
            **{
                f"{side}_{name}": None
                for side in ("locked", "current")
                for name in ("source", "version", "created")
            },
            "compare_url": None,
        }
    ]

    assert run("lock", latest_ref).returncode == 0
    assert run("check").returncode == 0


def test_check_reports_a_deleted_old_digest_and_a_deleted_tag(registry, unique_repo, run, lock):
    old = registry.push(unique_repo, "moving", build_image("gone 1"))
    doomed = registry.push(unique_repo, "doomed", build_image("doomed"))
    moving_ref = f"{registry.host}/{unique_repo}:moving"
    doomed_ref = f"{registry.host}/{unique_repo}:doomed"
    assert run("lock", moving_ref, doomed_ref).returncode == 0
    new = registry.push(unique_repo, "moving", build_image("gone 2", labels={REVISION: "n"}))
    for digest in (old, doomed):
        response = requests.delete(f"{registry.url}/v2/{unique_repo}/manifests/{digest}")
        assert response.status_code == 202

    done = run("check")

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert f"{moving_ref}: {old} (no longer in the registry) -> {new} (revision n)" in lines
    assert any(line.startswith(f"{doomed_ref}: {doomed} -> not found") for line in lines)
    assert "--prune" in done.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"format": "image-digest.lock/v1", "images": [{"dig', "not valid JSON"),
        ('{"name": "something else"}', "not an image-digest lock"),
    ],
    ids=["truncated", "foreign"],
)
def test_check_and_lock_with_a_bad_lock_exit_2_and_leave_it(
    registry, unique_repo, run, lock, content, expected
):
    registry.push(unique_repo, "v1", build_image("bad lock"))
    lock.write_text(content)
    before = snapshot(lock)
    for args in (
        ("check",),
        ("lock", f"{registry.host}/{unique_repo}:v1"),
        ("resolve", "--mode", "locked", "--lock", "image-digest.lock", "a/b:c", "d/e:f"),
    ):
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert expected in done.stderr and "lock file image-digest.lock " in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1  # one clear line, no traceback
    assert snapshot(lock) == before


def test_check_without_a_lock_says_how_to_make_one(run):
    done = run("check")
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "image-digest lock" in done.stderr


def test_resolve_labels_json(registry, unique_repo, run):
    labels = {REVISION: "abc", "org.opencontainers.image.source": "https://example/app"}
    registry.push(unique_repo, "v1", build_image("json labels", labels=labels))
    ref = f"{registry.host}/{unique_repo}:v1"

    done = run("resolve", "--labels", "--json", ref)
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout)
    assert entry["labels"] == labels and entry["labels_platform"] == "linux/amd64"

    plain = run("resolve", "--labels", ref)
    assert plain.stdout.rstrip("\n").split("\t")[2] == "abc"
    assert "labels" not in json.loads(run("resolve", "--json", ref).stdout)[0]


# --- outage ------------------------------------------------------------------------------------


@pytest.fixture
def own_registry() -> Iterator[RegistryServer]:
    require_tools()
    with RegistryServer("plain") as server:
        yield server


def test_registry_down_fallback_warns_once_and_check_exits_3(own_registry, run, lock):
    pushed = own_registry.push("app", "v1", build_image("outage"))
    ref = f"{own_registry.host}/app:v1"
    assert run("lock", ref).returncode == 0
    own_registry.stop()

    # Side by side: each waits out the client's retries against the dead port.
    with ThreadPoolExecutor(3) as pool:
        fallback, locked, check = pool.map(
            lambda args: run(*args),
            [
                ("resolve", "--mode", "fallback", "--lock", str(lock), ref),
                ("resolve", "--mode", "locked", "--lock", str(lock), ref),
                ("check",),
            ],
        )

    assert fallback.returncode == 0, fallback.stderr
    assert fallback.stdout == f"{ref}\t{own_registry.host}/app@{pushed}\n"
    warnings = fallback.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("image-digest: warning: ")
    assert str(lock) in warnings[0] and pushed in warnings[0]
    assert locked.returncode == 0 and locked.stderr == ""
    assert check.returncode == 3
    assert "could not check" in check.stdout and "unreachable" in check.stderr


# --- credentials -----------------------------------------------------------------------------


def test_no_credential_in_output_or_lock(basic_registry, unique_repo, run, tmp_path, lock):
    password = basic_registry.password
    encoded = base64.b64encode(f"alice:{password}".encode()).decode()
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(
        json.dumps({"auths": {basic_registry.host: {"auth": encoded}}})
    )
    basic_registry.push(unique_repo, "v1", build_image("secret 1", labels={REVISION: "s1"}))
    ref = f"{basic_registry.host}/{unique_repo}:v1"

    outputs = [run("lock", "--labels", ref)]
    basic_registry.push(unique_repo, "v1", build_image("secret 2", labels={REVISION: "s2"}))
    outputs += [run("check"), run("check", "--json"), run("resolve", "--labels", "--json", ref)]

    assert [o.returncode for o in outputs] == [0, 1, 1, 0], [o.stderr for o in outputs]
    for text in [o.stdout + o.stderr for o in outputs] + [lock.read_text()]:
        assert password not in text and encoded not in text
