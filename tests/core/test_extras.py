"""`import pulumi_digest` / `import cdktf_digest` without their extra name the extra to install.

Each case runs a fresh interpreter whose `sys.meta_path` refuses the SDK, as if it were not
installed (this environment has every extra), and imports the adapter package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name == {blocked!r} or name.startswith({blocked!r} + "."):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
{statement}
"""


def run_without(blocked: str, statement: str) -> subprocess.CompletedProcess[str]:
    code = BLOCKER.format(blocked=blocked, statement=statement)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("package", "blocked", "extras"),
    [
        ("pulumi_digest", "pulumi", ["pip install '.[pulumi]' in a clone of image-digest"]),
        (
            "cdktf_digest",
            "constructs",
            ["pip install '.[cdktf]' or '.[cdktn]' in a clone of image-digest"],
        ),
    ],
)
def test_importing_an_adapter_without_its_sdk_names_the_extra(package, blocked, extras):
    caught = run_without(
        blocked,
        f"try:\n    import {package}\nexcept ImportError as exc:\n"
        "    print(type(exc).__name__, isinstance(exc, ImportError), exc.name)\n    print(exc)",
    )
    uncaught = run_without(blocked, f"import {package}")

    assert caught.returncode == 0, caught.stderr
    kind, message = caught.stdout.splitlines()
    assert kind == f"ModuleNotFoundError True {blocked}"
    assert message.startswith(f"{package} needs ") and f"No module named '{blocked}'" in message
    for extra in extras:
        assert extra in message
    # Uncaught, the user sees that one error, not a chain through the package's modules.
    assert uncaught.returncode == 1
    assert uncaught.stderr.count("Traceback") == 1
    assert "During handling" not in uncaught.stderr
    assert uncaught.stderr.splitlines()[-1] == f"ModuleNotFoundError: {message}"


@pytest.mark.parametrize("blocked", ["pulumi", "constructs"])
def test_the_core_imports_without_any_adapter_sdk(blocked):
    done = run_without(blocked, "import image_digest, image_digest.cli")

    assert done.returncode == 0, done.stderr
