"""The core against a real docker-registry: media types, moves, auth, platforms, skopeo."""

from __future__ import annotations

import hashlib

import pytest

import image_digest
from image_digest import (
    AuthenticationError,
    PlatformNotFoundError,
    RepositoryNotFoundError,
    Resolver,
    TagNotFoundError,
)
from tests.support.images import build_artifact, build_image, build_index


@pytest.fixture
def resolver(tmp_path, monkeypatch) -> Resolver:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    with Resolver() as r:
        yield r


@pytest.mark.parametrize(
    "artifact",
    [
        pytest.param(build_image("oci one"), id="oci-manifest"),
        pytest.param(build_image("docker one", media="docker"), id="docker-v2"),
        pytest.param(
            build_index([build_image("a"), build_image("b", architecture="arm64", variant="v8")]),
            id="oci-index",
        ),
        pytest.param(
            build_index(
                [
                    build_image("a", media="docker"),
                    build_image("b", media="docker", architecture="arm64"),
                ],
                media="docker",
            ),
            id="docker-manifest-list",
        ),
        pytest.param(build_artifact("an artifact"), id="oci-artifact"),
    ],
)
def test_each_media_type_resolves_to_the_pushed_digest(registry, unique_repo, resolver, artifact):
    pushed = registry.push(unique_repo, "v1", artifact)
    ref = f"{registry.host}/{unique_repo}:v1"

    resolved = resolver.resolve(ref)

    assert resolved.digest == pushed == artifact.digest
    assert resolved.repo_digest == f"{registry.host}/{unique_repo}@{pushed}"
    assert resolved.media_type == artifact.media_type
    assert resolved.reference == ref
    assert resolved.platform is None
    assert resolved.source == "registry"


def test_digest_agrees_with_skopeo_inspect_raw(registry, unique_repo, resolver):
    index = build_index([build_image("x"), build_image("y", architecture="arm64")])
    registry.push(unique_repo, "multi", index)
    raw = registry.skopeo_raw(unique_repo, "multi")

    resolved = resolver.resolve(f"{registry.host}/{unique_repo}:multi")

    assert resolved.digest == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_moved_tag_gives_new_digest_and_identical_repush_the_same(registry, unique_repo):
    ref = f"{registry.host}/{unique_repo}:latest"
    first = registry.push(unique_repo, "latest", build_image("release 1"))
    assert image_digest.resolve(ref).digest == first

    registry.push(unique_repo, "latest", build_image("release 1"))
    assert image_digest.resolve(ref).digest == first

    second = registry.push(unique_repo, "latest", build_image("release 2"))
    assert second != first
    assert image_digest.resolve(ref).digest == second


def test_missing_tag_means_latest(registry, unique_repo, resolver):
    pushed = registry.push(unique_repo, "latest", build_image("implicit latest"))
    resolved = resolver.resolve(f"{registry.host}/{unique_repo}")
    assert resolved.digest == pushed
    assert resolved.repo_digest == f"{registry.host}/{unique_repo}@{pushed}"


def test_missing_tag_and_missing_repository_are_told_apart(registry, unique_repo, resolver):
    registry.push(unique_repo, "exists", build_image("present"))

    with pytest.raises(TagNotFoundError) as tag_error:
        resolver.resolve(f"{registry.host}/{unique_repo}:absent")
    assert "absent" in str(tag_error.value) and registry.host in str(tag_error.value)

    with pytest.raises(RepositoryNotFoundError) as repo_error:
        resolver.resolve(f"{registry.host}/{unique_repo}-nope:v1")
    assert f"{unique_repo}-nope" in str(repo_error.value)


def test_a_mistyped_tag_is_answered_with_the_repositorys_close_tags(
    registry, unique_repo, resolver
):
    for tag in ("1.27.3", "1.27.3-alpine", "stable"):
        registry.push(unique_repo, tag, build_image(f"{unique_repo} {tag}"))
    before = resolver.request_count()

    with pytest.raises(TagNotFoundError) as error:
        resolver.resolve(f"{registry.host}/{unique_repo}:1.27.30")

    assert "did you mean '1.27.3' or '1.27.3-alpine'?" in str(error.value)
    with pytest.raises(TagNotFoundError) as unrelated:
        resolver.resolve(f"{registry.host}/{unique_repo}:zzzz")
    assert "did you mean" not in str(unrelated.value)
    # one ping, then per miss: the manifest HEAD, one GET of its error text, one tags/list page
    assert resolver.request_count() - before == 1 + 2 * 3


def test_reference_with_digest_makes_no_request(registry, resolver):
    digest = "sha256:" + "ab" * 32
    resolved = resolver.resolve(f"{registry.host}/never/pushed@{digest}")
    assert resolved.digest == digest
    assert resolved.source == "reference"
    assert resolver.request_count() == 0


