"""The lock file and the outage policy (modes resolve/locked/fallback) against a real registry.

Outage tests take down a registry of their own (`own_registry`), never the shared one.
Requests are counted at the server: each resolver gets a unique User-Agent, and the
registry's access log is searched for it.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from image_digest import (
    AuthenticationError,
    LockError,
    LockFile,
    RegistryError,
    Resolver,
    TagNotFoundError,
)
from image_digest.pinning.lockfile import LockPin
from tests.support.images import build_image
from tests.support.registry import RegistryServer, require_tools

# Fail fast when a registry is down: no retries and no backoff waits in these tests.
FAST = {"retries": 0}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)


@pytest.fixture
def own_registry() -> Iterator[RegistryServer]:
    """A registry this test may stop and start."""
    require_tools()
    with RegistryServer("plain") as server:
        yield server


@pytest.fixture
def lock_path(tmp_path) -> Path:
    return tmp_path / "image-digest.lock"


def agent() -> str:
    return f"image-digest-test/{uuid.uuid4().hex}"


def served(registry: RegistryServer, user_agent: str) -> int:
    """Requests the registry has logged from `user_agent`, after flushing its access log.

    A probe with its own User-Agent goes last; once the log shows it, every earlier request
    is in the log too.
    """
    probe = agent()
    requests.get(f"{registry.url}/v2/", headers={"User-Agent": probe}, timeout=10)
    log = registry.log_path
    for _ in range(500):  # more traffic pushes the access log out; no sleeping
        if probe in log.read_text(errors="replace"):
            break
        requests.get(f"{registry.url}/v2/", headers={"User-Agent": agent()}, timeout=10)
    else:
        raise AssertionError(f"the registry never logged the probe request; see {log}")
    access_lines = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if line.startswith("127.0.0.1 - ")
    ]
    return sum(user_agent in line for line in access_lines)


def snapshot(path: Path) -> tuple[bytes, int, int]:
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns, stat.st_ino


# --- the file ---------------------------------------------------------------------------------


def test_lock_is_written_sorted_and_untouched_when_the_digest_is_unchanged(
    registry, unique_repo, lock_path
):
    first = registry.push(unique_repo, "b", build_image("lock b"))
    second = registry.push(unique_repo, "a", build_image("lock a"))
    refs = [f"{registry.host}/{unique_repo}:b", f"{registry.host}/{unique_repo}:a"]

    with Resolver(lock=lock_path) as resolver:
        resolver.resolve_many(refs)
        resolver.resolve(refs[0], platform="linux/amd64")
    document = json.loads(lock_path.read_text())
    assert document["format"] == "image-digest.lock/v1"
    assert [(e["reference"], e.get("platform"), e["digest"]) for e in document["images"]] == [
        (refs[1], None, second),
        (refs[0], None, first),
        (refs[0], "linux/amd64", first),
    ]
    entry = document["images"][0]
    assert set(entry) == {"digest", "media_type", "reference", "resolved_at"}
    assert entry["media_type"] == "application/vnd.oci.image.manifest.v1+json"
    assert lock_path.read_text() == json.dumps(document, indent=2, sort_keys=True) + "\n"
    before = snapshot(lock_path)

    with Resolver(lock=lock_path) as again:
        again.resolve_many(list(reversed(refs)))
        again.resolve(refs[0], platform="linux/amd64")
        again.resolve(f"{registry.host}/{unique_repo}@{first}")  # a digest is never locked
    assert snapshot(lock_path) == before  # same bytes, same mtime, same inode
    assert sorted(p.name for p in lock_path.parent.iterdir()) == [
        "image-digest.lock",
        "image-digest.lock.flock",
    ]


def test_a_moved_tag_updates_only_its_entry(registry, unique_repo, lock_path):
    registry.push(unique_repo, "stable", build_image("stable"))
    registry.push(unique_repo, "latest", build_image("release 1"))
    stable = f"{registry.host}/{unique_repo}:stable"
    latest = f"{registry.host}/{unique_repo}:latest"
    with Resolver(lock=lock_path) as resolver:
        resolver.resolve_many([stable, latest])
    old = {e.reference: e for e in LockFile(lock_path).entries()}

    moved = registry.push(unique_repo, "latest", build_image("release 2"))
    with Resolver(lock=lock_path) as resolver:
        resolver.resolve_many([stable, latest])

    new = {e.reference: e for e in LockFile(lock_path).entries()}
    assert new[stable] == old[stable]
    assert new[latest].digest == moved != old[latest].digest


def test_existing_permissions_are_kept_and_new_files_are_not_private(
    registry, unique_repo, lock_path
):
    registry.push(unique_repo, "v1", build_image("mode"))
    ref = f"{registry.host}/{unique_repo}:v1"
    Resolver(lock=lock_path).resolve(ref)
    umask = os.umask(0o022)
    os.umask(umask)
    assert lock_path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600

    lock_path.chmod(0o640)
    registry.push(unique_repo, "v1", build_image("mode 2"))
    Resolver(lock=lock_path).resolve(ref)
    assert lock_path.stat().st_mode & 0o777 == 0o640


def test_record_adds_a_revision_but_keeps_resolved_at(lock_path):
    lock = LockFile(lock_path)
    ref, digest = "registry.example/app:v1", "sha256:" + "1" * 64
    lock.record([(ref, None, digest, None)])
    [entry] = LockFile(lock_path).entries()
    assert entry.revision is None

    assert lock.record([LockPin(ref, None, digest, None, revision="abc123")]) is True
    [with_revision] = LockFile(lock_path).entries()
    assert with_revision.revision == "abc123"
    assert with_revision.resolved_at == entry.resolved_at

    before = snapshot(lock_path)
    assert lock.record([(ref, None, digest, None)]) is False  # no labels read: keeps it
    assert snapshot(lock_path) == before


def test_prune_removes_entries_not_kept(lock_path):
    lock = LockFile(lock_path)
    digest = "sha256:" + "2" * 64
    lock.record(
        [
            ("registry.example/a:v1", None, digest, None),
            ("registry.example/b:v1", None, digest, None),
            ("registry.example/b:v1", "linux/arm64", digest, None),
        ]
    )
    removed = lock.prune([("registry.example/b:v1", None)])
    assert [(e.reference, e.platform) for e in removed] == [
        ("registry.example/a:v1", None),
        ("registry.example/b:v1", "linux/arm64"),
    ]
    assert [(e.reference, e.platform) for e in LockFile(lock_path).entries()] == [
        ("registry.example/b:v1", None)
    ]
    before = snapshot(lock_path)
    assert lock.prune([("registry.example/b:v1", None)]) == []
    assert snapshot(lock_path) == before


# --- corrupt and foreign files ---------------------------------------------------------------

VALID = (
    '{\n  "format": "image-digest.lock/v1",\n  "images": [\n    {\n      "digest": "sha256:'
    + "3" * 64
    + '",\n      "reference": "registry.example/app:v1",\n      "resolved_at": '
    '"2026-01-01T00:00:00Z"\n    }\n  ]\n}\n'
)

_ENTRY = VALID[VALID.index("    {") : VALID.index("    }") + 5]
DUPLICATE = VALID.replace('"images": [', '"images": [' + _ENTRY + ",")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(VALID[: len(VALID) // 2], "not valid JSON", id="truncated"),
        pytest.param("", "is empty", id="empty"),
        pytest.param(
            '{"lockfileVersion": 3, "packages": {}}', "not an image-digest lock", id="npm"
        ),
        pytest.param("[1, 2]", "not an image-digest lock", id="json-list"),
        pytest.param(
            "<<<<<<< HEAD\n" + VALID + "=======\n" + VALID + ">>>>>>> branch\n",
            "merge conflict",
            id="conflict-markers",
        ),
        pytest.param(
            VALID.replace('"images": [', '"images": [{"reference": 1},'),
            "images[0] needs string 'reference'",
            id="bad-entry",
        ),
        pytest.param(
            VALID.replace("registry.example/app:v1", "nginx"),
            "not in canonical form (expected 'docker.io/library/nginx:latest')",
            id="non-canonical",
        ),
        pytest.param(VALID.replace("3" * 64, "xyz"), "malformed digest", id="bad-digest"),
        pytest.param(DUPLICATE, "twice", id="duplicate"),
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="binary"),
    ],
)
def test_a_corrupt_or_foreign_lock_fails_clearly_and_is_left_byte_identical(
    lock_path, content, expected
):
    if isinstance(content, str):
        lock_path.write_text(content)
    else:
        lock_path.write_bytes(content)
    before = snapshot(lock_path)
    pin = ("registry.example/app:v2", None, "sha256:" + "4" * 64, None)

    for attempt in (
        lambda: LockFile(lock_path).entries(),
        lambda: LockFile(lock_path).record([pin]),
        lambda: Resolver(lock=lock_path, mode="locked").resolve("registry.example/app:v1"),
    ):
        with pytest.raises(LockError) as error:
            attempt()
        assert expected in str(error.value)
        assert str(lock_path) in str(error.value)
    assert snapshot(lock_path) == before


def test_resolve_mode_with_a_corrupt_lock_fails_and_keeps_the_file(
    registry, unique_repo, lock_path
):
    registry.push(unique_repo, "v1", build_image("corrupt"))
    lock_path.write_text(VALID[:40])
    before = snapshot(lock_path)
    with pytest.raises(LockError, match="not valid JSON"):
        Resolver(lock=lock_path).resolve(f"{registry.host}/{unique_repo}:v1")
    assert snapshot(lock_path) == before


# --- modes --------------------------------------------------------------------------------------


def test_locked_mode_makes_no_request_at_all(own_registry, lock_path):
    pushed = own_registry.push("app", "v1", build_image("locked"))
    ref = f"{own_registry.host}/app:v1"
    writer_agent, reader_agent = agent(), agent()
    with Resolver(lock=lock_path, user_agent=writer_agent) as writer:
        writer.resolve(ref)
    assert served(own_registry, writer_agent) > 0  # the counting works

    with Resolver(lock=lock_path, mode="locked", user_agent=reader_agent) as reader:
        resolved = reader.resolve(ref)
        assert reader.resolve_many([ref])[ref].digest == pushed
        assert reader.request_count() == 0
    assert resolved.digest == pushed
    assert resolved.repo_digest == f"{own_registry.host}/app@{pushed}"
    assert resolved.source == "lock" and resolved.warning is None
    assert served(own_registry, reader_agent) == 0

    own_registry.stop()
    with Resolver(lock=lock_path, mode="locked") as offline:
        assert offline.resolve(ref).digest == pushed
        assert offline.request_count() == 0


def test_locked_mode_missing_entry_names_the_reference_and_the_command(
    registry, unique_repo, lock_path
):
    registry.push(unique_repo, "v1", build_image("present"))
    Resolver(lock=lock_path).resolve(f"{registry.host}/{unique_repo}:v1")
    missing = f"{registry.host}/{unique_repo}:v2"

    with Resolver(lock=lock_path, mode="locked") as resolver:
        with pytest.raises(LockError) as error:
            resolver.resolve(missing)
        with pytest.raises(LockError) as platform_error:
            resolver.resolve(f"{registry.host}/{unique_repo}:v1", platform="linux/arm64")
        assert resolver.request_count() == 0
    message = str(error.value)
    assert missing in message and str(lock_path) in message
    assert f"image-digest lock --lock {lock_path} {missing}" in message
    assert "--platform linux/arm64" in str(platform_error.value)

    with pytest.raises(LockError, match="does not exist"):
        Resolver(lock=lock_path.with_name("absent.lock"), mode="locked").resolve(missing)


def test_fallback_uses_the_registry_while_it_is_up(own_registry, lock_path):
    own_registry.push("app", "latest", build_image("up 1"))
    ref = f"{own_registry.host}/app:latest"
    Resolver(lock=lock_path).resolve(ref)
    moved = own_registry.push("app", "latest", build_image("up 2"))

    with Resolver(lock=lock_path, mode="fallback", **FAST) as resolver:
        resolved = resolver.resolve(ref)
    assert resolved.digest == moved
    assert resolved.source == "registry" and resolved.warning is None
    assert [e.digest for e in LockFile(lock_path).entries()] == [moved]  # and records it


def test_fallback_with_the_registry_down_uses_the_lock_and_warns(own_registry, lock_path, caplog):
    pushed = own_registry.push("app", "v1", build_image("down"))
    ref = f"{own_registry.host}/app:v1"
    Resolver(lock=lock_path).resolve(ref)
    before = snapshot(lock_path)
    own_registry.stop()

    with (
        caplog.at_level(logging.WARNING, logger="image_digest"),
        Resolver(lock=lock_path, mode="fallback", **FAST) as resolver,
    ):
        resolved = resolver.resolve(ref)
        batch = resolver.resolve_each([ref])

    assert resolved.digest == pushed and resolved.source == "lock"
    assert resolved.repo_digest == f"{own_registry.host}/app@{pushed}"  # never the tag
    assert batch[ref] == resolved
    warning = resolved.warning
    assert warning is not None
    for part in (ref, str(lock_path), pushed, "unreachable", "stale"):
        assert part in warning
    records = [r for r in caplog.records if r.name == "image_digest"]
    assert [r.levelno for r in records] == [logging.WARNING]  # once, the lookup is cached
    assert records[0].getMessage() == warning
    assert snapshot(lock_path) == before


def test_fallback_without_an_entry_raises_the_registry_error(own_registry, lock_path):
    own_registry.push("app", "v1", build_image("no entry"))
    Resolver(lock=lock_path).resolve(f"{own_registry.host}/app:v1")
    own_registry.stop()
    other = f"{own_registry.host}/app:v2"

    with pytest.raises(RegistryError) as error:
        Resolver(lock=lock_path, mode="fallback", **FAST).resolve(other)
    assert type(error.value) is RegistryError
    assert "unreachable" in str(error.value) and other in str(error.value)
    assert any("no entry" in note for note in error.value.__notes__)

    with pytest.raises(RegistryError):
        Resolver(lock=lock_path, mode="fallback", **FAST).resolve(
            f"{own_registry.host}/app:v1", platform="linux/amd64"
        )


def test_fallback_with_the_registry_down_and_a_corrupt_lock_says_both(own_registry, lock_path):
    own_registry.push("app", "v1", build_image("both"))
    ref = f"{own_registry.host}/app:v1"
    Resolver(lock=lock_path).resolve(ref)
    own_registry.stop()
    lock_path.write_text(lock_path.read_text()[:-20])
    before = snapshot(lock_path)

    with pytest.raises(LockError) as error:
        Resolver(lock=lock_path, mode="fallback", **FAST).resolve(ref)
    assert "unreachable" in str(error.value) and "not valid JSON" in str(error.value)
    assert snapshot(lock_path) == before


def test_fallback_never_covers_a_missing_tag(registry, unique_repo, lock_path):
    registry.push(unique_repo, "v1", build_image("repo exists"))
    gone = f"{registry.host}/{unique_repo}:gone"
    LockFile(lock_path).record([(gone, None, "sha256:" + "5" * 64, None)])

    with pytest.raises(TagNotFoundError):
        Resolver(lock=lock_path, mode="fallback", **FAST).resolve(gone)


def test_fallback_never_covers_an_authentication_failure(basic_registry, unique_repo, lock_path):
    basic_registry.push(unique_repo, "v1", build_image("private"))
    ref = f"{basic_registry.host}/{unique_repo}:v1"
    LockFile(lock_path).record([(ref, None, "sha256:" + "6" * 64, None)])

    with pytest.raises(AuthenticationError):
        Resolver(lock=lock_path, mode="fallback", **FAST).resolve(ref)


def test_environment_switches_mode_and_lock(own_registry, lock_path, monkeypatch):
    pushed = own_registry.push("app", "v1", build_image("env"))
    ref = f"{own_registry.host}/app:v1"
    monkeypatch.setenv("IMAGE_DIGEST_LOCK", str(lock_path))
    with Resolver() as resolver:  # mode resolve, writes the lock named by the environment
        assert resolver.mode == "resolve"
        resolver.resolve(ref)
    assert [e.digest for e in LockFile(lock_path).entries()] == [pushed]

    own_registry.stop()
    monkeypatch.setenv("IMAGE_DIGEST_MODE", "locked")
    with Resolver() as resolver:
        assert resolver.resolve(ref).source == "lock"
        assert resolver.request_count() == 0

    monkeypatch.setenv("IMAGE_DIGEST_MODE", "fallback")
    with Resolver(**FAST) as resolver:
        fallen = resolver.resolve(ref)
    assert fallen.source == "lock" and fallen.warning

    with Resolver(mode="resolve", **FAST) as explicit, pytest.raises(RegistryError):
        explicit.resolve(ref)  # an argument beats the environment


def test_invalid_modes_and_a_missing_lock_are_clear_errors(monkeypatch, lock_path):
    with pytest.raises(ValueError) as argument:
        Resolver(mode="offline")
    assert "'offline'" in str(argument.value)
    assert "resolve, locked, fallback" in str(argument.value)

    monkeypatch.setenv("IMAGE_DIGEST_MODE", "LOCKED")
    with pytest.raises(ValueError) as environment:
        Resolver(lock=lock_path)
    assert "IMAGE_DIGEST_MODE" in str(environment.value) and "'LOCKED'" in str(environment.value)

    monkeypatch.delenv("IMAGE_DIGEST_MODE")
    for mode in ("locked", "fallback"):
        with pytest.raises(LockError) as no_lock:
            Resolver(mode=mode)
        assert "IMAGE_DIGEST_LOCK" in str(no_lock.value) and mode in str(no_lock.value)


# --- concurrent writers ---------------------------------------------------------------------


def _write_pins(path: str, worker: int, count: int, barrier: Any) -> None:
    barrier.wait()
    lock = LockFile(path)
    for n in range(count):
        lock.record([(f"registry.example/w{worker}/app:v{n}", None, _digest(worker, n), None)])


def _digest(worker: int, n: int) -> str:
    return f"sha256:{worker:032x}{n:032x}"


def test_concurrent_processes_and_threads_leave_every_entry(lock_path):
    workers, count = 4, 15
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers + 1)
    processes = [
        context.Process(target=_write_pins, args=(str(lock_path), w, count, barrier))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    thread_barrier = threading.Barrier(workers)
    shared = LockFile(lock_path)

    def thread_writer(worker: int) -> None:
        thread_barrier.wait()
        lock = shared if worker % 2 else LockFile(lock_path)
        for n in range(count):
            lock.record([(f"registry.example/t{worker}/app:v{n}", None, _digest(99, n), None)])

    threads = [threading.Thread(target=thread_writer, args=(w,)) for w in range(workers)]
    barrier.wait()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0

    entries = LockFile(lock_path).entries()
    assert len(entries) == 2 * workers * count
    references = {e.reference for e in entries}
    for w in range(workers):
        for n in range(count):
            assert f"registry.example/w{w}/app:v{n}" in references
            assert f"registry.example/t{w}/app:v{n}" in references
    assert [p.name for p in lock_path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_concurrent_cli_lock_processes_all_land(registry, unique_repo, lock_path):
    refs = []
    for n in range(5):
        registry.push(unique_repo, f"v{n}", build_image(f"parallel {n}"))
        refs.append(f"{registry.host}/{unique_repo}:v{n}")
    env = {**os.environ, "DOCKER_CONFIG": str(lock_path.parent / "docker")}
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "image_digest", "lock", "--lock", str(lock_path), ref],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for ref in refs
    ]
    for process in running:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert sorted(e.reference for e in LockFile(lock_path).entries()) == sorted(refs)
