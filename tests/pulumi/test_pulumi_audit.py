"""`image-digest audit` on a Pulumi preview (`pulumi preview --json`) and a stack export.

A small program runs through the test engine (`run_program`); its registrations (type, URN,
inputs as the engine received them) are written out in the documented shapes (see
`image_digest.audit.pulumi`): unknowns as Pulumi's unknown marker, secrets as `[secret]` in
the preview and as signed plaintext in an export made with `--show-secrets`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_kubernetes as k8s
from pulumi.runtime import rpc

from image_digest.audit.pulumi import SECRET_SIG, UNKNOWN
from tests.audit.cli import audit_json, findings, run_cli
from tests.pulumi.harness.engine import Registration
from tests.pulumi.harness.program import EchoMocks, run_program
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def wire(value: Any, *, secrets: Callable[[Any], Any]) -> Any:
    """Inputs as the CLI writes them: unknowns as the marker, secrets by `secrets`."""
    if rpc.is_rpc_secret(value):
        return secrets(wire(rpc.unwrap_rpc_secret(value), secrets=secrets))
    if isinstance(value, dict):
        return {k: wire(v, secrets=secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v, secrets=secrets) for v in value]
    if type(value).__name__ == "Unknown" or value == rpc.UNKNOWN:
        return UNKNOWN
    return value


def state(registration: Registration, *, secrets: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "urn": registration.urn,
        "custom": True,
        "type": registration.type,
        "inputs": wire(registration.raw_inputs, secrets=secrets),
    }


def preview_document(registrations: list[Registration], tag: str) -> dict[str, Any]:
    def hidden(_: Any) -> str:
        return "[secret]"

    steps = [
        {"op": "create", "urn": r.urn, "newState": state(r, secrets=hidden)} for r in registrations
    ]
    # Steps that deploy nothing new: never audited, whatever their state holds.
    for op in ("same", "delete", "read"):
        urn = f"urn:pulumi:dev::project::docker:index/container:Container::{op}"
        old = {"urn": urn, "type": "docker:index/container:Container", "inputs": {"image": tag}}
        steps.append({"op": op, "urn": urn, "oldState": old, "newState": old})
    return {"config": {}, "steps": steps, "changeSummary": {"create": len(registrations)}}


def export_document(registrations: list[Registration], tag: str) -> dict[str, Any]:
    def shown(value: Any) -> dict[str, str]:
        return {SECRET_SIG[0]: SECRET_SIG[1], "plaintext": json.dumps(value)}

    stack = {"urn": "urn:pulumi:dev::project::pulumi:pulumi:Stack::project-dev", "custom": False}
    pending = state(registrations[0], secrets=shown) | {"delete": True}
    pending["inputs"] = {"image": tag}
    resources = [stack, *(state(r, secrets=shown) for r in registrations), pending]
    manifest = {"time": "2025-01-01T00:00:00Z", "magic": "", "version": "v3.150.0"}
    return {"version": 3, "deployment": {"manifest": manifest, "resources": resources}}


class Program:
    """Tags in a catalog field (docker, Kubernetes, a remote image), a heuristic one, a digest,
    a value unknown during preview, and a secret."""

    def __init__(self, registry: RegistryServer, repo: str) -> None:
        self.digest = registry.push(repo, "v1", build_image(f"{repo} pulumi audit"))
        self.name = f"{registry.host}/{repo}"
        self.tag = f"{self.name}:v1"
        self.pinned = f"{self.name}@{self.digest}"

    def __call__(self) -> None:
        docker.Container("web", image=self.tag)
        docker.Container("pinned", image=self.pinned)
        base = docker.RemoteImage("base", name=self.tag)
        docker.Container("later", image=base.repo_digest)
        docker.Container("secret", image=pulumi.Output.secret(f"{self.name}:secret"))
        pulumi.CustomResource("acme:index:Worker", "queue", {"spec": {"image": self.tag}})
        k8s.apps.v1.Deployment(
            "app",
            spec={
                "selector": {"match_labels": {"app": "a"}},
                "template": {
                    "metadata": {"labels": {"app": "a"}},
                    "spec": {"containers": [{"name": "a", "image": self.tag}]},
                },
            },
        )

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:dev::project::pulumi:pulumi:Stack${type_}::{name}"


def test_audit_of_a_preview(registry: RegistryServer, unique_repo: str, tmp_path: Path) -> None:
    program = Program(registry, unique_repo)
    deployment = run_program(program, preview=True)
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview_document(list(deployment.resources.values()), program.tag)))
    later = deployment["later"].raw_inputs["image"]
    assert type(later).__name__ == "Unknown"  # repo_digest is not known during a preview

    status, report = audit_json(path)

    assert status == 1
    assert report["files"] == [{"file": str(path), "format": "pulumi-preview", "resources": 7}]
    container = "docker:index/container:Container"
    deployment_type = "kubernetes:apps/v1:Deployment"
    assert findings(report) == {
        (program.urn(container, "web"), "image", program.tag),
        (program.urn("docker:index/remoteImage:RemoteImage", "base"), "name", program.tag),
        (program.urn("acme:index:Worker", "queue"), "spec.image", program.tag),
        (
            program.urn(deployment_type, "app"),
            "spec.template.spec.containers[].image",
            program.tag,
        ),
    }


def test_audit_of_a_stack_export(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    program = Program(registry, unique_repo)
    mocks = EchoMocks({"base": {"repoDigest": program.pinned}})
    deployment = run_program(program, preview=False, mocks=mocks)
    path = tmp_path / "stack.json"
    path.write_text(json.dumps(export_document(list(deployment.resources.values()), program.tag)))

    status, report = audit_json(path)

    assert status == 1
    assert report["files"] == [{"file": str(path), "format": "pulumi-export", "resources": 8}]
    container = "docker:index/container:Container"
    assert findings(report) == {
        (program.urn(container, "web"), "image", program.tag),
        (program.urn(container, "secret"), "image", "[secret]"),  # seen, never shown
        (program.urn("docker:index/remoteImage:RemoteImage", "base"), "name", program.tag),
        (program.urn("acme:index:Worker", "queue"), "spec.image", program.tag),
        (
            program.urn("kubernetes:apps/v1:Deployment", "app"),
            "spec.template.spec.containers[].image",
            program.tag,
        ),
    }
    assert [f["secret"] for f in report["findings"]].count(True) == 1
    text = run_cli("audit", path)
    assert text.returncode == 1 and f"{program.name}:secret" not in text.stdout + text.stderr
