"""The CDKTF programs in README.md and docs/cdktf.md run as written, on cdktf and on cdktn.

Each block is a whole program (`app.synth()` at the end); the test changes only the registry
host (to the real local registry) and, for cdktn, the imports the blocks' comments name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cdktf.harness import FLAVORS, resource, run_as_cdktf_synth
from tests.support.docs import code_block
from tests.support.images import build_image
from tests.support.registry import RegistryServer

DOC_HOST = "us-docker.pkg.dev/my-project/apps"


def run_program(code: str, framework: str, tmp_path: Path) -> dict[str, Any]:
    """`code` run as `cdktf synth` runs a program; the one stack's cdk.tf.json, parsed."""
    if framework == "cdktn":  # what the blocks' "# or: ..." comments say to change
        code = code.replace("from cdktf import", "from cdktn import")
        code = code.replace("cdktf_cdktf_provider_", "cdktn_provider_")
    run_as_cdktf_synth(code, framework, tmp_path / "out")
    return dict(json.loads((tmp_path / "out/stacks/service/cdk.tf.json").read_text()))


def push(registry: RegistryServer, unique_repo: str, *images: str) -> dict[str, str]:
    """`name:tag` (as the docs write it) -> the pinned reference the local registry gives."""
    pinned = {}
    for image in images:
        name, tag = image.split(":")
        digest = registry.push(f"{unique_repo}/{name}", tag, build_image(f"{unique_repo} {image}"))
        pinned[image] = f"{registry.host}/{unique_repo}/{name}@{digest}"
    return pinned


@pytest.mark.parametrize("framework", FLAVORS)
def test_readme_cloud_run_program_pins_both_containers(
    framework: str, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    code = code_block("README.md", "CloudRunV2Service(")
    pinned = push(registry, unique_repo, "api:latest", "proxy:1")

    synthesized = run_program(
        code.replace(DOC_HOST, f"{registry.host}/{unique_repo}"), framework, tmp_path
    )

    service = resource(synthesized, "google_cloud_run_v2_service", "api")
    assert service["template"]["containers"] == [
        {"name": "api", "image": pinned["api:latest"]},
        {"name": "proxy", "image": pinned["proxy:1"]},
    ]


@pytest.mark.parametrize("framework", FLAVORS)
def test_cdktf_doc_program_pins_four_ways(
    framework: str, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    code = code_block("docs/cdktf.md", "RegistryDigest(self")
    pinned = push(registry, unique_repo, "api:latest", "proxy:1", "migrate:latest")

    synthesized = run_program(
        code.replace(DOC_HOST, f"{registry.host}/{unique_repo}"), framework, tmp_path
    )

    pod = resource(synthesized, "kubernetes_deployment_v1", "web")["spec"]["template"]["spec"]
    assert pod["init_container"] == [{"name": "migrate", "image": pinned["migrate:latest"]}]
    assert pod["container"] == [
        {"name": "api", "image": pinned["api:latest"]},
        {"name": "proxy", "image": pinned["proxy:1"]},
        {"name": "worker", "image": "redis@${data.docker_registry_image.worker.sha256_digest}"},
    ]
    assert synthesized["data"]["docker_registry_image"]["worker"]["name"] == "redis:7"
