"""The examples synthesize as `cdktf synth` runs them (`python3 main.py`, here on this test
process's jsii kernel), on the local registry.

Their images come from environment variables, pointed here at fresh pushes to the real
registry; the docker example's providers cannot be downloaded here, so it is checked by synth.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cdktf.harness import resource, synth_example
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def test_cloudrun_example_deploys_both_containers_by_digest(
    registry: RegistryServer,
    unique_repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = registry.push(unique_repo, "latest", build_image("cloud run api"))
    proxy = registry.push(unique_repo, "proxy", build_image("cloud run proxy"))
    name = f"{registry.host}/{unique_repo}"

    synthesized = synth_example(
        "cdktf-cloudrun",
        "cloudrun",
        tmp_path,
        monkeypatch,
        APP_IMAGE=registry.reference(unique_repo),
        PROXY_IMAGE=registry.reference(unique_repo, "proxy"),
    )

    service = resource(synthesized, "google_cloud_run_v2_service", "api")
    assert service["template"]["containers"] == [
        {"name": "api", "image": f"{name}@{digest}", "ports": {"container_port": 8080}},
        {"name": "proxy", "image": f"{name}@{proxy}"},
    ]
    assert synthesized["output"]["digest"]["value"] == digest
    assert (
        synthesized["terraform"]["required_providers"]["google"]["source"] == "google"
    )  # hashicorp/


def test_docker_example_pins_at_synth_and_at_plan_time(
    registry: RegistryServer,
    unique_repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = registry.push(unique_repo, "web", build_image("docker web"))
    worker = registry.reference(unique_repo, "worker")

    synthesized = synth_example(
        "cdktf-docker",
        "docker",
        tmp_path,
        monkeypatch,
        WEB_IMAGE=registry.reference(unique_repo, "web"),
        WORKER_IMAGE=worker,
    )

    assert resource(synthesized, "docker_container", "web")["image"] == (
        f"{registry.host}/{unique_repo}@{digest}"
    )
    assert resource(synthesized, "docker_container", "worker")["image"] == (
        f"{registry.host}/{unique_repo}@${{data.docker_registry_image.worker-image.sha256_digest}}"
    )
    assert synthesized["data"]["docker_registry_image"]["worker-image"]["name"] == worker
