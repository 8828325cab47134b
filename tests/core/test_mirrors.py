"""Mirrors: resolve through a real pull-through cache (docker-registry in proxy mode) in front
of a real registry, deploy the program's name or the mirror's, and warn, naming both
digests, when the mirror is stale (it lost its upstream, and the tag moved meanwhile)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_digest import InvalidOptionError, LockError, Resolver
from image_digest.names.mirrors import parse_mirrors
from image_digest.names.reference import parse
from image_digest.pinning.lockfile import LockFile
from tests.support.images import build_image
from tests.support.mirror import PullThroughCache
from tests.support.registry import RegistryServer, require_tools


@pytest.fixture
def upstream() -> Iterator[RegistryServer]:
    """An upstream of this test's own, so it can be taken down (an air gap)."""
    require_tools()
    with RegistryServer("plain") as server:
        yield server


@pytest.fixture
def mirror(upstream: RegistryServer) -> Iterator[PullThroughCache]:
    with PullThroughCache(upstream) as cache:
        yield cache


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "image_digest", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_routes_by_the_longest_prefix() -> None:
    mirrors = parse_mirrors(
        {"docker.io": "mirror.example:5000/hub", "index.docker.io/bitnami": "localhost:5001/"}
    )
    assert mirrors.as_dict() == {
        "docker.io": "mirror.example:5000/hub",
        "docker.io/bitnami": "localhost:5001",
    }
    assert str(mirrors.route(parse("nginx:1.27"))) == "mirror.example:5000/hub/library/nginx:1.27"
    assert str(mirrors.route(parse("bitnami/redis:7"))) == "localhost:5001/redis:7"
    assert mirrors.route(parse("ghcr.io/acme/app:v1")) is None
    assert parse_mirrors(["ghcr.io/acme=m.example/ghcr"]).as_dict() == {
        "ghcr.io/acme": "m.example/ghcr"
    }


