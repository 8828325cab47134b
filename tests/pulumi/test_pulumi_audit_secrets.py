"""`[secret]` in a Pulumi stack export only for values Pulumi marks secret: a secret beside an
image that happens to contain the image's text does not hide the image."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_docker as docker

from tests.audit.cli import audit_json, findings
from tests.pulumi.harness.program import run_program
from tests.pulumi.test_pulumi_audit import export_document

CACHE_URL = "REDIS_URL=redis://default:hunter2@redis:7000/0"
CONTAINER = "docker:index/container:Container"


def urn(name: str) -> str:
    return f"urn:pulumi:dev::project::pulumi:pulumi:Stack${CONTAINER}::{name}"


def program() -> None:
    docker.Container("cache", image="redis:7", envs=[pulumi.Output.secret(CACHE_URL)])
    docker.Container("private", image=pulumi.Output.secret("registry.example.com/p/app:v3"))


def test_only_values_pulumi_marks_secret_are_secret(tmp_path: Path) -> None:
    deployment = run_program(program, preview=False)
    path = tmp_path / "stack.json"
    resources = list(deployment.resources.values())
    path.write_text(json.dumps(export_document(resources, "registry.example.com/p/old:v1")))

    status, report = audit_json(path)

    assert status == 1
    assert findings(report) == {
        (urn("cache"), "image", "redis:7"),
        (urn("private"), "image", "[secret]"),
    }
    assert {f["address"]: f["secret"] for f in report["findings"]} == {
        urn("cache"): False,
        urn("private"): True,
    }
