"""`image-digest pin-vars`: the same variables with every image pinned, or nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from image_digest.fields.tfvars import image_values
from tests.audit.cli import run_cli
from tests.support.docs import code_blocks
from tests.support.images import build_image
from tests.support.registry import RegistryServer


class Pushed:
    def __init__(self, registry: RegistryServer, repo: str) -> None:
        self.name = f"{registry.host}/{repo}"
        self.digest = {
            tag: registry.push(repo, tag, build_image(f"{repo}/{tag}"))
            for tag in ("latest", "v1", "v2")
        }

    def pinned(self, tag: str) -> str:
        return f"{self.name}@{self.digest[tag]}"


@pytest.fixture
def pushed(registry: RegistryServer, unique_repo: str) -> Pushed:
    return Pushed(registry, unique_repo)


def write(tmp_path: Path, variables: object, name: str = "images.tfvars.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(variables, indent=2))
    return path


def test_pins_image_variables_and_image_fields_and_nothing_else(
    pushed: Pushed, tmp_path: Path
) -> None:
    variables = {
        "region": "eu-west-1",
        "app_image": f"{pushed.name}:v1",  # named like an image: any reference
        "worker_image": pushed.name,  # no tag at all: latest
        "lambda_image_uri": pushed.pinned("v2"),  # already a digest: left as it is
        "replicas": 3,
        "services": {
            "api": {"image": f"{pushed.name}:v2", "port": 8080},
            "vm": {"image": "ubuntu"},  # not clearly a container image: left alone
        },
        "containers": [[{"image": f"{pushed.name}:v1"}]],
        "task": {"container_definitions": json.dumps([{"image": f"{pushed.name}:v2"}])},
        "labels": {"image": "x"},
    }
    path = write(tmp_path, variables)

    done = run_cli("pin-vars", path)

    assert done.returncode == 0, done.stderr
    pinned = json.loads(done.stdout)
    assert list(pinned) == list(variables)
    assert pinned["app_image"] == pushed.pinned("v1")
    assert pinned["worker_image"] == pushed.pinned("latest")
    assert pinned["lambda_image_uri"] == pushed.pinned("v2")
    assert pinned["services"] == {
        "api": {"image": pushed.pinned("v2"), "port": 8080},
        "vm": {"image": "ubuntu"},
    }
    assert pinned["containers"] == [[{"image": pushed.pinned("v1")}]]
    assert json.loads(pinned["task"]["container_definitions"]) == [{"image": pushed.pinned("v2")}]
    unchanged = ("region", "replicas", "labels")
    assert {k: pinned[k] for k in unchanged} == {k: variables[k] for k in unchanged}
    assert done.stdout.endswith("}\n")


def test_output_file_is_written_atomically_and_not_at_all_on_error(
    pushed: Pushed, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    out = tmp_path / "images.auto.tfvars.json"
    good = write(tmp_path, {"app_image": f"{pushed.name}:v1"})

    done = run_cli("pin-vars", good, "-o", out)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and f"wrote {out}" in done.stderr
    assert json.loads(out.read_text()) == {"app_image": pushed.pinned("v1")}
    before = out.read_text()

    missing = registry.reference(unique_repo, "missing")
    bad = write(tmp_path, {"app_image": f"{pushed.name}:v2", "db_image": missing}, "bad.json")
    failed = run_cli("pin-vars", bad, "-o", out)

    assert failed.returncode == 1
    assert failed.stdout == ""
    assert missing in failed.stderr and "nothing was written" in failed.stderr
    assert out.read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('app_image = "nginx:1.27"\n', ["not JSON", "not HCL .tfvars"]),
        ('["nginx:1.27"]', ["one JSON object of variable names", "not a list"]),
        ('{"app_image": "Nginx:1.27"}', ["'Nginx:1.27'", "variable 'app_image'"]),
    ],
    ids=["hcl", "array", "bad-reference"],
)
def test_unusable_input_is_a_usage_error_and_writes_nothing(
    tmp_path: Path, content: str, expected: list[str]
) -> None:
    path = tmp_path / "in.tfvars.json"
    path.write_text(content)
    out = tmp_path / "out.json"

    done = run_cli("pin-vars", path, "-o", out)

    assert done.returncode == 2
    assert done.stdout == "" and not out.exists()
    [line] = done.stderr.splitlines()
    assert str(path) in line and "nothing was written" in line
    for text in expected:
        assert text in line


def test_a_missing_input_file_is_named(tmp_path: Path) -> None:
    done = run_cli("pin-vars", tmp_path / "nope.json")

    assert done.returncode == 2
    assert f"cannot read variables from {tmp_path / 'nope.json'}" in done.stderr


def test_the_documented_variables_file_has_the_three_images_it_says() -> None:
    [documented] = [
        json.loads(block)
        for block in code_blocks("docs/terraform.md", "json")
        if '"api_image"' in block
    ]

    found = image_values(documented)

    assert [(value.path, value.reference.rsplit("/", 1)[1]) for value in found] == [
        ("api_image", "api:latest"),
        ("workers.image", "mailer:2.1"),
        ("task.container_definitions|json.image", "app:1.4"),
    ]


def test_lists_and_maps_of_images_are_pinned_and_vm_images_left_alone(
    pushed: Pushed, tmp_path: Path
) -> None:
    variables = {
        "sidecar_images": [f"{pushed.name}:v1", f"{pushed.name}:v2"],
        "images": {"api": f"{pushed.name}:v2", "worker": pushed.name},
        "boot_disk_image": "debian-cloud/debian-12",  # a Compute Engine image family
        "node_image": "ami-0123456789abcdef0",  # an AMI
        "os_image": "Ubuntu 22.04",  # a marketplace image name: not a reason to fail
        "vm_image": "projects/debian-cloud/global/images/family/debian-12",
        "docker_image": "sha256:" + "e" * 64,  # a docker image ID
    }
    path = write(tmp_path, variables)

    done = run_cli("pin-vars", path)

    assert done.returncode == 0, done.stderr
    pinned = json.loads(done.stdout)
    assert pinned["sidecar_images"] == [pushed.pinned("v1"), pushed.pinned("v2")]
    assert pinned["images"] == {"api": pushed.pinned("v2"), "worker": pushed.pinned("latest")}
    left = ("boot_disk_image", "node_image", "os_image", "vm_image", "docker_image")
    assert {k: pinned[k] for k in left} == {k: variables[k] for k in left}


def test_only_and_skip_choose_variables_by_glob(pushed: Pushed, tmp_path: Path) -> None:
    variables = {
        "app_image": f"{pushed.name}:v1",
        "app_sidecar_images": [f"{pushed.name}:v2"],
        "legacy_image": "Not A Reference:1",  # would fail the run if it were chosen
        "tools_image": f"{pushed.name}:v2",
    }
    path = write(tmp_path, variables)

    done = run_cli("pin-vars", path, "--only", "app_*", "--only", "tools_*", "--skip", "*sidecar*")

    assert done.returncode == 0, done.stderr
    pinned = json.loads(done.stdout)
    assert pinned == {
        "app_image": pushed.pinned("v1"),
        "app_sidecar_images": [f"{pushed.name}:v2"],
        "legacy_image": "Not A Reference:1",
        "tools_image": pushed.pinned("v2"),
    }
    assert [v.path for v in image_values(variables, skip=["app_*", "legacy*"])] == ["tools_image"]


def test_an_invalid_reference_in_an_image_variable_is_still_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, {"app_image": "Nginx:1.27"})

    done = run_cli("pin-vars", path)

    assert done.returncode == 2 and done.stdout == ""
    assert "'app_image'" in done.stderr and "must be lowercase" in done.stderr
