"""The package as a user gets it: wheel and sdist built from a clean checkout, the wheel
installed with its extras into fresh virtualenvs (by uv, from its cache: seconds each), the
README's install line run as written in a clone, and programs run against the local registry.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

from tests.pulumi.harness.unit_tests import assert_the_docs_unit_test_pins
from tests.support.docs import ROOT, code_block
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
    run(
        sys.executable,
        "-m",
        "build",
        "--installer",
        "uv",
        "--outdir",
        root / "dist",
        root / "checkout",
    )
    return root / "dist"


def fresh_venv(path: Path, *requirements: str) -> Path:
    """A new virtualenv with only `requirements` installed (by uv); its python."""
    run(sys.executable, "-m", "uv", "venv", "--quiet", "--python", sys.executable, path)
    python = path / "bin" / "python"
    run(sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", python, *requirements)
    return python


def distributions(python: Path) -> set[str]:
    """The normalized names of every distribution installed for `python`."""
    names = "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'])"
    listing = run(python, "-c", names)
    return {name.strip().lower().replace("_", "-") for name in listing.split()}


PROGRAM = """
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
    return pin("{reference}").apply(print)

pinned()
"""


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
    program = PROGRAM.format(reference=registry.reference(unique_repo, "v1"))

    out = run(python, "-c", program, cwd=tmp_path)

    assert out.strip() == f"{registry.host}/{unique_repo}@{digest}"
    installed = distributions(python)
    assert "pulumi" in installed
    assert not installed & {"pulumi-gcp", "pulumi-docker", "cdktf", "pytest"}


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


def test_the_wheel_with_all_extras_has_every_runtime_and_no_test_tooling(
    dist: Path, tmp_path: Path
) -> None:
    (wheel,) = dist.glob("*.whl")

    python = fresh_venv(tmp_path / "venv", f"image-digest[all] @ {wheel.as_uri()}")

    installed = distributions(python)
    runtime = {"pulumi", "cdktf", "cdktn", "google-auth", "boto3", "azure-identity", "pyyaml"}
    assert runtime <= installed, runtime - installed
    tooling = {"pytest", "pytest-xdist", "mypy", "ruff", "hypothesis", "build", "uv", "oras"}
    assert not installed & tooling
    assert not {
        name for name in installed if name.startswith(("pulumi-", "cdktf-cdktf-provider-"))
    } - {"cdktf-cdktf-provider-docker"}
    run(python, "-c", "import image_digest, pulumi_digest, pulumi_digest.testing, cdktf_digest")


def test_the_readme_install_line_installs_from_a_clone(
    dist: Path, tmp_path: Path, registry: RegistryServer, unique_repo: str
) -> None:
    """`pip install ".[pulumi]"` exactly as the README writes it, in a fresh clone."""
    (line,) = [
        line.split("#")[0].strip()
        for line in code_block("README.md", 'pip install ".[', "bash").splitlines()
        if line.startswith('pip install ".[')
    ]
    assert line == 'pip install ".[pulumi]"'
    clone = dist.parent / "checkout"
    venv.create(tmp_path / "venv", with_pip=True)
    digest = registry.push(unique_repo, "v1", build_image(f"{unique_repo} clone"))
    path = f"{tmp_path / 'venv' / 'bin'}:{os.environ['PATH']}"

    done = subprocess.run(
        ["bash", "-c", f"set -e; {line} --quiet --disable-pip-version-check"],
        cwd=clone,
        env={**os.environ, "PATH": path, "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-4000:]
    program = PROGRAM.format(reference=registry.reference(unique_repo, "v1"))
    out = run(tmp_path / "venv" / "bin" / "python", "-c", program, cwd=tmp_path)
    assert out.strip() == f"{registry.host}/{unique_repo}@{digest}"


def test_a_users_pulumi_unit_test_pins_images_with_the_wheel(
    dist: Path, tmp_path: Path, registry: RegistryServer, unique_repo: str
) -> None:
    """docs/pulumi.md's unit test, in a project whose venv has the wheel, pytest and the
    kubernetes SDK: `pulumi_digest.testing` ships in the wheel and pins for real."""
    (wheel,) = dist.glob("*.whl")
    python = fresh_venv(
        tmp_path / "venv", f"image-digest[pulumi] @ {wheel.as_uri()}", "pytest", "pulumi-kubernetes"
    )
    project = tmp_path / "project"
    project.mkdir()

    assert_the_docs_unit_test_pins(python, project, registry, unique_repo, pythonpath="")
