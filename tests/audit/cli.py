"""Run the `image-digest` CLI as CI runs it: a real subprocess of this interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_cli(
    *args: str | Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "image_digest", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def audit_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    """`audit --json`: its exit status and document."""
    done = run_cli("audit", "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def findings(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(address, path, reference) of every finding not allowed."""
    return {
        (f["address"], f["path"], f["reference"]) for f in document["findings"] if not f["allowed"]
    }
