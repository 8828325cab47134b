"""`image-digest post-render`: rendered charts in, the same bytes with every image pinned out.

The fixtures are real charts' manifests as `helm template` prints them (origins in
tests/fixtures/helm/README.md). Their public images are pushed to the local registry under
local names (and the text rewritten to those names, nothing else), then the post-renderer
runs as Helm runs it: a subprocess with the manifests on stdin.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from image_digest import LockFile, parse
from image_digest.fields.yaml_scalars import load_documents
from tests.audit.cli import run_cli
from tests.support.docs import code_block
from tests.support.images import build_image
from tests.support.registry import RegistryServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "helm"
#: Fixture -> the image scalars in it, exactly as written, and the public reference each names.
CHARTS = {
    "helm-create-demo.yaml": {
        'image: "nginx:1.16.0"': "nginx:1.16.0",
        "image: busybox\n": "busybox",
    },
    "ingress-nginx-admission-create.yaml": {
        'image: "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.0"': (
            "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.0"
        ),
    },
}


class Chart:
    """A fixture with its images pushed under local names: `text` to feed in, `expected`
    the text post-render must print."""

    def __init__(self, registry: RegistryServer, repo: str, fixture: str) -> None:
        self.text = self.expected = (FIXTURES / fixture).read_text()
        self.pins: dict[str, str] = {}
        for written, public in CHARTS[fixture].items():
            reference = parse(public)
            local = f"{repo}/{reference.repository}"
            digest = registry.push(local, reference.tag or "latest", build_image(public))
            tagged = f"{registry.host}/{local}" + (f":{reference.tag}" if reference.tag else "")
            pinned = f"{registry.host}/{local}@{digest}"
            self.text = self.text.replace(written, written.replace(public, tagged))
            self.expected = self.expected.replace(written, written.replace(public, pinned))
            self.pins[tagged] = pinned


@pytest.fixture(params=sorted(CHARTS))
def chart(request: pytest.FixtureRequest, registry: RegistryServer, unique_repo: str) -> Chart:
    return Chart(registry, unique_repo, request.param)


def test_every_image_is_pinned_and_every_other_byte_is_unchanged(
    chart: Chart, tmp_path: Path
) -> None:
    lock = tmp_path / "image-digest.lock"

    done = run_cli("post-render", "--lock", lock, stdin=chart.text)

    assert done.returncode == 0, done.stderr
    assert done.stdout == chart.expected
    assert done.stdout != chart.text
    images = len(chart.pins)
    assert f"post-render: {images} images pinned in {images} places" in done.stderr
    recorded = {str(parse(entry.reference)) for entry in LockFile(lock).entries()}
    assert recorded == {str(parse(tagged)) for tagged in chart.pins}
    gate = run_cli("audit", "-", stdin=done.stdout)  # the gate reads the output from stdin
    assert gate.returncode == 0, gate.stdout + gate.stderr


def test_the_same_content_renders_the_same_bytes_and_new_content_changes_one_image(
    registry: RegistryServer, unique_repo: str
) -> None:
    """What Helm installs changes exactly when the content behind an image does."""
    chart = Chart(registry, unique_repo, "helm-create-demo.yaml")
    first = run_cli("post-render", stdin=chart.text).stdout
    local = f"{unique_repo}/library/nginx"
    registry.push(local, "1.16.0", build_image("nginx:1.16.0"))  # an identical re-push
    assert run_cli("post-render", stdin=chart.text).stdout == first

    digest = registry.push(local, "1.16.0", build_image("nginx:1.16.0, rebuilt"))
    moved = run_cli("post-render", stdin=chart.text).stdout

    changed = [
        (a, b) for a, b in zip(first.splitlines(), moved.splitlines(), strict=True) if a != b
    ]
    assert changed == [(changed[0][0], f'          image: "{registry.host}/{local}@{digest}"')]


def test_locked_mode_pins_from_the_lock_without_a_registry(chart: Chart, tmp_path: Path) -> None:
    lock = tmp_path / "image-digest.lock"
    assert run_cli("post-render", "--lock", lock, stdin=chart.text).returncode == 0

    done = run_cli(
        "post-render",
        "--lock",
        lock,
        "--mode",
        "locked",
        stdin=chart.text,
        env={"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"},
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == chart.expected


def test_an_image_that_cannot_be_resolved_writes_nothing(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    chart = Chart(registry, unique_repo, "helm-create-demo.yaml")
    missing = f"{registry.host}/{unique_repo}/never-pushed:1.0"
    [busybox] = [tagged for tagged in chart.pins if "busybox" in tagged]
    text = chart.text.replace(busybox, missing)
    lock = tmp_path / "image-digest.lock"

    done = run_cli("post-render", "--lock", lock, stdin=text)

    assert done.returncode == 1
    assert done.stdout == ""
    assert not lock.exists()  # the image that did resolve is not recorded either
    assert "Pod/demo-test-connection: " in done.stderr and "never-pushed" in done.stderr
    assert "nothing was written" in done.stderr


@pytest.mark.parametrize(
    ("stdin", "says"),
    [
        ("kind: Pod\nspec: [unclosed\n", "not YAML manifests"),
        ("a: &x {image: 'nginx:1'}\n", None),  # no Kubernetes object: passed through as it is
    ],
)
def test_input_that_is_not_yaml_writes_nothing(stdin: str, says: str | None) -> None:
    done = run_cli("post-render", stdin=stdin)

    if says is None:
        assert (done.returncode, done.stdout) == (0, stdin)
        return
    assert done.returncode == 2
    assert done.stdout == ""
    assert says in done.stderr and "nothing was written" in done.stderr


def test_an_image_behind_a_yaml_alias_is_not_rewritten_in_two_places(
    registry: RegistryServer, unique_repo: str
) -> None:
    """One scalar, two places (an annotation and the container): changing its text would
    change both, so post-render refuses and names the place, rather than guess."""
    digest = registry.push(f"{unique_repo}/app", "v1", build_image("app"))
    image = f"{registry.host}/{unique_repo}/app:v1"
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        f"    shown: &image {image}\nspec:\n  containers:\n  - name: a\n    image: *image\n"
    )

    done = run_cli("post-render", stdin=text)

    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert "spec.containers[0].image has an anchor" in done.stderr
    assert digest not in done.stderr


def test_rendered_values_template_parses_to_the_pinned_digest(
    registry: RegistryServer, unique_repo: str
) -> None:
    """`helm create`'s template line, rendered with values `pin_values` wrote, is a reference
    the core parses to exactly the pinned digest (and ingress-nginx's digest form, too)."""
    from image_digest import Resolver
    from image_digest.fields.helm_values import pin_values, values_images

    digest = registry.push(f"{unique_repo}/web", "1.0", build_image("web 1.0"))
    repository = f"{registry.host}/{unique_repo}/web"
    values = {
        "image": {"repository": repository, "pullPolicy": "IfNotPresent", "tag": "1.0"},
        "patch": {"image": {"registry": registry.host, "image": f"{unique_repo}/web"}},
    }
    values["patch"]["image"] |= {"tag": "1.0", "digest": ""}
    images, partial = values_images(values)
    with Resolver() as resolver:
        pinned = pin_values(values, images, resolver.resolve_many([i.reference for i in images]))
    assert partial == []

    # github.com/helm/helm pkg/chartutil/create.go, defaultDeployment:
    line = (
        'image: "{{ .Values.image.repository }}:'
        '{{ .Values.image.tag | default .Chart.AppVersion }}"'
    )
    image = pinned["image"]
    rendered = line.replace("{{ .Values.image.repository }}", image["repository"]).replace(
        "{{ .Values.image.tag | default .Chart.AppVersion }}", image["tag"]
    )
    reference = parse(json.loads(rendered.removeprefix("image: ")))
    assert (reference.name, reference.tag, reference.digest) == (
        parse(repository).name,
        "1.0",
        digest,
    )

    # github.com/kubernetes/ingress-nginx charts/ingress-nginx/templates/admission-webhooks/
    # job-patch/job-createSecret.yaml (`with .Values.controller.admissionWebhooks.patch.image`):
    patch = pinned["patch"]["image"]
    rendered = f"{patch['registry']}/{patch['image']}:{patch['tag']}" + (
        f"@{patch['digest']}" if patch["digest"] else ""
    )
    assert parse(rendered).digest == digest
    assert load_documents(f"image: {rendered}\n")[0].data == {"image": rendered}


def test_the_docs_script_for_pulumi_and_terraform_arguments_run_as_written(
    chart: Chart, tmp_path: Path
) -> None:
    """docs/pulumi.md's `postrender` script and docs/terraform.md's `postrender` block, run as
    Helm runs them: the command with the manifests on stdin, from the project directory."""
    env = {"PATH": f"{tmp_path / 'bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
    script = tmp_path / "bin" / "image-digest-post-render"
    script.parent.mkdir()
    script.write_text(code_block("docs/pulumi.md", "image-digest-post-render", "sh"))
    script.chmod(0o755)

    by_script = subprocess.run(
        ["image-digest-post-render"], input=chart.text, **_helm_runs(env, tmp_path)
    )

    assert (by_script.returncode, by_script.stdout) == (0, chart.expected), by_script.stderr
    assert (tmp_path / "image-digest.lock").exists()

    block = code_block("docs/terraform.md", "postrender {", "hcl")
    binary = re.search(r'binary_path = "([^"]+)"', block)
    args = re.search(r"args\s+= (\[.*\])", block)
    assert binary and args
    command = [binary.group(1), *json.loads(args.group(1))]
    (tmp_path / "image-digest.lock").unlink()

    by_terraform = subprocess.run(command, input=chart.text, **_helm_runs(env, tmp_path))

    assert (by_terraform.returncode, by_terraform.stdout) == (0, chart.expected)
    assert (tmp_path / "image-digest.lock").exists()


def _helm_runs(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    return {
        "capture_output": True,
        "text": True,
        "cwd": cwd,
        "env": {**os.environ, **env},
        "timeout": 120,
        "check": False,
    }


def test_audit_reads_rendered_manifests_from_stdin() -> None:
    """`helm template ... | image-digest audit -`: the gate on a chart's rendered output."""
    text = (FIXTURES / "helm-create-demo.yaml").read_text()

    done = run_cli("audit", "-", stdin=text)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "-: Deployment/demo: spec.template.spec.containers[].image: nginx:1.16.0",
        "-: Pod/demo-test-connection: spec.containers[].image: busybox",
    ]
    assert "2 images deployed by tag (4 resources in 1 file)" in done.stderr


def test_an_alias_bomb_on_stdin_is_one_line_and_nothing_written() -> None:
    """Rendered manifests are input like any other: the limits of `image_digest.safe_load`."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )

    done = run_cli("post-render", stdin=bomb)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "image-digest: error: stdin: YAML aliases expand it to more than 1,000,000 nodes, which "
        "image-digest refuses (a limit against alias bombs); write the values out "
        "(nothing was written)"
    ]


def test_keep_tag_writes_readable_pins_repo_tag_at_digest(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    chart = Chart(registry, unique_repo, "helm-create-demo.yaml")

    done = run_cli("post-render", "--keep-tag", "--lock", tmp_path / "lock", stdin=chart.text)

    assert done.returncode == 0, done.stderr
    expected = chart.text
    for tagged, pinned in chart.pins.items():
        reference = parse(tagged)
        readable = pinned if reference.tag is None else pinned.replace("@", f":{reference.tag}@")
        expected = expected.replace(f'"{tagged}"', f'"{readable}"').replace(
            f"image: {tagged}\n", f"image: {readable}\n"
        )
    assert done.stdout == expected
    assert ":1.16.0@sha256:" in done.stdout
    assert run_cli("audit", "-", stdin=done.stdout).returncode == 0
