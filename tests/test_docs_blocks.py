"""Every Python and console block of README.md and docs/*.md runs as written.

The blocks name public images (`nginx:1.25`, `gcr.io/p/app:latest`, ...). Each of them is
pushed to the real local registry, and the block's text gets the local name in its place;
nothing else changes. Python blocks run in this process (Pulumi programs under the test
engine), console blocks line by line in bash, each `$` line exiting 0. The two CDKTF programs
run as `cdktf synth` runs them, in tests/cdktf/test_cdktf_docs.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from image_digest import has_digest, parse
from image_digest.fields.paths import find_images
from pulumi_digest import IMAGE_FIELDS
from tests.pulumi.harness.program import run_program
from tests.pulumi.harness.provider_process import DynamicProviderProcess
from tests.support.docs import ROOT, code_block, code_blocks
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer

DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
#: Public references the docs use; each becomes a fresh image on the local registry.
PUBLIC = (
    "europe-west1-docker.pkg.dev/my-project/apps/api:latest",
    "gcr.io/p/app:latest",
    "nginx:1.25",
    "redis:7",
)
LAN = "registry.lan:5000"  # a LAN registry over plain HTTP: `0.0.0.0:PORT`, not loopback
#: (file, language, a line that identifies the block) -> how this module runs it.
PYTHON = {
    ("README.md", "resolver.resolve_many"): "exec",
    ("README.md", "pin_images(skip_prefixes"): "pulumi",
    ("README.md", "options=ResolverOptions"): "pulumi",
    ("docs/pulumi.md", "# 1. A stack transform"): "pulumi",
    ("docs/pulumi.md", '"acme:index:App"'): "pulumi",
    ("docs/cdktf.md", '"acme_worker"'): "exec",
    ("docs/lockfile.md", 'mode="fallback"'): "exec",
}
#: Blocks run elsewhere: tests/cdktf/test_cdktf_docs.py; Helm: tests/*/test_*_helm.py.
ELSEWHERE = {
    ("README.md", "CloudRunV2Service("),
    ("docs/cdktf.md", "RegistryDigest(self"),
    ("docs/pulumi.md", "helm.v3.Release("),
    ("docs/cdktf.md", '"helm_release"'),
    ("docs/signatures.md", 'verify="cosign.pub"'),  # tests/signatures/test_signatures_doc.py
    ("docs/pulumi.md", "# infra.py: the program under test"),  # tests/pulumi/test_pulumi_testing.py
    ("docs/pulumi.md", "# test_infra.py: run with pytest"),  # and tests/test_package.py
}
#: Files whose console blocks this module runs line by line; the others' run in their own
#: tests, with the files and tools those pages set up (a tfvars file, a Terraform plan).
CONSOLE_HERE = {"README.md", "docs/lockfile.md"}
CONSOLE_ELSEWHERE = {
    "docs/terraform.md": "tests/audit/test_pin_vars.py, tests/audit/test_audit_terraform.py",
    "docs/workflows.md": "tests/core/test_workflows_doc.py",
    "docs/signatures.md": "tests/signatures/test_signatures_doc.py",
}


class Localized:
    """The docs' public images, pushed; `__call__` puts their local names into a text."""

    def __init__(self, registry: RegistryServer, repo: str) -> None:
        self.names: dict[str, str] = {}
        for public in PUBLIC:
            reference = parse(public)
            local = f"{repo}/{reference.registry}/{reference.repository}"
            tag = reference.tag or "latest"
            # Multi-platform, as public images are: the docs pick a linux/arm64 child.
            arm = build_image(f"{public} arm", architecture="arm64", variant="v8")
            registry.push(local, tag, build_index([build_image(f"{public} amd"), arm]))
            self.names[public] = f"{registry.host}/{local}:{tag}"
        self.lan = registry.host.replace("127.0.0.1", "0.0.0.0", 1)
        registry.push(f"{repo}/team/app", "v2", build_image("lan app"))
        self.names[f"{LAN}/team/app:v2"] = f"{self.lan}/{repo}/team/app:v2"
        self.names[LAN] = self.lan
        self.names["registry.example.com"] = registry.host

    def __call__(self, text: str) -> str:
        for public in sorted(self.names, key=len, reverse=True):
            text = text.replace(public, self.names[public])
        return text


@pytest.fixture
def localized(registry: RegistryServer, unique_repo: str) -> Localized:
    return Localized(registry, unique_repo)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTRY_TOKEN", "not-needed-by-a-plain-registry")
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    return tmp_path


def test_every_python_and_console_block_is_run_by_a_test() -> None:
    known = set(PYTHON) | ELSEWHERE
    for file in DOCS:
        for block in code_blocks(file, "python"):
            assert any(f == file and needle in block for f, needle in known), (file, block[:80])
        if code_blocks(file, "console"):
            assert file in CONSOLE_HERE | set(CONSOLE_ELSEWHERE), file


@pytest.mark.parametrize(("file", "needle"), sorted(PYTHON), ids=[n for _, n in sorted(PYTHON)])
def test_python_block_runs_as_written(
    file: str, needle: str, localized: Localized, in_tmp: Path
) -> None:
    code = localized(code_block(file, needle))
    namespace: dict[str, object] = {}
    run: Callable[[], object] = lambda: exec(compile(code, f"{file} block", "exec"), namespace)  # noqa: E731
    if PYTHON[file, needle] == "pulumi":
        (in_tmp / "project").mkdir()
        with DynamicProviderProcess(in_tmp / "project") as provider:
            deployment = run_program(run, preview=True, provider=provider)
        images = [
            image
            for registration in deployment.resources.values()
            for image in find_images(registration.inputs, IMAGE_FIELDS.get(registration.type, ()))
        ]
        assert all(has_digest(image) for image in images), images
        assert bool(images) == ("Service(" in code)  # the programs that deploy one are pinned
        # pin_images() comes first, as the docs say, and leaves a DigestImage's input to it
        assert deployment.warnings == [], deployment.warnings
    else:
        run()
    if "TerraformStack(" in code:  # a fragment that builds a stack: synthesize it, as a
        import cdktf  # program would, so its aspect is applied (not reported at exit)

        cdktf.Testing.synth(namespace["stack"])


def console_lines() -> list[tuple[str, str]]:
    return [
        (file, line.removeprefix("$ "))
        for file in sorted(CONSOLE_HERE)
        for block in code_blocks(file, "console")
        for line in block.splitlines()
        if line.startswith("$ ")
    ]


@pytest.mark.parametrize("file", sorted({file for file, _ in console_lines()}))
def test_console_lines_run_and_exit_zero(file: str, localized: Localized, in_tmp: Path) -> None:
    """Each block's `$` lines, in order, in one directory (a lock, then a check of it)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for line in (line for f, line in console_lines() if f == file):
        done = subprocess.run(
            ["bash", "-c", localized(line)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{file}: $ {line}\n{done.stdout}\n{done.stderr}"
