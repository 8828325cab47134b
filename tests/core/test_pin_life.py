"""The life of a pin (#15): what changed between two digests, holding fresh pushes back with
`min_age`, and whether locked digests still exist. Real registry, real CLI processes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from image_digest import LockFile, Resolver
from image_digest.errors import InvalidOptionError
from image_digest.names.provenance import Provenance, compare_url, repository_url
from image_digest.pinning.age import parse_duration, stamp
from tests.support.images import build_image

REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
VERSION = "org.opencontainers.image.version"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    """An injected clock: tests move time forward instead of sleeping."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def labels(revision: str, version: str, source: str = "git@github.com:acme/app.git") -> dict:
    return {REVISION: revision, SOURCE: source, VERSION: version}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)


@pytest.fixture
def lock(tmp_path) -> Path:
    return tmp_path / "image-digest.lock"


@pytest.fixture
def run(tmp_path):
    """`python -m image_digest ARGS` in tmp_path, with this worktree on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGE_DIGEST_")}

    def run_cli(*args: str, extra_env: dict[str, str] | None = None):
        return subprocess.run(
            [sys.executable, "-m", "image_digest", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**env, **(extra_env or {})},
            check=False,
        )

    return run_cli


def delete_manifest(registry, repo: str, digest: str) -> None:
    response = requests.delete(f"{registry.url}/v2/{repo}/manifests/{digest}", timeout=10)
    assert response.status_code == 202, response.text


# --- provenance, pure ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "url"),
    [
        ("https://github.com/acme/app", "https://github.com/acme/app"),
        ("git@github.com:acme/app.git", "https://github.com/acme/app"),
        ("https://github.com/acme/app.git", "https://github.com/acme/app"),
        ("github.com/acme/app/tree/main", "https://github.com/acme/app"),
        ("ssh://git@gitlab.com/group/sub/proj.git", "https://gitlab.com/group/sub/proj"),
        ("https://gitlab.com/group/proj/-/tree/main", "https://gitlab.com/group/proj"),
        ("https://git.example.com/acme/app", None),
        ("not a url", None),
    ],
)
def test_repository_url_accepts_the_forms_sources_are_written_in(source, url):
    assert repository_url(source) == url


def test_compare_urls_for_github_and_gitlab_only_within_one_repository():
    old = Provenance("1111111", "git@github.com:acme/app.git")
    assert compare_url(old, Provenance("2222222", "https://github.com/acme/app")) == (
        "https://github.com/acme/app/compare/1111111...2222222"
    )
    gitlab = Provenance("aaa", "https://gitlab.com/g/p.git")
    assert compare_url(gitlab, Provenance("bbb", "https://gitlab.com/g/p")) == (
        "https://gitlab.com/g/p/-/compare/aaa...bbb"
    )
    assert compare_url(old, Provenance("2222222", "https://github.com/other/app")) is None
    assert compare_url(old, Provenance(None, "https://github.com/acme/app")) is None
    assert compare_url(old, Provenance("1111111", "https://github.com/acme/app")) is None


def test_durations_are_written_with_a_unit():
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("6h") == timedelta(hours=6)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration("1w") == timedelta(weeks=1)
    assert parse_duration("1d12h") == timedelta(hours=36)
    for bad in ("6", "six hours", "-1h", "", "1y"):
        with pytest.raises(InvalidOptionError, match=r"not a duration.*30m, 6h, 2d, 1w"):
            parse_duration(bad)


# --- 1. the report --------------------------------------------------------------------------


def test_check_and_lock_report_the_life_of_a_moved_pin(registry, unique_repo, run, lock):
    ref = f"{registry.host}/{unique_repo}:prod"
    old = registry.push(
        unique_repo,
        "prod",
        build_image("life 1", labels=labels("1111111", "1.0.0"), created="2026-02-01T10:00:00Z"),
    )
    assert run("lock", "--labels", ref).returncode == 0
    entry = LockFile(lock).get(ref, None)
    assert entry is not None
    assert entry.provenance == Provenance(
        "1111111", "git@github.com:acme/app.git", "1.0.0", "2026-02-01T10:00:00Z"
    )
    new = registry.push(
        unique_repo,
        "prod",
        build_image(
            "life 2",
            labels=labels("2222222", "1.1.0", "https://github.com/acme/app"),
            created="2026-02-03T09:30:00.123456789Z",
        ),
    )

    checked = run("check")
    assert checked.returncode == 1
    compare = "https://github.com/acme/app/compare/1111111...2222222"
    assert checked.stdout.splitlines()[:6] == [
        f"{ref}: {old} (revision 1111111) -> {new} (revision 2222222)",
        "  revision: 1111111 -> 2222222",
        "  version: 1.0.0 -> 1.1.0",
        "  created: 2026-02-01T10:00:00Z -> 2026-02-03T09:30:00.123456789Z",
        "  source: https://github.com/acme/app",
        f"  compare: {compare}",
    ]

    [finding] = json.loads(run("check", "--json").stdout)
    assert {k: v for k, v in finding.items() if k.startswith(("locked_", "current_"))} == {
        "locked_digest": old,
        "locked_revision": "1111111",
        "locked_source": "git@github.com:acme/app.git",
        "locked_version": "1.0.0",
        "locked_created": "2026-02-01T10:00:00Z",
        "current_digest": new,
        "current_revision": "2222222",
        "current_source": "https://github.com/acme/app",
        "current_version": "1.1.0",
        "current_created": "2026-02-03T09:30:00.123456789Z",
    }
    assert finding["compare_url"] == compare

    # `lock` without --labels: the report is the default, since the lock knew the labels.
    locked = run("lock", ref)
    assert locked.returncode == 0, locked.stderr
    assert f"{ref}: {new} (revision 2222222) (updated from {old} (revision 1111111))" in (
        locked.stdout
    )
    assert f"  compare: {compare}" in locked.stdout
    updated = LockFile(lock).get(ref, None)
    assert updated is not None and updated.provenance.version == "1.1.0"  # kept for next time

    # `lock --json`: the same fields as `check --json`, for the next bump.
    newer = registry.push(
        unique_repo, "prod", build_image("life 3", labels=labels("3333333", "1.2.0"))
    )
    [expected] = json.loads(run("check", "--json").stdout)
    locked_json = run("lock", "--json", ref)
    assert locked_json.returncode == 0, locked_json.stderr
    [record] = json.loads(locked_json.stdout)
    shared = [k for k in expected if k.startswith(("locked_", "current_")) or k == "compare_url"]
    assert {k: record[k] for k in shared} == {k: expected[k] for k in shared}
    assert (record["status"], record["current_digest"]) == ("updated", newer)
    assert record["compare_url"] == "https://github.com/acme/app/compare/2222222...3333333"
    assert json.loads(run("lock", "--json", ref).stdout)[0]["status"] == "unchanged"


def test_a_changed_digest_costs_one_request_when_the_lock_knows_its_labels(
    registry, unique_repo, lock
):
    ref = f"{registry.host}/{unique_repo}:v"
    registry.push(unique_repo, "v", build_image("count 1", labels=labels("aaa", "1")))
    with Resolver(lock=lock, with_labels=True) as resolver:
        resolver.resolve(ref)

    with Resolver(lock=lock) as unchanged:
        [finding] = unchanged.check()
        baseline = unchanged.request_count()
    assert finding.status == "unchanged" and baseline == 2  # the ping, one manifest request

    registry.push(unique_repo, "v", build_image("count 2", labels=labels("bbb", "2")))
    with Resolver(lock=lock) as moved:
        [finding] = moved.check()
        assert moved.request_count() == baseline + 1  # the new digest's config, nothing else
    assert finding.status == "moved"
    assert finding.compare_url == "https://github.com/acme/app/compare/aaa...bbb"


def test_an_image_without_labels_reports_what_it_can(registry, unique_repo, run, lock):
    bare = f"{registry.host}/{unique_repo}:bare"
    dated = f"{registry.host}/{unique_repo}:dated"
    old_bare = registry.push(unique_repo, "bare", build_image("bare 1"))
    registry.push(unique_repo, "dated", build_image("dated 1", created="2026-01-01T00:00:00Z"))
    assert run("lock", "--labels", bare, dated).returncode == 0
    new_bare = registry.push(unique_repo, "bare", build_image("bare 2"))
    registry.push(unique_repo, "dated", build_image("dated 2", created="2026-01-02T00:00:00Z"))

    checked = run("check")

    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    at = lines.index(f"{bare}: {old_bare} -> {new_bare}")
    assert lines[at + 1].startswith(f"{dated}: ")  # nothing to say about the bare image
    assert lines[lines.index(lines[at + 1]) + 1] == (
        "  created: 2026-01-01T00:00:00Z -> 2026-01-02T00:00:00Z"
    )
    assert "compare:" not in checked.stdout
    findings = {f["reference"]: f for f in json.loads(run("check", "--json").stdout)}
    assert findings[bare]["current_revision"] is None and findings[bare]["compare_url"] is None


# --- 2. min_age ------------------------------------------------------------------------------


def test_min_age_holds_back_a_fresh_push_and_adopts_it_once_old_enough(registry, unique_repo, lock):
    ref = f"{registry.host}/{unique_repo}:latest"
    clock = Clock()
    old = registry.push(unique_repo, "latest", build_image("age 1", created="2026-02-01T00:00:00Z"))
    with Resolver(lock=lock, clock=clock) as resolver:
        resolver.resolve(ref)
    fresh = stamp(T0 - timedelta(minutes=2))
    new = registry.push(unique_repo, "latest", build_image("age 2", created=fresh))
    before = lock.read_bytes()

    with Resolver(lock=lock, min_age="1h", clock=clock) as resolver:
        held = resolver.resolve(ref)

    assert (held.digest, held.source, held.held_back) == (old, "lock", new)
    assert held.warning is not None
    assert f"now points at {new} (created {fresh})" in held.warning
    assert f"the locked digest {old} from lock file {lock}" in held.warning
    assert f"{new} becomes eligible at 2026-03-01T12:58:00Z (in 58m)" in held.warning
    assert lock.read_bytes() == before  # a believable created time: nothing to remember

    clock.now = T0 + timedelta(minutes=58)
    with Resolver(lock=lock, min_age="1h", clock=clock) as resolver:
        adopted = resolver.resolve(ref)
    assert (adopted.digest, adopted.source, adopted.warning) == (new, "registry", None)
    entry = LockFile(lock).get(ref, None)
    assert entry is not None and entry.digest == new
    assert entry.resolved_at == "2026-03-01T12:58:00Z"


@pytest.mark.parametrize(
    "created",
    [None, "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "2099-01-01T00:00:00Z"],
    ids=["absent", "epoch", "go-zero", "future"],
)
def test_min_age_falls_back_to_when_the_lock_first_saw_the_digest(
    registry, unique_repo, lock, created
):
    ref = f"{registry.host}/{unique_repo}:latest"
    clock = Clock()
    old = registry.push(unique_repo, "latest", build_image("seen 1", created=created))
    with Resolver(lock=lock, clock=clock) as resolver:
        resolver.resolve(ref)
    new = registry.push(unique_repo, "latest", build_image("seen 2", created=created))

    with Resolver(lock=lock, min_age="2d", clock=clock) as resolver:
        held = resolver.resolve(ref)
    assert (held.digest, held.held_back) == (old, new)
    assert held.warning is not None and "first seen 2026-03-01T12:00:00Z" in held.warning
    assert "eligible at 2026-03-03T12:00:00Z" in held.warning
    text = json.loads(lock.read_text())
    assert text["images"][0]["first_seen"] == {new: "2026-03-01T12:00:00Z"}

    clock.now = T0 + timedelta(days=1)
    snapshot = (lock.read_bytes(), lock.stat().st_mtime_ns)
    with Resolver(lock=lock, min_age="2d", clock=clock) as resolver:
        assert resolver.resolve(ref).digest == old
    assert (lock.read_bytes(), lock.stat().st_mtime_ns) == snapshot  # byte-identical

    clock.now = T0 + timedelta(days=2)
    with Resolver(lock=lock, min_age="2d", clock=clock) as resolver:
        assert resolver.resolve(ref).digest == new
    [entry] = LockFile(lock).entries()
    assert (entry.digest, entry.resolved_at, dict(entry.first_seen)) == (
        new,
        "2026-03-01T12:00:00Z",  # when it was first resolved to this digest
        {},
    )


def test_min_age_with_nothing_locked_resolves_normally_and_says_so(registry, unique_repo, lock):
    ref = f"{registry.host}/{unique_repo}:new"
    young = registry.push(unique_repo, "new", build_image("nothing", created=stamp(T0)))
    with Resolver(lock=lock, min_age="6h", clock=Clock()) as resolver:
        resolved = resolver.resolve(ref)
    assert (resolved.digest, resolved.source) == (young, "registry")
    assert resolved.warning is not None
    assert f"lock file {lock} has no entry for it" in resolved.warning
    assert f"no older digest to hold on to: using {young}" in resolved.warning
    assert LockFile(lock).get(ref, None) is not None


def test_older_lock_files_stay_readable(lock):
    lock.write_text(
        '{"format": "image-digest.lock/v1", "images": [{"digest": "sha256:'
        + "a" * 64
        + '", "reference": "docker.io/library/nginx:1.25", "resolved_at": '
        '"2026-01-01T00:00:00Z", "revision": "r1"}]}\n'
    )
    [entry] = LockFile(lock).entries()
    assert entry.provenance == Provenance("r1") and dict(entry.first_seen) == {}


def test_cli_min_age_holds_back_and_adopts(registry, unique_repo, run, lock):
    ref = f"{registry.host}/{unique_repo}:app"
    now = datetime.now(UTC)  # the CLI uses the real clock: the ages are minutes vs days apart
    old = registry.push(unique_repo, "app", build_image("cli age 1"))
    assert run("lock", ref).returncode == 0
    new = registry.push(
        unique_repo, "app", build_image("cli age 2", created=stamp(now - timedelta(minutes=3)))
    )

    held = run("lock", "--min-age", "1h", ref)
    assert held.returncode == 0, held.stderr
    assert f"{ref}: {old} (held back from {new} by --min-age)" in held.stdout
    assert f"image-digest: warning: min_age 1h: {ref} now points at {new}" in held.stderr
    assert "becomes eligible at" in held.stderr
    resolved = run("resolve", "--min-age", "1h", "--lock", str(lock), ref)
    assert resolved.stdout.endswith(f"@{old}\n") and "warning: min_age 1h" in resolved.stderr

    aged = registry.push(
        unique_repo, "app", build_image("cli age 3", created=stamp(now - timedelta(days=3)))
    )
    adopted = run("lock", "--min-age", "1d", ref)
    assert adopted.returncode == 0 and f"{ref}: {aged} (updated from {old})" in adopted.stdout

    bad = run("lock", "--min-age", "six hours", ref)
    assert bad.returncode == 2 and "'six hours' is not a duration" in bad.stderr


# --- 3. existence and keep-lists -------------------------------------------------------------


def test_check_exists_names_every_deleted_digest(registry, unique_repo, run, lock):
    kept = registry.push(unique_repo, "kept", build_image("exists kept"))
    gone = registry.push(unique_repo, "gone", build_image("exists gone"))
    refs = {t: f"{registry.host}/{unique_repo}:{t}" for t in ("kept", "gone")}
    assert run("lock", *refs.values()).returncode == 0
    assert run("check", "--exists").returncode == 0
    # The tag still points at the digest, yet the manifest is gone: only a HEAD by digest sees it.
    delete_manifest(registry, unique_repo, gone)

    done = run("check", "--exists")

    assert done.returncode == 1
    assert f"{refs['gone']}: {gone} -> deleted: the registry no longer has it" in done.stdout
    assert f"{refs['kept']}: {kept} (present)" in done.stdout
    assert "1 present, 1 deleted" in done.stdout
    statuses = {
        f["reference"]: f["status"] for f in json.loads(run("check", "--exists", "--json").stdout)
    }
    assert statuses == {refs["kept"]: "present", refs["gone"]: "deleted"}
    with Resolver(lock=lock) as resolver:
        found = {f.entry.reference: f.status for f in resolver.check(verify_exists=True)}
    assert found == statuses


def test_check_exists_says_cannot_see_for_a_401_not_deleted(
    token_registry, unique_repo, run, lock, tmp_path
):
    pushed = token_registry.push(unique_repo, "v1", build_image("exists hidden"))
    ref = f"{token_registry.host}/{unique_repo}:v1"
    LockFile(lock).record([(ref, None, pushed, None)])
    docker = tmp_path / "docker"
    docker.mkdir()
    wrong = "alice:not-the-password"
    auth = base64.b64encode(wrong.encode()).decode()
    (docker / "config.json").write_text(
        json.dumps({"auths": {token_registry.host: {"auth": auth}}})
    )

    done = run("check", "--exists", extra_env={"DOCKER_CONFIG": str(docker)})

    assert done.returncode == 3, done.stdout + done.stderr
    assert f"{ref}: {pushed} -> cannot see: the registry refused these credentials" in done.stdout
    assert "1 cannot see" in done.stdout and "the registry no longer has it" not in done.stdout
    as_json = run("check", "--exists", "--json", extra_env={"DOCKER_CONFIG": str(docker)})
    assert [f["status"] for f in json.loads(as_json.stdout)] == ["cannot_see"]
    assert "not-the-password" not in done.stdout + done.stderr and auth not in done.stderr
    assert "could not check" in done.stderr and "docker login" in done.stderr


def test_pins_json_is_the_keep_list_per_repository(registry, unique_repo, run, lock):
    a = registry.push(unique_repo, "a", build_image("pins a"))
    b = registry.push(unique_repo, "b", build_image("pins b"))
    registry.push(unique_repo, "c", build_image("pins a"))  # the same digest under two tags
    refs = [f"{registry.host}/{unique_repo}:{t}" for t in "abc"]
    assert run("lock", *refs).returncode == 0

    done = run("pins", "--json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {f"{registry.host}/{unique_repo}": sorted({a, b})}
    plain = run("pins")
    assert plain.stdout.splitlines() == [
        f"{registry.host}/{unique_repo}@{d}" for d in sorted({a, b})
    ]
    assert run("pins", "--lock", "absent.lock").returncode == 2
