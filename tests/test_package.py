"""The package as a user gets it: wheel and sdist built from a clean checkout, the wheel
installed with one extra into a fresh virtualenv, and a small program run against the local
registry. What the README promises (`pip install "image-digest[pulumi]"`) is what is tested.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support.docs import ROOT
from tests.support.images import build_image
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheel and sdist of HEAD, built from a clean clone (what is committed, nothing else)."""
    root = tmp_path_factory.mktemp("package")
    run("git", "clone", "--quiet", ROOT, root / "checkout")
    run(sys.executable, "-m", "build", "--outdir", root / "dist", root / "checkout")
    return root / "dist"


def fresh_venv(path: Path, requirement: str) -> Path:
    """A new virtualenv with only `requirement` installed; its python."""
    venv.create(path, with_pip=True)
    python = path / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement)
    return python


def test_the_wheel_holds_the_packages_license_and_typing(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    for package in ("image_digest", "pulumi_digest", "cdktf_digest"):
        assert f"{package}/__init__.py" in names and f"{package}/py.typed" in names
    assert any(name.endswith("licenses/LICENSE") for name in names)
    assert not any(name.startswith(("tests/", "examples/", "benchmarks/")) for name in names)


def test_the_sdist_ships_no_test_it_cannot_run(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert {"LICENSE", "README.md", "pyproject.toml", "image_digest/resolver.py"} <= set(names)
    assert not any(name.startswith("tests/") for name in names)


def test_the_wheel_with_only_the_pulumi_extra_runs_a_program(
    dist: Path, tmp_path: Path, registry: RegistryServer, unique_repo: str
) -> None:
    (wheel,) = dist.glob("*.whl")
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} wheel"))
    python = fresh_venv(tmp_path / "venv", f"image-digest[pulumi] @ {wheel.as_uri()}")
    program = textwrap.dedent(
        f"""
        import pulumi

        class Mocks(pulumi.runtime.Mocks):
            def new_resource(self, args):
                return args.name + "-id", args.inputs

            def call(self, args):
                return {{}}

        pulumi.runtime.set_mocks(Mocks(), preview=True)
        from pulumi_digest import pin

        @pulumi.runtime.test
        def pinned():
            return pin("{registry.reference(unique_repo, "v1")}").apply(print)

        pinned()
        """
    )

    out = run(python, "-c", program, cwd=tmp_path)

    assert out.strip() == f"{registry.host}/{unique_repo}@{digest}"
    installed = run(python, "-m", "pip", "list", "--format=freeze")
    assert "pulumi==" in installed
    assert not any(f"{sdk}==" in installed for sdk in ("pulumi-gcp", "pulumi-docker", "cdktf"))


def test_the_wheel_with_only_the_cdktf_extra_synthesizes_a_pinned_stack(
    dist: Path, tmp_path: Path, registry: RegistryServer, unique_repo: str
) -> None:
    (wheel,) = dist.glob("*.whl")
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} cdktf wheel"))
    python = fresh_venv(tmp_path / "venv", f"image-digest[cdktf] @ {wheel.as_uri()}")
    program = textwrap.dedent(
        f"""
        import json
        from cdktf import Aspects, Testing, TerraformStack
        from cdktf_cdktf_provider_docker.container import Container
        from cdktf_digest import PinImages

        stack = TerraformStack(Testing.app(), "s")
        Container(stack, "web", name="web", image="{registry.reference(unique_repo, "v1")}")
        Aspects.of(stack).add(PinImages())
        print(json.loads(Testing.synth(stack))["resource"]["docker_container"]["web"]["image"])
        """
    )

    out = run(python, "-c", program, cwd=tmp_path)

    assert out.strip().splitlines()[-1] == f"{registry.host}/{unique_repo}@{digest}"
