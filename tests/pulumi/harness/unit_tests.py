"""docs/pulumi.md's unit-test example as a user's project: `infra.py` and `test_infra.py`.

The public images the page names are replaced by local ones, and one test is added that writes
what the program deployed to `pins.json`, so the caller can compare exact digests.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.support.docs import ROOT, code_block
from tests.support.images import build_image
from tests.support.registry import RegistryServer

PAGE = ROOT / "docs" / "pulumi.md"

_RECORD = """

@pulumi.runtime.test
def test_record_what_was_deployed():
    def record(spec):
        images = [container.image for container in spec.template.spec.containers]

        def write(api):
            with open("pins.json", "w") as out:
                json.dump({"containers": images, "api": api}, out)

        return infra.api.repo_digest.apply(write)

    return infra.web.spec.apply(record)
"""


def write_user_project(directory: Path, local: Mapping[str, str]) -> Path:
    """Write the page's program and test into `directory`, public names -> `local` ones."""
    program = code_block(PAGE, "# infra.py: the program under test")
    test = code_block(PAGE, "# test_infra.py: run with pytest")
    for public, name in local.items():
        program = program.replace(f'"{public}"', f'"{name}"')
    (directory / "infra.py").write_text(program)
    (directory / "test_infra.py").write_text("import json\n" + test + _RECORD)
    return directory / "test_infra.py"


def recorded_pins(directory: Path) -> dict[str, object]:
    """What `test_record_what_was_deployed` saw."""
    return dict(json.loads((directory / "pins.json").read_text()))


def run(
    python: str | Path, *args: str, cwd: Path, pythonpath: str = str(ROOT)
) -> subprocess.CompletedProcess[str]:
    """`python *args` in `cwd`; this checkout importable unless `pythonpath` says otherwise."""
    env = {**os.environ, "PYTHONPATH": pythonpath}
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def pushed(registry: RegistryServer, repo: str) -> tuple[dict[str, str], dict[str, str]]:
    """The page's two public images as local ones: (public -> local name, public -> digest)."""
    names, digests = {}, {}
    for public in ("nginx:1.25", "redis:7"):
        name, tag = public.split(":")
        digests[public] = registry.push(f"{repo}/{name}", tag, build_image(f"{repo} {public}"))
        names[public] = registry.reference(f"{repo}/{name}", tag)
    return names, digests


def assert_the_docs_unit_test_pins(
    python: str | Path,
    directory: Path,
    registry: RegistryServer,
    repo: str,
    pythonpath: str = str(ROOT),
) -> None:
    """Run docs/pulumi.md's unit test with `python`; every image is pinned, exactly."""
    names, digests = pushed(registry, repo)
    write_user_project(directory, names)

    done = run(
        python,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_infra.py",
        cwd=directory,
        pythonpath=pythonpath,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "3 passed" in done.stdout
    nginx, redis = (
        f"{registry.host}/{repo}/{n}@{digests[p]}"
        for n, p in (("nginx", "nginx:1.25"), ("redis", "redis:7"))
    )
    assert recorded_pins(directory) == {"containers": [nginx, redis], "api": redis}
