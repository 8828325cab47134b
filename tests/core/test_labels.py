"""Provenance: image config labels, read on request, from images pushed to a real registry."""

from __future__ import annotations

import pytest
import requests

from image_digest import LockFile, NotFoundError, Resolver
from tests.support.images import build_artifact, build_image, build_index

REVISION = "org.opencontainers.image.revision"


def oci_labels(revision: str) -> dict[str, str]:
    return {
        REVISION: revision,
        "org.opencontainers.image.source": "https://github.com/example/app",
        "org.opencontainers.image.version": "1.2.3",
        "org.opencontainers.image.created": "2026-01-02T03:04:05Z",
    }


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)


@pytest.mark.parametrize("media", ["oci", "docker"])
def test_labels_of_a_single_image(registry, unique_repo, media):
    labels = oci_labels("0123456789abcdef0123456789abcdef01234567")
    pushed = registry.push(unique_repo, "v1", build_image("labelled", labels=labels, media=media))
    ref = f"{registry.host}/{unique_repo}:v1"

    with Resolver(with_labels=True) as resolver:
        resolved = resolver.resolve(ref)
    assert resolved.digest == pushed
    assert resolved.labels == labels
    assert resolved.labels_platform == "linux/amd64"
    assert resolved.as_dict()["labels"] == labels


@pytest.mark.parametrize("media", ["oci", "docker"])
def test_index_without_platform_reads_linux_amd64_and_says_so(registry, unique_repo, media):
    arm = build_image("i", labels=oci_labels("arm"), architecture="arm64", media=media)
    amd = build_image("i", labels=oci_labels("amd"), media=media)
    registry.push(unique_repo, "multi", build_index([arm, amd], media=media))
    ref = f"{registry.host}/{unique_repo}:multi"

    with Resolver(with_labels=True) as resolver:
        whole = resolver.resolve(ref)
        chosen = resolver.resolve(ref, platform="linux/arm64")
    assert whole.platform is None and whole.digest != amd.digest  # still the index digest
    assert whole.labels is not None and whole.labels[REVISION] == "amd"
    assert whole.labels_platform == "linux/amd64"
    assert chosen.digest == arm.digest
    assert chosen.labels is not None and chosen.labels[REVISION] == "arm"
    assert chosen.labels_platform == "linux/arm64"


def test_index_without_linux_amd64_reads_the_first_real_platform(registry, unique_repo):
    attestation = build_image("att", os="unknown", architecture="unknown")
    arm = build_image("f", labels={REVISION: "arm64"}, architecture="arm64", variant="v8")
    armv7 = build_image("f", labels={REVISION: "armv7"}, architecture="arm", variant="v7")
    registry.push(unique_repo, "arm", build_index([attestation, arm, armv7]))

    with Resolver(with_labels=True) as resolver:
        resolved = resolver.resolve(f"{registry.host}/{unique_repo}:arm")
    assert resolved.labels == {REVISION: "arm64"}
    assert resolved.labels_platform == "linux/arm64/v8"


def test_labels_cost_requests_only_when_asked(registry, unique_repo):
    registry.push(unique_repo, "v1", build_image("cost", labels={REVISION: "c"}))
    ref = f"{registry.host}/{unique_repo}:v1"

    with Resolver() as plain:
        resolved = plain.resolve(ref)
        assert plain.request_count() == 2  # ping, HEAD
    assert resolved.labels is None and resolved.labels_platform is None
    assert "labels" not in resolved.as_dict()

    with Resolver(with_labels=True) as labelled:
        labelled.resolve(ref)
        assert labelled.request_count() == 2 + 2  # + manifest GET, config blob GET
        labelled.resolve(ref, platform="linux/amd64")  # the config is cached by digest
        assert labelled.request_count() == 4 + 1  # just the HEAD


def test_images_without_labels_and_artifacts_give_empty_labels(registry, unique_repo):
    registry.push(unique_repo, "bare", build_image("no labels"))
    registry.push(unique_repo, "artifact", build_artifact("not an image"))
    with Resolver(with_labels=True) as resolver:
        assert resolver.resolve(f"{registry.host}/{unique_repo}:bare").labels == {}
        artifact = resolver.resolve(f"{registry.host}/{unique_repo}:artifact")
    assert artifact.labels == {} and artifact.labels_platform is None


def test_the_revision_is_recorded_in_the_lock(registry, unique_repo, tmp_path):
    lock = tmp_path / "image-digest.lock"
    registry.push(unique_repo, "v1", build_image("rev", labels=oci_labels("feedbeef")))
    ref = f"{registry.host}/{unique_repo}:v1"

    with Resolver(lock=lock) as plain:
        plain.resolve(ref)
    [entry] = LockFile(lock).entries()
    assert entry.revision is None

    with Resolver(lock=lock, with_labels=True) as labelled:
        labelled.resolve(ref)
    [with_revision] = LockFile(lock).entries()
    assert with_revision.revision == "feedbeef"
    assert with_revision.resolved_at == entry.resolved_at

    with Resolver(lock=lock, mode="locked", with_labels=True) as locked:
        from_lock = locked.resolve(ref)
        assert locked.request_count() == 0
    assert from_lock.labels is None  # the lock holds pins, not labels


def test_inspect_reads_labels_of_a_digest_and_reports_it_gone(registry, unique_repo):
    old = build_image("inspect 1", labels={REVISION: "one"})
    old_digest = registry.push(unique_repo, "v1", old)
    registry.push(unique_repo, "v1", build_image("inspect 2", labels={REVISION: "two"}))
    pinned = f"{registry.host}/{unique_repo}@{old_digest}"

    with Resolver() as resolver:
        assert resolver.resolve(pinned).labels is None  # resolve never looks a digest up
        assert resolver.request_count() == 0
        inspected = resolver.inspect(pinned)
        assert inspected.digest == old_digest
        assert inspected.labels == {REVISION: "one"}
        assert resolver.inspect(f"{registry.host}/{unique_repo}:v1").labels == {REVISION: "two"}

        deleted = requests.delete(f"{registry.url}/v2/{unique_repo}/manifests/{old_digest}")
        assert deleted.status_code == 202
        with pytest.raises(NotFoundError) as gone:
            resolver.inspect(pinned)
    assert old_digest in str(gone.value)
