"""`image-digest external` as Terraform's `external` data source runs it: a subprocess given one
JSON object of strings on stdin, answering one JSON object of strings on stdout, or one error
line on stderr with exit status 1 and nothing on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit.cli import run_cli
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer, free_port

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def external(query: object, **env: str) -> tuple[dict[str, str], str]:
    """The answer to a successful query, and stderr."""
    stdin = query if isinstance(query, str) else json.dumps(query)
    done = run_cli("external", stdin=stdin, env=env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert done.stdout.count("\n") == 1 and isinstance(answer, dict)
    assert all(isinstance(value, str) for value in answer.values())
    return answer, done.stderr


def failure(stdin: str, **env: str) -> str:
    """The one error line of a failed query."""
    done = run_cli("external", stdin=stdin, env=env)
    assert done.returncode == 1, done
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("image-digest: error: ")
    return line


def test_answers_digest_repo_digest_and_media_type(
    registry: RegistryServer, unique_repo: str
) -> None:
    digest = registry.push(unique_repo, "v1", build_image("external"))
    image = registry.reference(unique_repo, "v1")

    answer, stderr = external({"image": image})

    assert answer == {
        "digest": digest,
        "repo_digest": f"{registry.host}/{unique_repo}@{digest}",
        "media_type": OCI_MANIFEST,
    }
    assert stderr == ""


def test_platform_selects_the_child_and_empty_means_the_index(
    registry: RegistryServer, unique_repo: str
) -> None:
    arm = build_image("external arm", architecture="arm64", variant="v8")
    index = build_index([build_image("external amd"), arm])
    top = registry.push(unique_repo, "multi", index)
    image = registry.reference(unique_repo, "multi")

    child, _ = external({"image": image, "platform": "linux/arm64"})
    whole, _ = external({"image": image, "platform": ""})

    assert (child["digest"], child["media_type"]) == (arm.digest, OCI_MANIFEST)
    assert (whole["digest"], whole["media_type"]) == (top, OCI_INDEX)


def test_honours_the_lock_file_and_mode_from_the_environment(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lock = str(tmp_path / "image-digest.lock")
    first = registry.push(unique_repo, "v1", build_image("external locked 1"))
    image = registry.reference(unique_repo, "v1")

    recorded, _ = external({"image": image}, IMAGE_DIGEST_LOCK=lock)
    assert recorded["digest"] == first
    assert json.loads(Path(lock).read_text())["images"][0]["digest"] == first

    registry.push(unique_repo, "v1", build_image("external locked 2"))  # the tag moves
    locked, _ = external({"image": image}, IMAGE_DIGEST_LOCK=lock, IMAGE_DIGEST_MODE="locked")
    assert locked["digest"] == first

    missing = failure(
        json.dumps({"image": registry.reference(unique_repo, "v2")}),
        IMAGE_DIGEST_LOCK=lock,
        IMAGE_DIGEST_MODE="locked",
    )
    assert "image-digest lock" in missing
    no_lock = failure(json.dumps({"image": image}), IMAGE_DIGEST_MODE="locked")
    assert "IMAGE_DIGEST_LOCK" in no_lock


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        ("image=nginx", ["stdin is not JSON", '{"image": "nginx:1.27"}']),
        ("", ["stdin is not JSON"]),
        ('["nginx:1.27"]', ["must be a JSON object of strings, not a list"]),
        ("{}", ["the query has no image", "platform is optional"]),
        ('{"image": ""}', ["the query has no image"]),
        ('{"platform": "linux/amd64"}', ["the query has no image"]),
        (
            '{"image": "nginx:1.27", "tag": "x"}',
            ["unknown query key(s) 'tag'", "image and platform"],
        ),
        ('{"image": 3}', ["value(s) of 'image' must be strings"]),
        ('{"image": "Nginx:1.27"}', ["invalid image reference 'Nginx:1.27'"]),
        ('{"image": "nginx:1.27", "platform": "arm64"}', ["invalid platform 'arm64'", "os/arch"]),
    ],
    ids=[
        "not-json",
        "empty",
        "not-object",
        "no-image",
        "empty-image",
        "only-platform",
        "unknown-key",
        "not-string",
        "bad-reference",
        "bad-platform",
    ],
)
def test_a_bad_query_is_one_error_line_and_exit_1(stdin: str, expected: list[str]) -> None:
    line = failure(stdin)

    for text in expected:
        assert text in line


def test_a_missing_tag_and_a_registry_that_is_down(
    registry: RegistryServer, unique_repo: str
) -> None:
    registry.push(unique_repo, "v1", build_image("external missing"))
    missing = registry.reference(unique_repo, "nope")
    down = f"127.0.0.1:{free_port()}/{unique_repo}:v1"

    assert missing in failure(json.dumps({"image": missing}))
    line = failure(json.dumps({"image": down}))
    assert down in line
