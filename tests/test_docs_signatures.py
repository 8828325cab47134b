"""The signatures in the docs' reference tables are the code's, so they cannot drift.

A table row that starts with a call (`pin(image, *, ...)` in its first cell) documents that
entry point of the package its section is about; it must list exactly the code's parameters
and defaults.
"""

from __future__ import annotations

import importlib
import os
import re

import pytest

from tests.support.docs import ROOT, rendered_signature

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

#: (file, the section heading that starts a package's part, or "" for the whole file) -> package.
SECTIONS = {
    ("README.md", "## The core"): "image_digest",
    ("README.md", "## Pulumi"): "pulumi_digest",
    ("README.md", "## CDK for Terraform"): "cdktf_digest",
    ("docs/pulumi.md", ""): "pulumi_digest",
    ("docs/cdktf.md", ""): "cdktf_digest",
    ("docs/lockfile.md", ""): "image_digest",
}
_ROW = re.compile(r"^\| `(?P<name>[A-Za-z_]+)\((?P<params>[^`]*)\)` \|", re.MULTILINE)


def documented_rows() -> list[tuple[str, str, str, str]]:
    """(file, package, name, the documented call) for every signature row."""
    rows = []
    for (file, heading), package in SECTIONS.items():
        text = (ROOT / file).read_text()
        if heading:
            start = text.index(f"\n{heading}\n")
            end = text.find("\n## ", start + len(heading) + 2)
            text = text[start : end if end != -1 else None]
        for match in _ROW.finditer(text):
            call = f"{match['name']}({match['params']})"
            rows.append((file, package, match["name"], call))
    return rows


ROWS = documented_rows()


def test_the_reference_tables_document_every_entry_point() -> None:
    documented = {(package, name) for _, package, name, _ in ROWS}
    for package in ("pulumi_digest", "cdktf_digest"):
        entry_points = {"pin", "DigestImage"} | (
            {"pin_images"} if package == "pulumi_digest" else {"PinImages", "RegistryDigest"}
        )
        assert {(package, name) for name in entry_points} <= documented


@pytest.mark.parametrize(("file", "package", "name", "call"), ROWS, ids=[r[3] for r in ROWS])
def test_a_documented_signature_is_the_codes(file: str, package: str, name: str, call: str) -> None:
    code = getattr(importlib.import_module(package), name)
    assert call == rendered_signature(name, code), f"{file}: {package}.{name}"