def test_platform_selection_from_an_index(registry, unique_repo, resolver):
    amd = build_image("p", architecture="amd64")
    arm = build_image("p", architecture="arm64", variant="v8")
    registry.push(unique_repo, "multi", build_index([amd, arm]))
    ref = f"{registry.host}/{unique_repo}:multi"

    assert resolver.resolve(ref, platform="linux/arm64").digest == arm.digest
    assert resolver.resolve(ref, platform="linux/arm64/v8").digest == arm.digest
    chosen = resolver.resolve(ref, platform="linux/amd64")
    assert chosen.digest == amd.digest
    assert chosen.platform == "linux/amd64"
    assert chosen.repo_digest.endswith("@" + amd.digest)

    with pytest.raises(PlatformNotFoundError) as missing:
        resolver.resolve(ref, platform="windows/amd64")
    assert "linux/amd64" in str(missing.value) and "linux/arm64/v8" in str(missing.value)


def test_platform_of_a_single_image_is_checked(registry, unique_repo, resolver):
    image = build_image("single", architecture="amd64")
    registry.push(unique_repo, "one", image)
    ref = f"{registry.host}/{unique_repo}:one"
    assert resolver.resolve(ref, platform="linux/amd64").digest == image.digest
    with pytest.raises(PlatformNotFoundError):
        resolver.resolve(ref, platform="linux/arm64")


def test_basic_auth_with_explicit_credentials(basic_registry, unique_repo, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    pushed = basic_registry.push(unique_repo, "v1", build_image("basic"))
    ref = f"{basic_registry.host}/{unique_repo}:v1"

    good = Resolver(credentials={basic_registry.host: ("alice", basic_registry.password)})
    assert good.resolve(ref).digest == pushed

    with pytest.raises(AuthenticationError) as wrong:
        Resolver(credentials={basic_registry.host: ("alice", "wrong-password")}).resolve(ref)
    assert "wrong-password" not in str(wrong.value)
    assert basic_registry.host in str(wrong.value)

    with pytest.raises(AuthenticationError) as anonymous:
        Resolver().resolve(ref)
    assert "docker login" in str(anonymous.value)


def test_basic_auth_from_docker_config(basic_registry, unique_repo, tmp_path, monkeypatch):
    import base64
    import json

    pushed = basic_registry.push(unique_repo, "v1", build_image("from config"))
    auth = base64.b64encode(f"alice:{basic_registry.password}".encode()).decode()
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {basic_registry.host: {"auth": auth}}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))

    assert Resolver().resolve(f"{basic_registry.host}/{unique_repo}:v1").digest == pushed


def test_token_auth_anonymous_and_with_credentials(token_registry, unique_repo, resolver):
    pushed = token_registry.push(unique_repo, "v1", build_image("token"))
    ref = f"{token_registry.host}/{unique_repo}:v1"
    assert resolver.resolve(ref).digest == pushed

    named = Resolver(credentials={token_registry.host: ("alice", token_registry.password)})
    assert named.resolve(ref).digest == pushed


def test_token_auth_wrong_credentials(token_registry, unique_repo):
    token_registry.push(unique_repo, "v1", build_image("token wrong"))
    bad = Resolver(credentials={token_registry.host: ("alice", "not-the-password")})
    with pytest.raises(AuthenticationError) as error:
        bad.resolve(f"{token_registry.host}/{unique_repo}:v1")
    assert "not-the-password" not in str(error.value)


def test_resolve_many_one_token_for_many_repositories(token_registry, unique_repo):
    refs = []
    for n in range(3):
        repo = f"{unique_repo}-{n}"
        token_registry.push(repo, "v1", build_image(f"many {n}"))
        refs.append(f"{token_registry.host}/{repo}:v1")
    token_registry.token_server.reset()

    with Resolver() as resolver:
        results = resolver.resolve_many(refs)
        assert set(results) == set(refs)
        # one ping, one token, one HEAD per reference
        assert resolver.request_count() == 1 + 1 + len(refs)
    assert len(token_registry.token_server.token_requests()) == 1


def test_resolve_many_reports_every_failure_and_keeps_successes(registry, unique_repo):
    pushed = registry.push(unique_repo, "ok", build_image("ok"))
    good = f"{registry.host}/{unique_repo}:ok"
    missing = f"{registry.host}/{unique_repo}:missing"
    with Resolver() as resolver, pytest.raises(image_digest.BatchResolutionError) as error:
        resolver.resolve_many([good, missing, "Not A Ref"])
    assert set(error.value.errors) == {missing, "Not A Ref"}
    assert error.value.results[good].digest == pushed
    assert missing in str(error.value) and "Not A Ref" in str(error.value)
