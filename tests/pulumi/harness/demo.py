"""A demo step for `examples/demo.py`: a Pulumi preview before and after a push.

There is no Pulumi CLI on the demo machine, so the kubernetes example runs the way the tests
run it: as the language host would, under `set_mocks` with the engine stand-in applying the
`pin_images` transform. What it prints is what `pulumi preview` would send the cluster.
"""

from __future__ import annotations

from pathlib import Path

from tests.pulumi.harness.program import run_program
from tests.support.images import build_image
from tests.support.registry import RegistryServer

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "pulumi-kubernetes"


def preview_images(ref: str) -> dict[str, str]:
    """Preview the kubernetes example with `ref` as both images; return each pinned image."""
    deployment = run_program(
        EXAMPLE / "__main__.py",
        preview=True,
        project="pulumi-kubernetes",
        config={"webImage": ref, "reportImage": ref},
    )
    web = deployment["web"].inputs["spec"]["template"]["spec"]["containers"][0]["image"]
    job = deployment["report"].inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return {"web (Deployment)": web, "report (CronJob)": job["containers"][0]["image"]}


def pulumi_preview_follows_content(registry: RegistryServer, ref: str) -> None:
    """Push, preview, push new content to the same tag, preview again: the pins move."""
    repo, _, tag = ref.removeprefix(f"{registry.host}/").partition(":")
    print("\n\033[1m== Pulumi: pin_images() in examples/pulumi-kubernetes, previewed\033[0m")
    registry.push(repo, tag, build_image("pulumi release 1"))
    before = preview_images(ref)
    registry.push(repo, tag, build_image("pulumi release 2"))
    after = preview_images(ref)
    for name in before:
        print(f"{name}:\n  before: {before[name]}\n  after:  {after[name]}")
    assert all(before[name] != after[name] for name in before)
