"""`image-digest diff` rules on Kubernetes YAML: spelling never matters, digests do; several
digests of one repository compare as a set; a tag proves nothing; VM images are not images."""

from __future__ import annotations

import json
from pathlib import Path

from image_digest.audit import compare, read_deployment
from tests.audit.cli import run_cli

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def manifest(name: str, *images: str) -> str:
    containers = "".join(
        f"\n        - name: c{i}\n          image: {image}" for i, image in enumerate(images)
    )
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:{containers}
"""


VM = """---
apiVersion: compute.example.com/v1
kind: VirtualMachine
metadata:
  name: vm
spec:
  image: debian-cloud/debian-12
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_spellings_compare_by_digest(tmp_path: Path) -> None:
    staging = write(
        tmp_path / "staging.yaml",
        manifest("web", f"nginx:1.27@{A}", f"registry.example.com/team/api:v1@{B}") + VM,
    )
    production = write(
        tmp_path / "production.yaml",
        manifest("web", f"docker.io/library/nginx@{A}")
        + manifest("api", f"registry.example.com/team/api@{B}"),
    )

    comparison = compare(read_deployment(str(staging)), read_deployment(str(production)))

    assert comparison.same
    assert [r.repository for r in comparison.repositories] == [
        "docker.io/library/nginx",
        "registry.example.com/team/api",
    ]  # the VM's image is no container image
    assert comparison.a.format == "kubernetes"
    assert run_cli("diff", staging, production).returncode == 0


def test_digest_sets_tags_and_one_sided_repositories(tmp_path: Path) -> None:
    staging = write(
        tmp_path / "staging.yaml",
        manifest("web", f"nginx@{A}")
        + manifest("canary", f"nginx@{B}")
        + manifest("db", "redis:7"),
    )
    production = write(
        tmp_path / "production.yaml",
        manifest("web", f"nginx@{A}") + manifest("db", "redis:7") + manifest("q", f"rabbitmq@{A}"),
    )

    done = run_cli("diff", "--json", staging, production)

    assert done.returncode == 1
    report = json.loads(done.stdout)
    rows = {r["repository"]: r for r in report["repositories"]}
    assert rows["docker.io/library/nginx"]["status"] == "differs"
    assert rows["docker.io/library/nginx"]["a"]["digests"] == [A, B]
    assert rows["docker.io/library/nginx"]["b"]["digests"] == [A]
    assert rows["docker.io/library/redis"]["status"] == "by_tag"  # the same tag proves nothing
    assert rows["docker.io/library/redis"]["a"]["by_tag"] == ["redis:7"]
    assert rows["docker.io/library/rabbitmq"]["status"] == "only_in_b"
    assert rows["docker.io/library/rabbitmq"]["b"]["where"] == [
        "Deployment/q: spec.template.spec.containers[].image"
    ]
    assert report["counts"] == {
        "differs": 1,
        "only_in_a": 0,
        "only_in_b": 1,
        "by_tag": 1,
        "unknown": 0,
        "same": 0,
    }
    text = run_cli("diff", staging, production).stdout.splitlines()
    assert text == [
        f"~ docker.io/library/nginx: {A}, {B} -> {A}",
        f"+ docker.io/library/rabbitmq: {A} (only in {production})",
        f"? docker.io/library/redis: deployed by tag in {staging} and {production} (redis:7): "
        "a tag proves no digest",
    ]