@pytest.mark.parametrize(
    ("mirrors", "message"),
    [
        ({"nginx": "m.example"}, "a mirror's source must be a registry host"),
        ({"docker.io": "hub"}, "a mirror's target must be a registry host"),
        ({"docker.io": "m.example/hub:latest"}, "without tag or digest"),
        (["docker.io"], "must be SOURCE=MIRROR"),
        ({"docker.io": "a.example", "index.docker.io": "b.example"}, "given twice"),
    ],
)
def test_bad_mirrors_are_named(mirrors: object, message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        Resolver(mirrors=mirrors)  # type: ignore[arg-type]


def test_resolves_through_the_mirror_and_deploys_the_program_name(
    upstream: RegistryServer, mirror: PullThroughCache, unique_repo: str, tmp_path: Path
) -> None:
    digest = upstream.push(unique_repo, "v1", build_image(unique_repo))
    tag = upstream.reference(unique_repo, "v1")
    lock = tmp_path / "image-digest.lock"

    with Resolver(mirrors={upstream.host: mirror.host}, lock=lock) as resolver:
        result = resolver.resolve(tag)
    with Resolver(mirrors={upstream.host: mirror.host}, deploy_from="mirror") as resolver:
        mirrored = resolver.resolve(tag)
    with Resolver(
        mirrors={upstream.host: mirror.host}, deploy_from="mirror", keep_tag=True
    ) as resolver:
        readable = resolver.resolve(tag)

    assert result.digest == digest
    assert result.repo_digest == f"{upstream.host}/{unique_repo}@{digest}"
    assert result.mirror == f"{mirror.host}/{unique_repo}:v1"
    assert result.warning is None
    assert f'"HEAD /v2/{unique_repo}/manifests/v1 HTTP/1.1" 200' in mirror.log_tail(400)
    assert [(e.reference, e.digest) for e in LockFile(lock).entries()] == [(tag, digest)]
    assert mirrored.repo_digest == f"{mirror.host}/{unique_repo}@{digest}"
    assert readable.repo_digest == f"{mirror.host}/{unique_repo}:v1@{digest}"
    # The mirror serves the pinned digest: what deploy_from="mirror" deploys can be pulled.
    assert mirror.head_digest(unique_repo, digest) == digest


def test_a_stale_mirror_is_named_with_both_digests(
    upstream: RegistryServer,
    mirror: PullThroughCache,
    unique_repo: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = upstream.push(unique_repo, "v1", build_image(f"{unique_repo} v1"))
    tag = upstream.reference(unique_repo, "v1")
    mirrors = {upstream.host: mirror.host}
    with Resolver(mirrors=mirrors) as resolver:
        assert resolver.resolve(tag).digest == old  # the mirror caches the tag
    mirror.cut()
    new = upstream.push(unique_repo, "v1", build_image(f"{unique_repo} v2"))

    with caplog.at_level(logging.WARNING, logger="image_digest"), Resolver(mirrors=mirrors) as r:
        result = r.resolve(tag)

    assert result.digest == old
    assert result.warning is not None
    for named in (f"{mirror.host}/{unique_repo}:v1", old, tag, new, "stale"):
        assert named in result.warning
    assert [record.getMessage() for record in caplog.records] == [result.warning]

    done = cli("resolve", "--mirror", f"{upstream.host}={mirror.host}", tag)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tag}\t{upstream.host}/{unique_repo}@{old}\n"
    assert f"image-digest: warning: stale mirror for {tag}" in done.stderr
    assert new in done.stderr


def test_an_unreachable_upstream_is_an_air_gap_not_a_failure(
    upstream: RegistryServer, mirror: PullThroughCache, unique_repo: str
) -> None:
    digests = {
        upstream.reference(unique_repo, tag): upstream.push(
            unique_repo, tag, build_image(f"{unique_repo} {tag}")
        )
        for tag in ("v1", "v2", "v3")
    }
    mirrors = {upstream.host: mirror.host}
    with Resolver(mirrors=mirrors, with_labels=True) as resolver:
        resolver.resolve_many(digests)  # the mirror caches manifests and configs, as pulls do
    mirror.cut()
    upstream.stop()

    def served() -> int:
        return mirror.log_tail(100_000).count(' HTTP/1.1" ')

    before = served()
    with Resolver(mirrors=mirrors) as resolver:
        results = [resolver.resolve(tag) for tag in digests]
        requests = resolver.request_count()

    assert [(r.digest, r.warning) for r in results] == [(d, None) for d in digests.values()]
    # One attempt at the upstream (no retries), then it is not asked again in this run.
    assert requests - (served() - before) == 1
    # min_age reads the image's age from the mirror too, not from the unreachable upstream.
    with Resolver(mirrors=mirrors, min_age="1h", retries=0) as resolver:
        assert resolver.resolve(next(iter(digests))).digest == digests[next(iter(digests))]


def test_cli_lock_and_deploy_from(
    upstream: RegistryServer, mirror: PullThroughCache, unique_repo: str, tmp_path: Path
) -> None:
    digest = upstream.push(unique_repo, "v1", build_image(unique_repo))
    tag = upstream.reference(unique_repo, "v1")
    lock = tmp_path / "image-digest.lock"
    route = f"{upstream.host}={mirror.host}"

    locked = cli("lock", "--lock", lock, "--mirror", route, tag)
    resolved = cli("resolve", "--json", "--mirror", route, "--deploy-from", "mirror", tag)
    bad = cli("resolve", "--mirror", "docker.io", tag)

    assert locked.returncode == 0, locked.stderr
    assert [(e.reference, e.digest) for e in LockFile(lock).entries()] == [(tag, digest)]
    assert resolved.returncode == 0, resolved.stderr
    [answer] = json.loads(resolved.stdout)
    assert answer["repo_digest"] == f"{mirror.host}/{unique_repo}@{digest}"
    assert answer["mirror"] == f"{mirror.host}/{unique_repo}:v1"
    assert bad.returncode == 2
    assert "must be SOURCE=MIRROR" in bad.stderr


def test_lock_settings_choose_the_mirror_and_survive_updates(
    upstream: RegistryServer, mirror: PullThroughCache, unique_repo: str, tmp_path: Path
) -> None:
    digest = upstream.push(unique_repo, "v1", build_image(unique_repo))
    tag = upstream.reference(unique_repo, "v1")
    lock = tmp_path / "image-digest.lock"
    settings = {"mirrors": {upstream.host: mirror.host}, "deploy_from": "mirror"}
    lock.write_text(
        json.dumps({"format": "image-digest.lock/v1", "images": [], "settings": settings})
    )

    with Resolver(lock=lock) as resolver:
        result = resolver.resolve(tag)
    with Resolver(lock=lock, deploy_from="program") as resolver:
        as_written = resolver.resolve(tag)
    locked = cli("lock", "--lock", lock, tag)

    assert result.repo_digest == f"{mirror.host}/{unique_repo}@{digest}"
    assert result.mirror == f"{mirror.host}/{unique_repo}:v1"
    assert as_written.repo_digest == f"{upstream.host}/{unique_repo}@{digest}"
    assert locked.returncode == 0, locked.stderr
    document = json.loads(lock.read_text())
    assert document["settings"] == settings  # kept by every update
    assert [(i["reference"], i["digest"]) for i in document["images"]] == [(tag, digest)]


def test_bad_lock_settings_name_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "image-digest.lock"
    lock.write_text(
        json.dumps(
            {
                "format": "image-digest.lock/v1",
                "images": [],
                "settings": {"mirrors": {"docker.io": "hub"}},
            }
        )
    )
    with pytest.raises(InvalidOptionError, match=f"settings of lock file {lock}"):
        Resolver(lock=lock)
    lock.write_text(json.dumps({"format": "image-digest.lock/v1", "images": [], "settings": []}))
    # A lock that cannot be read fails where it is first used (so a fallback can name the
    # registry error beside it), here at once, with no network in mode locked.
    with pytest.raises(LockError, match='"settings" must be an object'):
        Resolver(lock=lock, mode="locked").resolve("docker.io/library/nginx:1.27")
