"""Readable pins (`keep_tag=True`, `--keep-tag`): `repo:tag@sha256:...` in the user's spelling,
with the digest deciding; everything that asks "is this pinned?" says yes to them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from image_digest import Resolver, has_digest, needs_resolution, pinned_reference
from image_digest.audit import Resource, tags_in
from image_digest.fields.unpinned import unpinned_images
from image_digest.pinning.lockfile import LockFile
from tests.support.images import build_image
from tests.support.registry import RegistryServer

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("ref", "plain", "readable"),
    [
        ("nginx:1.27", "nginx@" + DIGEST, "nginx:1.27@" + DIGEST),
        ("nginx", "nginx@" + DIGEST, "nginx@" + DIGEST),  # no tag written, none invented
        (
            "docker.io/library/nginx:1.27",
            "docker.io/library/nginx@" + DIGEST,
            "docker.io/library/nginx:1.27@" + DIGEST,
        ),
        (  # a digest the reference carries is replaced, its tag kept
            "localhost:5000/a/b:v1@sha256:" + "cd" * 32,
            "localhost:5000/a/b@" + DIGEST,
            "localhost:5000/a/b:v1@" + DIGEST,
        ),
    ],
)
def test_pinned_reference(ref: str, plain: str, readable: str) -> None:
    assert pinned_reference(ref, DIGEST) == plain
    assert pinned_reference(ref, DIGEST, keep_tag=True) == readable


def test_a_readable_pin_is_pinned_everywhere() -> None:
    readable = f"registry.example.com/team/api:1.27@{DIGEST}"
    assert has_digest(readable)
    assert not needs_resolution(readable)
    props = {"image": readable, "spec": {"containers": [{"image": readable}]}}
    assert unpinned_images(props) == []
    assert tags_in(Resource("pulumi", "docker:index/container:Container", "web", props)) == []


def test_resolver_keep_tag_keeps_the_written_tag_and_the_same_lock(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    digest = registry.push(unique_repo, "1.27", build_image(unique_repo))
    tag = registry.reference(unique_repo, "1.27")
    plain_lock, readable_lock = tmp_path / "plain.lock", tmp_path / "readable.lock"

    with Resolver(lock=readable_lock, keep_tag=True) as resolver:
        result = resolver.resolve(tag)
        given = resolver.resolve(f"{tag}@{digest}")
    with Resolver(lock=plain_lock) as resolver:
        plain = resolver.resolve(tag)

    assert result.repo_digest == f"{tag}@{digest}"
    assert result.readable == f"{tag}@{digest}"
    assert given.repo_digest == f"{tag}@{digest}" and given.source == "reference"
    assert plain.repo_digest == f"{registry.host}/{unique_repo}@{digest}"
    assert plain.readable == result.repo_digest
    assert result.digest == plain.digest

    def entries(path: Path) -> list[tuple[str, str]]:
        return [(e.reference, e.digest) for e in LockFile(path).entries()]

    assert entries(readable_lock) == entries(plain_lock) == [(f"{tag}", digest)]


def test_cli_resolve_keep_tag(registry: RegistryServer, unique_repo: str) -> None:
    digest = registry.push(unique_repo, "v2", build_image(unique_repo))
    tag = registry.reference(unique_repo, "v2")

    done = subprocess.run(
        [sys.executable, "-m", "image_digest", "resolve", "--keep-tag", tag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    as_json = subprocess.run(
        [sys.executable, "-m", "image_digest", "resolve", "--keep-tag", "--json", tag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tag}\t{tag}@{digest}\n"
    assert json.loads(as_json.stdout)[0]["repo_digest"] == f"{tag}@{digest}"
