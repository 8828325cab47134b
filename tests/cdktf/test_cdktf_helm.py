"""`helm_release` in CDKTF with `PinImages`: values YAML strings and `set` blocks, synthesized,
then planned by real Terraform through `terraform_data` mirrors of the synthesized values.

No Helm provider binding is installed here (`cdktf-cdktf-provider-helm` is not a test
dependency), so the release is declared as users without bindings declare any resource: a
`TerraformResource` of type `helm_release` with its attributes as overrides (the harness's
`escape_hatch`), which synthesizes the same JSON a binding does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cdktf_digest import PinImages
from tests.audit.cli import run_cli
from tests.cdktf.harness import Cdk, TerraformWorkdir, resource
from tests.support.docs import code_block
from tests.support.images import build_image
from tests.support.registry import RegistryServer

VALUES = """\
# ingress-nginx, as its docs show overriding the controller image
controller:
  image:
    registry: {host}
    image: {repo}/controller
    tag: "v1.10"
    digest: ""
  replicaCount: 2  # keep this comment
"""
REDIS = "master:\n  image:\n    repository: {host}/{repo}/redis\n    tag: '7.2'\n"


class Images:
    def __init__(self, registry: RegistryServer, repo: str) -> None:
        self.registry, self.repo = registry, repo
        self.digest = {
            name: self.push(name, tag)
            for name, tag in (("controller", "v1.10"), ("redis", "7.2"), ("worker", "2.1"))
        }

    def push(self, name: str, tag: str, content: str = "") -> str:
        image = build_image(content or f"{self.repo}/{name}:{tag}")
        return self.registry.push(f"{self.repo}/{name}", tag, image)

    def text(self, template: str) -> str:
        return template.format(host=self.registry.host, repo=self.repo)


def declare_release(cdk: Cdk, stack: Any, images: Images, **more: Any) -> Any:
    return cdk.escape_hatch(
        stack,
        "ingress",
        "helm_release",
        name="ingress-nginx",
        repository="https://kubernetes.github.io/ingress-nginx",
        chart="ingress-nginx",
        namespace="ingress-nginx",
        values=[images.text(VALUES), images.text(REDIS)],
        set=[
            {
                "name": "worker.image.repository",
                "value": f"{images.registry.host}/{images.repo}/worker",
            },
            {"name": "worker.image.tag", "value": "2.1"},
            {"name": "controller.service.type", "value": "ClusterIP"},
        ],
        **more,
    )


def test_values_documents_and_set_entries_are_pinned_where_helm_reads_them(
    cdk: Cdk, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    images = Images(registry, unique_repo)
    stack = cdk.stack()
    release = declare_release(cdk, stack, images)
    cdk.lib.Aspects.of(stack).add(PinImages(lock=tmp_path / "image-digest.lock"))

    synthesized = resource(cdk.synth(stack), "helm_release", "ingress")

    digest = images.digest
    assert synthesized["values"] == [
        images.text(VALUES).replace('digest: ""', f'digest: "{digest["controller"]}"'),
        images.text(REDIS).replace("tag: '7.2'", f"tag: '7.2@{digest['redis']}'"),
    ]
    assert synthesized["set"] == [
        {"name": "worker.image.repository", "value": f"{registry.host}/{unique_repo}/worker"},
        {"name": "worker.image.tag", "value": f"2.1@{digest['worker']}"},
        {"name": "controller.service.type", "value": "ClusterIP"},
    ]
    [warning] = cdk.warnings(release)
    assert warning.startswith(
        f"{release.node.path} (helm_release): images the chart takes from its own defaults"
    )
    assert 'postrender { binary_path = "image-digest"' in warning
    assert (tmp_path / "image-digest.lock").exists()


def test_a_release_with_the_post_renderer_is_not_warned(
    cdk: Cdk, registry: RegistryServer, unique_repo: str
) -> None:
    images = Images(registry, unique_repo)
    stack = cdk.stack()
    postrender = {"binary_path": "image-digest", "args": ["post-render"]}
    release = declare_release(cdk, stack, images, postrender=postrender)
    cdk.lib.Aspects.of(stack).add(PinImages())

    synthesized = resource(cdk.synth(stack), "helm_release", "ingress")

    assert synthesized["postrender"] == postrender
    assert cdk.warnings(release) == []


def test_plan_shows_no_change_on_an_identical_push_and_one_change_on_new_content(
    workdir: TerraformWorkdir, registry: RegistryServer, unique_repo: str
) -> None:
    images = Images(registry, unique_repo)

    def build(stack: Any) -> None:
        declare_release(workdir.cdk, stack, images)
        workdir.cdk.lib.Aspects.of(stack).add(PinImages())

    first = workdir.synth_mirrored(build)
    workdir.init()
    workdir.apply()

    assert images.push("redis", "7.2") == images.digest["redis"]  # the same content again
    assert workdir.synth_mirrored(build) == first
    unchanged = workdir.plan()
    assert (unchanged.exit_code, unchanged.actions()) == (0, {})

    moved = images.push("redis", "7.2", "redis 7.2, rebuilt")
    workdir.synth_mirrored(build)
    changed = workdir.plan()

    address = "terraform_data.helm_release__ingress"
    assert (changed.exit_code, changed.actions()) == (2, {address: ["update"]})
    before, after = (changed.changes[address][k]["input"] for k in ("before", "after"))
    assert after == {
        **before,
        "values": [before["values"][0], images.text(REDIS).replace("'7.2'", f"'7.2@{moved}'")],
    }


def test_the_docs_block_pins_its_release_as_written(
    cdk: Cdk,
    registry: RegistryServer,
    unique_repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/cdktf.md's `helm_release` block, with its registry made the local one."""
    monkeypatch.chdir(tmp_path)
    controller = registry.push(f"{unique_repo}/controller", "v1.10", build_image("controller"))
    worker = registry.push(f"{unique_repo}/worker", "2.1", build_image("worker"))
    code = (
        code_block("docs/cdktf.md", '"helm_release"')
        .replace("registry.example.com/team/", f"{registry.host}/{unique_repo}/")
        .replace("App()", f"App(outdir={str(tmp_path / 'out')!r})")  # jsii's cwd is not ours
    )
    if cdk.name == "cdktn":
        code = code.replace("from cdktf import", "from cdktn import")
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/cdktf.md", "exec"), namespace)

    synthesized = resource(cdk.synth(namespace["stack"]), "helm_release", "ingress")

    assert f"tag: v1.10@{controller}\n" in synthesized["values"][0]
    assert synthesized["set"][1] == {"name": "worker.image.tag", "value": f"2.1@{worker}"}
    assert cdk.warnings(namespace["ingress"]) == []
    assert (tmp_path / "image-digest.lock").exists()


def test_audit_of_the_synthesized_stack_finds_values_images_until_they_are_pinned(
    workdir: TerraformWorkdir, registry: RegistryServer, unique_repo: str
) -> None:
    images = Images(registry, unique_repo)
    stack_file = workdir.stack_dir / "cdk.tf.json"

    workdir.synth(lambda stack: declare_release(workdir.cdk, stack, images))
    tagged = run_cli("audit", stack_file)

    address = "helm_release.ingress"
    assert tagged.returncode == 1, tagged.stderr
    assert tagged.stdout.splitlines() == [
        f"{stack_file}: {address}: values.controller.image: "
        f"{registry.host}/{unique_repo}/controller:v1.10",
        f"{stack_file}: {address}: values.master.image: {registry.host}/{unique_repo}/redis:7.2",
        f"{stack_file}: {address}: values.worker.image: {registry.host}/{unique_repo}/worker:2.1",
    ]

    def pinned(stack: Any) -> None:
        declare_release(workdir.cdk, stack, images)
        workdir.cdk.lib.Aspects.of(stack).add(PinImages())

    workdir.synth(pinned)
    assert run_cli("audit", stack_file).returncode == 0
