"""`import image_digest` stays light: no IaC SDK, no Google auth, until something needs them.

A program that only pins images must not pay for (or require) pulumi, cdktf's jsii runtime or
google-auth at import time; and the HTTP stack (requests, urllib3, ssl) and filelock load on
the first registry request or lock write, not with the package (BENCHMARKS.md, "Import
cost"). A fresh interpreter is the only honest place to look, since this
test process has imported all sorts of things already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from image_digest.cli import COMMANDS

HEAVY = (
    "pulumi",
    "cdktf",
    "cdktn",
    "jsii",
    "constructs",
    "google.auth",
    "grpc",
    "boto3",
    "botocore",
    "azure",
)
ON_FIRST_USE = ("requests", "urllib3", "filelock", "ssl", "http.client", "subprocess")
ROOT = Path(__file__).resolve().parents[2]


def modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def heavy_in(modules: set[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(
        name for name in modules if any(name == h or name.startswith(h + ".") for h in heavy)
    )


@pytest.mark.parametrize(
    "statement",
    [
        "import image_digest",
        "import image_digest.cli",
        "from image_digest import Resolver, parse, resolve",
    ],
)
def test_importing_the_core_loads_no_heavy_module(statement):
    assert heavy_in(modules_after(statement)) == []


def test_creating_a_resolver_loads_no_heavy_module():
    """The default keychain includes Google ADC, which must load google-auth only when asked
    for credentials of a Google registry."""
    modules = modules_after("import image_digest\nimage_digest.Resolver(credentials={}).close()")
    assert heavy_in(modules) == []


@pytest.mark.parametrize(
    "statement",
    [
        "import image_digest",
        "from image_digest import Resolver, parse, resolve, LockFile, TransportOptions",
        "import image_digest.cli\nimage_digest.cli.build_parser().format_help()",
        "import image_digest\nimage_digest.Resolver(credentials={'r.example': ('u', 'p')}).close()",
        "import image_digest\nimage_digest.parse('nginx:1.25')",
    ],
    ids=["import", "from-import", "cli-help", "resolver", "parse"],
)
def test_the_http_stack_loads_on_first_use_not_with_the_package(statement):
    assert heavy_in(modules_after(statement), ON_FIRST_USE) == []


def test_the_lazy_names_still_import():
    modules = modules_after(
        "from image_digest.transport import Deadline, RegistryTransport, parse_challenge"
    )
    assert "requests" in modules and "image_digest.transport.http" in modules


def cli_modules_after(*argv: str) -> set[str]:
    """The modules loaded by `image-digest ARGV...` that ends in `--help` (exit 0)."""
    statement = (
        "import image_digest.cli\n"
        "try:\n"
        f"    image_digest.cli.main({list(argv)!r})\n"
        "except SystemExit as exit_:\n"
        "    assert exit_.code == 0, exit_.code\n"
    )
    return modules_after(statement)


def test_cli_help_imports_no_subcommand():
    """`image-digest --help` lists every subcommand from `cli.COMMANDS` without importing
    one: their modules (and what they need: the catalog, audit readers, tfvars) load when
    their command runs."""
    modules = cli_modules_after("--help")
    commands = {module for module, _ in COMMANDS.values()}
    assert sorted(modules & commands) == []
    later = ("image_digest.commands", "image_digest.audit", "image_digest.fields.catalog", "yaml")
    assert heavy_in(modules, later) == []


def test_a_subcommand_imports_its_own_module_only():
    modules = cli_modules_after("pins", "--help")
    assert "image_digest.commands.pins" in modules
    loaded = {m for m in modules if m.startswith("image_digest.commands.")}
    assert loaded <= {
        "image_digest.commands.pins",
        "image_digest.commands.options",
        "image_digest.commands.report",
    }
    assert heavy_in(modules, ("image_digest.audit", "image_digest.fields.catalog")) == []
