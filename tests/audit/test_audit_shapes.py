"""`audit` finds pod specs by shape in kinds nobody listed, bare names included; never raises
on nested lists; and never reports what is no container image (image IDs, VM images, a
`DigestImage`'s own input)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.audit.cli import audit_json, findings
from tests.audit.terraform import HclWorkdir

IMAGE_ID = "sha256:" + "c" * 64

#: Kinds the catalog does not list, as their projects' docs write them.
UNLISTED_KINDS = """
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: hello}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: hello
              image: busybox
              args: [/bin/sh, -c, date; echo Hello from the Kubernetes cluster]
          restartPolicy: OnFailure
---
apiVersion: v1
kind: ReplicationController
metadata: {name: nginx}
spec:
  replicas: 3
  selector: {app: nginx}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      initContainers: [{name: wait, image: busybox}]
      containers: [{name: nginx, image: "nginx:1.27"}]
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello, namespace: default}
spec:
  template:
    spec:
      containers:
        - image: acme/hello
          env: [{name: TARGET, value: World}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: rollouts-demo}
spec:
  strategy: {canary: {steps: [{setWeight: 20}, {pause: {}}]}}
  template:
    spec:
      containers: [{name: rollouts-demo, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: image-volume}
spec:
  containers: [{name: shell, image: "debian@DIGEST"}]
  volumes:
    - name: volume
      image: {reference: "quay.io/crio/artifact:v2", pullPolicy: IfNotPresent}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: odd}
spec:
  extra: [[{image: "ghcr.io/acme/side:1"}], [[{image: "debian-cloud/debian-12"}]]]
""".replace("DIGEST", "sha256:" + "d" * 64)


def test_pod_specs_of_unlisted_kinds_bare_names_and_image_volumes(tmp_path: Path) -> None:
    path = tmp_path / "rendered.yaml"
    path.write_text(UNLISTED_KINDS)

    status, report = audit_json(path)

    assert status == 1
    pod = "spec.template.spec"
    assert findings(report) == {
        ("CronJob/hello", f"spec.jobTemplate.{pod}.containers[].image", "busybox"),
        ("ReplicationController/nginx", f"{pod}.initContainers[].image", "busybox"),
        ("ReplicationController/nginx", f"{pod}.containers[].image", "nginx:1.27"),
        ("Service/default/hello", f"{pod}.containers[].image", "acme/hello"),
        ("Rollout/rollouts-demo", f"{pod}.containers[].image", "nginx"),
        ("Pod/image-volume", "spec.volumes[].image.reference", "quay.io/crio/artifact:v2"),
        # a list of lists is walked like any list, and found by the field's name
        ("Widget/odd", "spec.extra[].image", "ghcr.io/acme/side:1"),
    }
    sources = {(f["address"], f["reference"]): f["source"] for f in report["findings"]}
    assert sources["Rollout/rollouts-demo", "nginx"] == "catalog"
    assert sources["Widget/odd", "ghcr.io/acme/side:1"] == "heuristic"


def test_a_list_of_lists_under_an_image_key_is_read_not_an_error(tmp_path: Path) -> None:
    """`spec.extra[][].image` in a Deployment used to make audit exit 2 (a ValueError)."""
    path = tmp_path / "odd.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec:\n  template: {spec: {containers: [{name: web, image: nginx}]}}\n"
        '  extra: [[{image: "ghcr.io/acme/side:1"}]]\n'
    )

    status, report = audit_json(path)

    assert status == 1
    assert findings(report) == {
        ("Deployment/web", "spec.template.spec.containers[].image", "nginx"),
        ("Deployment/web", "spec.extra[].image", "ghcr.io/acme/side:1"),
    }


def test_image_ids_and_vm_images_in_a_real_plan_are_not_tags(tmp_path: Path) -> None:
    """The docker provider's `image = docker_image.x.image_id` and a VM's boot image, mirrored
    into `terraform_data` inputs; a tag beside them is still found."""
    workdir = HclWorkdir(tmp_path)
    workdir.write(
        {
            "main.tf": f"""
resource "terraform_data" "container" {{
  input = {{ image = "{IMAGE_ID}", name = "web" }}
}}
resource "terraform_data" "vm" {{
  input = {{
    boot_disk = {{ initialize_params = {{ image = "debian-cloud/debian-12" }} }}
    ami_image = "ami-0123456789abcdef0"
    os_image  = "Ubuntu 22.04"
    image     = "projects/debian-cloud/global/images/family/debian-12"
  }}
}}
resource "terraform_data" "tagged" {{
  input = {{ image = "ghcr.io/acme/app:1" }}
}}
"""
        }
    )
    workdir.init()

    status, report = audit_json(workdir.plan_json())

    assert status == 1
    assert findings(report) == {("terraform_data.tagged", "input.image", "ghcr.io/acme/app:1")}


def test_docker_container_by_image_id_passes(tmp_path: Path) -> None:
    """A plan's `docker_container` (a catalog field) holding the image ID of its image."""
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": [
            {
                "address": "docker_container.ubuntu",
                "mode": "managed",
                "type": "docker_container",
                "name": "ubuntu",
                "change": {
                    "actions": ["create"],
                    "after": {"image": IMAGE_ID, "name": "foo"},
                    "after_unknown": {"id": True},
                    "after_sensitive": {},
                },
            }
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))

    status, report = audit_json(path)

    assert status == 0 and report["findings"] == []


def test_a_digest_image_input_in_a_preview_is_not_a_finding(tmp_path: Path) -> None:
    steps = [
        {
            "op": "create",
            "urn": "urn:pulumi:dev::p::pulumi-python:dynamic/pulumi-digest:DigestImage::api",
            "newState": {
                "type": "pulumi-python:dynamic/pulumi-digest:DigestImage",
                "inputs": {"image": "ghcr.io/acme/api:1", "repo_digest": None},
            },
        },
        {
            "op": "create",
            "urn": "urn:pulumi:dev::p::kubernetes:core/v1:Pod::api",
            "newState": {
                "type": "kubernetes:core/v1:Pod",
                "inputs": {"spec": {"containers": [{"image": "ghcr.io/acme/api:1"}]}},
            },
        },
    ]
    path = tmp_path / "preview.json"
    path.write_text(json.dumps({"steps": steps, "changeSummary": {"create": 2}}))

    status, report = audit_json(path)

    assert status == 1
    assert findings(report) == {
        (
            "urn:pulumi:dev::p::kubernetes:core/v1:Pod::api",
            "spec.containers[].image",
            "ghcr.io/acme/api:1",
        )
    }


def test_jsonencode_container_definitions_in_a_synthesized_stack(tmp_path: Path) -> None:
    """`Fn.jsonencode([...])` as cdktf synthesizes it: its tags are findings, its references
    to variables are expressions (audit the plan to see their values)."""
    definitions = (
        '${jsonencode([{"name" = "first", "image" = "nginx:1.25", "essential" = true}, '
        '{"name" = "second", "image" = var.image}])}'
    )
    stack = {
        "resource": {
            "aws_ecs_task_definition": {
                "service": {"family": "service", "container_definitions": definitions}
            }
        }
    }
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(stack))

    status, report = audit_json(path)

    assert status == 1
    assert findings(report) == {
        (
            "aws_ecs_task_definition.service",
            "container_definitions|json[].image",
            "nginx:1.25",
        )
    }
