"""`pin-vars --keep-tag` before a real Terraform plan: readable pins that the audit accepts,
no change after an identical re-push, and one update after new content."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.cli import audit_json, run_cli
from tests.audit.terraform import HclWorkdir
from tests.support.images import build_image
from tests.support.registry import RegistryServer

MAIN_TF = """
variable "web_image" { type = string }
variable "task" { type = object({ containers = list(object({ name = string, image = string })) }) }

resource "terraform_data" "web" {
  input = { image = var.web_image }
}

resource "terraform_data" "task" {
  input = { container_definitions = jsonencode(var.task.containers) }
}
"""


def test_readable_pins_plan_changes_exactly_when_content_changes(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    web, worker = registry.reference(unique_repo, "1.27"), registry.reference(unique_repo, "w")
    first = registry.push(unique_repo, "1.27", build_image(f"{unique_repo} web v1"))
    worker_digest = registry.push(unique_repo, "w", build_image(f"{unique_repo} worker"))
    workdir = HclWorkdir(tmp_path / "config")
    variables = {"web_image": web, "task": {"containers": [{"name": "w", "image": worker}]}}
    workdir.write({"main.tf": MAIN_TF, "images.tfvars.json": json.dumps(variables)})
    workdir.init()
    pinned = workdir.root / "images.auto.tfvars.json"

    def pin_vars() -> dict[str, object]:
        done = run_cli("pin-vars", "--keep-tag", workdir.root / "images.tfvars.json", "-o", pinned)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(pinned.read_text()))

    assert pin_vars() == {
        "web_image": f"{web}@{first}",
        "task": {"containers": [{"name": "w", "image": f"{worker}@{worker_digest}"}]},
    }
    plan = workdir.plan_json()
    assert audit_json(plan)[0] == 0  # readable pins are pinned
    workdir.apply()

    assert registry.push(unique_repo, "1.27", build_image(f"{unique_repo} web v1")) == first
    pin_vars()
    unchanged = json.loads(workdir.plan_json().read_text())
    assert {tuple(c["change"]["actions"]) for c in unchanged["resource_changes"]} == {("no-op",)}

    second = registry.push(unique_repo, "1.27", build_image(f"{unique_repo} web v2"))
    pin_vars()
    changed = json.loads(workdir.plan_json().read_text())
    actions = {c["address"]: c["change"]["actions"] for c in changed["resource_changes"]}
    assert actions == {"terraform_data.web": ["update"], "terraform_data.task": ["no-op"]}
    after = next(c for c in changed["resource_changes"] if c["address"] == "terraform_data.web")
    assert after["change"]["after"]["input"] == {"image": f"{web}@{second}"}
