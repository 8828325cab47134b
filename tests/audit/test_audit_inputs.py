"""`audit` on Kubernetes YAML, on inputs it cannot read, and its `--allow` and `--suggest`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.audit.cli import audit_json, findings, run_cli
from tests.support.docs import code_blocks
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer

DIGEST = "sha256:" + "a" * 64

MANIFESTS = f"""
# a comment, then an empty document
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: prod}}
spec:
  template:
    spec:
      initContainers: [{{name: init, image: busybox}}]
      containers:
        - {{name: web, image: "nginx:1.27"}}
        - {{name: pinned, image: "nginx@{DIGEST}"}}
        - {{name: both, image: "nginx:1.27@{DIGEST}"}}
      ephemeralContainers: [{{name: debug, image: "ghcr.io/o/debug:latest"}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: solo}}
spec:
  containers: [{{name: c, image: redis}}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly, namespace: ops}}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{{name: c, image: "gcr.io/p/job:v2"}}]
          initContainers: [{{name: i, image: "gcr.io/p/init@{DIGEST}"}}]
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {{name: db}}
    spec: {{template: {{spec: {{containers: [{{name: db, image: "postgres:16"}}]}}}}}}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: canary}}
spec:
  template:
    spec:
      containers:
        - {{name: tagged, image: "ghcr.io/o/canary:1"}}
        - {{name: bare, image: sidecar}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations: {{example.com/image: "nginx:1.27"}}
data: {{image: "worker:2", note: "nginx:1.27"}}
"""


def test_multi_document_kubernetes_yaml(tmp_path: Path) -> None:
    path = tmp_path / "rendered.yaml"
    path.write_text(MANIFESTS)

    status, report = audit_json(path)

    assert status == 1
    assert report["files"] == [{"file": str(path), "format": "kubernetes", "resources": 6}]
    pod = "spec.template.spec"
    assert findings(report) == {
        ("Deployment/prod/web", f"{pod}.containers[].image", "nginx:1.27"),
        ("Deployment/prod/web", f"{pod}.initContainers[].image", "busybox"),
        ("Deployment/prod/web", f"{pod}.ephemeralContainers[].image", "ghcr.io/o/debug:latest"),
        ("Pod/solo", "spec.containers[].image", "redis"),
        ("CronJob/ops/nightly", f"spec.jobTemplate.{pod}.containers[].image", "gcr.io/p/job:v2"),
        ("StatefulSet/db", f"{pod}.containers[].image", "postgres:16"),
        # a kind nobody listed: a pod spec by its shape, so a bare name is an image too
        ("Rollout/canary", f"{pod}.containers[].image", "ghcr.io/o/canary:1"),
        ("Rollout/canary", f"{pod}.containers[].image", "sidecar"),
        # a field named `image` holding a tag, even in a ConfigMap; never an annotation
        ("ConfigMap/settings", "data.image", "worker:2"),
    }
    sources = {f["address"]: f["source"] for f in report["findings"]}
    assert sources["Pod/solo"] == "catalog" and sources["Rollout/canary"] == "catalog"
    assert sources["ConfigMap/settings"] == "heuristic"
    by_type = {f["address"]: f["type"] for f in report["findings"]}
    assert by_type["CronJob/ops/nightly"] == "kubernetes:batch/v1:CronJob"
    assert by_type["Pod/solo"] == "kubernetes:core/v1:Pod"
    assert report["counts"] == {"findings": 9, "allowed": 0}


def test_pinned_manifests_pass(tmp_path: Path) -> None:
    path = tmp_path / "pinned.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        f"spec: {{containers: [{{name: c, image: 'nginx@{DIGEST}'}}]}}\n"
    )

    done = run_cli("audit", path)

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "no image deployed by tag (1 resource in 1 file)" in done.stderr


def test_allow_matches_a_glob_on_the_reference_as_written_or_canonical(tmp_path: Path) -> None:
    path = tmp_path / "rendered.yaml"
    path.write_text(MANIFESTS)

    done = run_cli(
        "audit",
        path,
        "--allow",
        "docker.io/library/*",  # nginx, busybox, redis, postgres, worker, sidecar, canonically
        "--allow",
        "gcr.io/p/*",
    )

    assert done.returncode == 1
    assert sorted(line.rsplit(": ", 1)[1] for line in done.stdout.splitlines()) == [
        "ghcr.io/o/canary:1",
        "ghcr.io/o/debug:latest",
    ]
    assert "2 images deployed by tag" in done.stderr and "7 allowed by --allow" in done.stderr

    everything = run_cli("audit", path, "--allow", "*")
    assert everything.returncode == 0 and everything.stdout == ""


def test_unreadable_and_unknown_inputs_exit_2_naming_file_and_formats(tmp_path: Path) -> None:
    cases = {
        "object.json": json.dumps({"name": "app", "version": 3}),
        "array.json": "[1, 2]",
        "broken.json": '{"resource_changes": [',
        "state.json": json.dumps({"format_version": "1.0", "terraform_version": "1.9.0"}),
        "empty.json": "  \n",
        "notes.yaml": "hello: world\n",
        "binary.bin": b"\xff\xfe\x00bad",
        "pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    paths = [tmp_path / name for name in cases] + [tmp_path / "missing.json"]

    done = run_cli("audit", *paths)

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 8  # every bad file, the readable pod.yaml not among them
    for line, name in zip(lines, [*list(cases)[:-1], "missing.json"], strict=True):
        assert line.startswith("image-digest: error: ") and str(tmp_path / name) in line
    for line in lines[:-1]:
        assert "tried: a Terraform plan (terraform show -json PLANFILE)" in line
        assert "Kubernetes YAML" in line and "Pulumi preview" in line
    assert "its keys: name, version" in lines[0]
    assert "not valid JSON" in lines[2]
    assert "Terraform state" in lines[3] and "terraform show -json tfplan" in lines[3]
    assert "it is empty" in lines[4]
    assert "no document in it has a Kubernetes `kind`" in lines[5]
    assert "not UTF-8" in lines[6]
    assert "No such file" in lines[7] and lines[7].endswith("(nothing was audited)")
    assert "Traceback" not in done.stderr


def test_yaml_without_pyyaml_names_the_extra(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\n")
    blocker = (
        "import sys\n"
        "class NotInstalled:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'yaml' or name.startswith('yaml.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NotInstalled())\n"
        "from image_digest.cli import main\n"
        f"sys.exit(main(['audit', {str(path)!r}]))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", blocker], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 2
    assert (
        "pip install '.[audit]' in a clone of image-digest" in done.stderr
        and str(path) in done.stderr
    )


def test_suggest_resolves_each_finding_with_its_platform(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    web = registry.push(unique_repo, "web", build_image("suggest web"))
    arm = build_image("suggest fn arm", architecture="arm64")
    registry.push(unique_repo, "fn", build_index([build_image("suggest fn amd"), arm]))
    name = f"{registry.host}/{unique_repo}"
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(
        json.dumps(
            {
                "//": {"metadata": {"stackName": "app"}},
                "resource": {
                    "docker_container": {"web": {"name": "web", "image": f"{name}:web"}},
                    "aws_lambda_function": {
                        "fn": {"image_uri": f"{name}:fn", "architectures": ["arm64"]}
                    },
                    "google_cloud_run_v2_service": {
                        "gone": {"template": {"containers": [{"image": f"{name}:gone"}]}}
                    },
                },
            }
        )
    )

    done = run_cli("audit", "--suggest", stack)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{stack}: docker_container.web: image: {name}:web -> {name}@{web}",
        f"{stack}: aws_lambda_function.fn: image_uri: {name}:fn -> {name}@{arm.digest}",
        f"{stack}: google_cloud_run_v2_service.gone: template.containers[].image: {name}:gone",
    ]
    [failure] = [line for line in done.stderr.splitlines() if "error:" in line]
    assert "google_cloud_run_v2_service.gone" in failure and f"{name}:gone" in failure

    status, report = audit_json("--suggest", stack)
    assert status == 1
    rows = {f["address"]: f for f in report["findings"]}
    assert rows["aws_lambda_function.fn"]["platform"] == "linux/arm64"
    assert rows["aws_lambda_function.fn"]["pinned"] == f"{name}@{arm.digest}"
    assert rows["google_cloud_run_v2_service.gone"]["pinned"] is None
    assert f"{name}:gone" in rows["google_cloud_run_v2_service.gone"]["error"]


def test_the_documented_json_schema_is_what_audit_prints(tmp_path: Path) -> None:
    path = tmp_path / "rendered.yaml"
    path.write_text(MANIFESTS)
    [documented] = [
        json.loads(block)
        for block in code_blocks("docs/terraform.md", "json")
        if '"findings"' in block
    ]

    _, report = audit_json(path)

    assert report["version"] == documented["version"] == 1
    assert set(report) == set(documented)
    assert set(report["files"][0]) == set(documented["files"][0])
    assert set(report["counts"]) == set(documented["counts"])
    for finding in report["findings"]:
        assert set(finding) == set(documented["findings"][0])
