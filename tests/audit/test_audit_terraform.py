"""`audit` on real Terraform plans of an HCL configuration, and `pin-vars` making them pass.

The configuration feeds image references from variables into `terraform_data` inputs the way
provider resources hold them: a plain field, a list of blocks, a jsonencode'd container
definitions string, a JSON properties string, and a resource in a local module. Terraform
plans it (`plan -out`, `show -json`), and audit must find every tag with its address; after
`pin-vars` writes `images.auto.tfvars.json`, the re-plan deploys only digests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.audit.cli import audit_json, findings, run_cli
from tests.audit.terraform import HclWorkdir
from tests.support.images import build_image
from tests.support.registry import RegistryServer

MAIN_TF = """
variable "web_image" { type = string }
variable "sidecars" { type = list(object({ name = string, image = string })) }
variable "task" {
  type = object({ family = string, containers = list(object({ name = string, image = string })) })
}
variable "batch" { type = object({ container_properties = string }) }
variable "job_image" { type = string }
variable "pinned_image" { type = string }
variable "private_image" {
  type      = string
  sensitive = true
}

resource "terraform_data" "web" {
  input = { image = var.web_image, sidecars = var.sidecars }
}

resource "terraform_data" "task" {
  input = {
    family                = var.task.family
    container_definitions = jsonencode(var.task.containers)
  }
}

resource "terraform_data" "batch" {
  input = var.batch
}

resource "terraform_data" "private" {
  input = { image = var.private_image }
}

resource "terraform_data" "pinned" {
  input = { image = var.pinned_image }
}

# Known only after apply: never a finding.
resource "terraform_data" "later" {
  input = { image = "${terraform_data.web.id}:v1" }
}

module "jobs" {
  source = "./modules/jobs"
  image  = var.job_image
}
"""

JOBS_TF = """
variable "image" { type = string }

resource "terraform_data" "job" {
  input = { image = var.image, schedule = "daily" }
}
"""


class Images:
    """Five tags pushed to the registry, and the digest each must be pinned to."""

    def __init__(self, registry: RegistryServer, repo: str) -> None:
        self.tag: dict[str, str] = {}
        self.pinned: dict[str, str] = {}
        for role in ("web", "sidecar", "app", "batch", "job", "private"):
            digest = registry.push(repo, role, build_image(f"{repo}/{role}"))
            self.tag[role] = registry.reference(repo, role)
            self.pinned[role] = f"{registry.host}/{repo}@{digest}"
        self.digest_reference = self.pinned["web"]

    def variables(self) -> dict[str, object]:
        return {
            "web_image": self.tag["web"],
            "sidecars": [{"name": "log", "image": self.tag["sidecar"]}],
            "task": {"family": "app", "containers": [{"name": "app", "image": self.tag["app"]}]},
            "batch": {"container_properties": json.dumps({"image": self.tag["batch"]})},
            "job_image": self.tag["job"],
            "pinned_image": self.digest_reference,
            "private_image": self.tag["private"],
        }


@pytest.fixture
def images(registry: RegistryServer, unique_repo: str) -> Images:
    return Images(registry, unique_repo)


@pytest.fixture
def workdir(tmp_path: Path, images: Images) -> HclWorkdir:
    workdir = HclWorkdir(tmp_path / "config")
    workdir.write(
        {
            "main.tf": MAIN_TF,
            "modules/jobs/main.tf": JOBS_TF,
            "terraform.tfvars.json": json.dumps(images.variables(), indent=2),
        }
    )
    workdir.init()
    return workdir


def test_audit_finds_every_tag_in_a_real_plan_with_its_address(
    workdir: HclWorkdir, images: Images
) -> None:
    plan = workdir.plan_json()

    status, report = audit_json(plan)

    assert status == 1
    assert report["files"] == [{"file": str(plan), "format": "terraform-plan", "resources": 7}]
    assert findings(report) == {
        ("terraform_data.web", "input.image", images.tag["web"]),
        ("terraform_data.web", "input.sidecars[].image", images.tag["sidecar"]),
        ("terraform_data.task", "input.container_definitions|json[].image", images.tag["app"]),
        ("terraform_data.batch", "input.container_properties|json.image", images.tag["batch"]),
        ("module.jobs.terraform_data.job", "input.image", images.tag["job"]),
        ("terraform_data.private", "input.image", "[secret]"),  # a sensitive variable
    }
    assert [f["secret"] for f in report["findings"]].count(True) == 1
    assert {f["source"] for f in report["findings"]} == {"heuristic"}
    assert {f["type"] for f in report["findings"]} == {"terraform_data"}

    text = run_cli("audit", plan)
    assert text.returncode == 1
    assert f"{plan}: module.jobs.terraform_data.job: input.image: {images.tag['job']}\n" in (
        text.stdout
    )
    assert len(text.stdout.splitlines()) == 6
    assert "6 images deployed by tag" in text.stderr
    assert images.tag["private"] not in text.stdout + text.stderr


def test_pin_vars_then_replan_passes_the_audit(workdir: HclWorkdir, images: Images) -> None:
    pinned = workdir.root / "images.auto.tfvars.json"

    done = run_cli("pin-vars", workdir.root / "terraform.tfvars.json", "-o", pinned)

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    variables = json.loads(pinned.read_text())
    assert variables["web_image"] == images.pinned["web"]
    assert variables["sidecars"] == [{"name": "log", "image": images.pinned["sidecar"]}]
    assert variables["task"]["containers"][0]["image"] == images.pinned["app"]
    assert json.loads(variables["batch"]["container_properties"]) == {
        "image": images.pinned["batch"]
    }
    assert variables["job_image"] == images.pinned["job"]
    assert variables["pinned_image"] == images.digest_reference
    assert variables["private_image"] == images.pinned["private"]
    assert list(variables) == list(images.variables())  # same variables, same order

    plan = workdir.plan_json("pinned-plan.json")
    status, report = audit_json(plan)

    assert status == 0, report["findings"]
    assert report["findings"] == []
    planned = json.loads(plan.read_text())
    after = {c["address"]: c["change"]["after"] for c in planned["resource_changes"]}
    assert after["module.jobs.terraform_data.job"]["input"]["image"] == images.pinned["job"]
    assert json.loads(after["terraform_data.task"]["input"]["container_definitions"]) == [
        {"name": "app", "image": images.pinned["app"]}
    ]


def test_deletes_and_no_ops_are_not_audited(workdir: HclWorkdir, images: Images) -> None:
    workdir.apply()
    main = (workdir.root / "main.tf").read_text()
    without_web = main.replace("input = { image = var.web_image, sidecars = var.sidecars }", "")
    without_web = without_web.replace('resource "terraform_data" "web" {\n  \n}', "")
    without_web = without_web.replace("${terraform_data.web.id}:v1", "later:v1")
    (workdir.root / "main.tf").write_text(without_web)
    plan = workdir.plan_json()
    actions = {
        c["address"]: c["change"]["actions"]
        for c in json.loads(plan.read_text())["resource_changes"]
    }
    assert actions["terraform_data.web"] == ["delete"]
    assert actions["module.jobs.terraform_data.job"] == ["no-op"]

    status, report = audit_json(plan)

    # `later` changes, so its new input is audited; the deleted and unchanged ones are not.
    assert status == 1
    assert findings(report) == {("terraform_data.later", "input.image", "later:v1")}
