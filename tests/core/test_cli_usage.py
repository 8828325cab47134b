"""CLI usage errors speak CLI (options and variables, never Python keywords), exit 2 and change
nothing; `resolve` says when it writes the lock file. Real subprocesses on this checkout's code,
against the real registry where a registry is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from image_digest import InvalidReferenceError, LockFile, parse
from tests.support.images import build_image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path):
    """`python -m image_digest ARGS` in tmp_path, with no IMAGE_DIGEST_* from outside."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IMAGE_DIGEST_")}
    base = {**clean, "DOCKER_CONFIG": str(tmp_path), "PYTHONPATH": str(ROOT)}

    def run_cli(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "image_digest", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**base, **extra_env},
            check=False,
        )

    return run_cli


def usage_error(done: subprocess.CompletedProcess[str]) -> str:
    """Exit 2, nothing on stdout, one error line and no traceback; returns the line."""
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("image-digest: error: ")
    return line


# == a URL is not a reference =====================================================================


@pytest.mark.parametrize("scheme", ["https://", "http://", "docker://"])
def test_the_parser_refuses_a_url_scheme_with_a_hint_to_drop_it(scheme):
    with pytest.raises(InvalidReferenceError) as error:
        parse(f"{scheme}gcr.io/p/app:1")

    assert f"no URL scheme: drop '{scheme}' and write 'gcr.io/p/app:1'" in error.value.rule


def test_cli_refuses_a_url_as_a_usage_error(run):
    line = usage_error(run("resolve", "https://registry.example.com/team/app:v2"))

    assert "drop 'https://'" in line and "'registry.example.com/team/app:v2'" in line


# == lock: a bad reference changes nothing ========================================================


def test_lock_with_a_bad_reference_exits_2_and_leaves_the_lock_alone(
    run, registry, unique_repo, tmp_path
):
    registry.push(unique_repo, "v1", build_image("lock, then a typo"))
    good = f"{registry.host}/{unique_repo}:v1"
    lock = tmp_path / "t.lock"

    fresh = run("lock", "--lock", "t.lock", "Bad/Ref")
    assert not lock.exists()
    assert run("lock", "--lock", "t.lock", good).returncode == 0
    before = lock.read_bytes(), lock.stat().st_mtime_ns
    again = run("lock", "--lock", "t.lock", good, "Bad/Ref")

    for done in (fresh, again):
        line = usage_error(done)
        assert "'Bad/Ref'" in line and "nothing was resolved or written" in line
        assert "no digest changed" not in done.stderr
    assert (lock.read_bytes(), lock.stat().st_mtime_ns) == before


def test_lock_that_resolved_nothing_says_what_failed(run, registry, unique_repo, tmp_path):
    done = run("lock", "--lock", "t.lock", f"{registry.host}/{unique_repo}:missing")

    assert done.returncode == 1
    assert "0 unchanged, 1 failed (see the errors)" in done.stderr
    assert not (tmp_path / "t.lock").exists()


# == modes that need a lock say so in CLI words ===================================================


@pytest.mark.parametrize("mode", ["locked", "fallback"])
def test_a_mode_without_a_lock_names_the_flag_not_a_keyword(run, mode):
    by_flag = usage_error(run("resolve", "--mode", mode, "nginx:1.25"))
    by_variable = usage_error(run("resolve", "nginx:1.25", IMAGE_DIGEST_MODE=mode))

    assert f"--mode {mode} needs a lock file: pass --lock PATH or set IMAGE_DIGEST_LOCK" in by_flag
    assert f"IMAGE_DIGEST_MODE={mode} needs a lock file" in by_variable
    for line in (by_flag, by_variable):
        assert "lock=" not in line


# == resolve writes the lock file when one is set, and says so ====================================


def test_resolve_help_says_it_writes_the_lock(run):
    done = run("resolve", "--help")

    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "the digests are also written to that lock file" in text
    assert "WRITE every digest" in text


def test_resolve_says_when_it_writes_the_lock(run, registry, unique_repo, tmp_path):
    ref = f"{registry.host}/{unique_repo}:v1"
    first = registry.push(unique_repo, "v1", build_image("resolve writes 1"))

    by_flag = run("resolve", "--lock", "t.lock", ref)
    unchanged = run("resolve", "--lock", "t.lock", ref)
    second = registry.push(unique_repo, "v1", build_image("resolve writes 2"))
    by_variable = run("resolve", ref, IMAGE_DIGEST_LOCK="t.lock")
    locked = run("resolve", "--mode", "locked", ref, IMAGE_DIGEST_LOCK="t.lock")

    assert by_flag.returncode == 0, by_flag.stderr
    assert by_flag.stderr == (
        "image-digest: recorded 1 new and 0 changed digests in lock file t.lock (--lock)\n"
    )
    assert unchanged.returncode == 0 and unchanged.stderr == ""
    assert by_variable.stderr == (
        "image-digest: recorded 0 new and 1 changed digests in lock file t.lock "
        "(IMAGE_DIGEST_LOCK)\n"
    )
    assert locked.returncode == 0 and locked.stderr == ""
    assert first != second
    assert [e.digest for e in LockFile(tmp_path / "t.lock").entries()] == [second]
