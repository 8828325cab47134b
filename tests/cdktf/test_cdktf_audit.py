"""`image-digest audit` on real synthesized stacks: `cdk.tf.json` as `cdktf synth` writes it.

A stack built with the prebuilt docker bindings and an escape hatch, synthesized by the
harness into `out/stacks/<name>/cdk.tf.json`, and the docker example synthesized as
`cdktf synth` runs it. Tags are findings; digests, plan-time expressions (RegistryDigest)
and images the stack builds are not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdktf_digest import RegistryDigest
from tests.audit.cli import audit_json, findings, run_cli
from tests.cdktf.harness import Cdk, TerraformWorkdir, synth_example
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def test_audit_of_a_synthesized_stack(
    cdk: Cdk, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    digest = registry.push(unique_repo, "v1", build_image("cdktf audit"))
    name = f"{registry.host}/{unique_repo}"
    workdir = TerraformWorkdir(cdk, tmp_path)

    def build(stack: Any) -> None:
        cdk.docker("provider").DockerProvider(stack, "docker")
        container = cdk.docker("container").Container
        container(stack, "web", name="web", image=f"{name}:v1")
        container(stack, "pinned", name="pinned", image=f"{name}@{digest}")
        worker = RegistryDigest(stack, "worker-image", image=f"{name}:v1")
        container(stack, "worker", name="worker", image=worker.repo_digest)
        cdk.escape_hatch(stack, "local", "docker_image", name="app:dev", build={"context": "."})
        cdk.escape_hatch(stack, "queue", "acme_worker", spec={"image": f"{name}:v1"})

    workdir.synth(build)
    stack = workdir.stack_dir / "cdk.tf.json"

    status, report = audit_json(stack)

    assert status == 1
    assert report["files"] == [{"file": str(stack), "format": "cdktf", "resources": 5}]
    assert findings(report) == {
        ("docker_container.web", "image", f"{name}:v1"),
        ("acme_worker.queue", "spec.image", f"{name}:v1"),
    }
    sources = {f["address"]: f["source"] for f in report["findings"]}
    assert sources == {"docker_container.web": "catalog", "acme_worker.queue": "heuristic"}


def test_the_docker_example_synthesizes_with_nothing_deployed_by_tag(
    registry: RegistryServer, unique_repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.push(unique_repo, "web", build_image("audit example web"))
    synth_example(
        "cdktf-docker",
        "docker",
        tmp_path,
        monkeypatch,
        WEB_IMAGE=registry.reference(unique_repo, "web"),
        WORKER_IMAGE=registry.reference(unique_repo, "worker"),
    )
    stack = tmp_path / "out" / "stacks" / "docker" / "cdk.tf.json"
    worker = json.loads(stack.read_text())["resource"]["docker_container"]["worker"]
    assert "${data.docker_registry_image." in worker["image"]  # known at plan time only

    done = run_cli("audit", stack)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    assert "no image deployed by tag (2 resources in 1 file)" in done.stderr
