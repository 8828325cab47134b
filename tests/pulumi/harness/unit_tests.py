"""docs/pulumi.md's unit-test example as a user's project: `infra.py` and `test_infra.py`.

The public images the page names are replaced by local ones, and one test is added that writes
what the program deployed to `pins.json`, so the caller can compare exact digests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from tests.support.docs import ROOT, code_block

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
