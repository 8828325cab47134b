"""docs/signatures.md runs as written: its commands in order (with the exit statuses the page
promises) and its Python block, against images signed in cosign's format on the local registry."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import cosign
from tests.support.docs import code_block, code_blocks
from tests.support.images import build_image
from tests.support.registry import RegistryServer

DOC = "docs/signatures.md"
HOST = "registry.example.com"
#: `resolve` of the unsigned `team/tool:dev` fails, as the page says.
EXPECTED_EXIT = {"resolve": 1}


@pytest.fixture
def signed_registry(registry: RegistryServer, tmp_path: Path, unique_repo: str) -> str:
    """`team/api:1.4` signed with the key in `tmp_path/cosign.pub`, `team/tool:dev` unsigned;
    returns the host that replaces the page's `registry.example.com`."""
    keys = cosign.generate()
    (tmp_path / "cosign.pub").write_bytes(keys.public_pem)
    prefix = unique_repo
    api = build_image(f"{prefix} api")
    registry.push(f"{prefix}/team/api", "1.4", api)
    registry.push(f"{prefix}/team/tool", "dev", build_image(f"{prefix} tool"))
    name = f"{registry.host}/{prefix}/team/api"
    signature = cosign.Signature.make(keys, name, api.digest)
    cosign.push_signature(registry.client(f"{prefix}/team/api"), api.digest, [signature])
    return f"{registry.host}/{prefix}"


def test_every_command_in_signatures_md_runs(signed_registry: str, tmp_path: Path) -> None:
    lines = [
        line.removeprefix("$ ")
        for block in code_blocks(DOC, "console")
        for line in block.splitlines()
        if line.startswith("$ image-digest ")
    ]
    assert len(lines) == 3
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGE_DIGEST_")}
    env["DOCKER_CONFIG"] = str(tmp_path / "docker")
    for line in lines:
        argv = [arg.replace(HOST, signed_registry) for arg in shlex.split(line)]
        done = subprocess.run(
            [sys.executable, "-m", "image_digest", *argv[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
            check=False,
        )
        assert done.returncode == EXPECTED_EXIT.get(argv[1], 0), f"{line}\n{done.stderr}"
        if argv[1] == "resolve":
            assert "no cosign signature for this digest" in done.stderr
            assert "cosign sign --key <private key>" in done.stderr


def test_the_python_block_runs(
    signed_registry: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code = code_block(DOC, 'verify="cosign.pub"').replace(HOST, signed_registry)
    exec(compile(code, f"{DOC} block", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert "signed by sha256:" in printed[0]
    assert printed[1].startswith("unsigned sha256:")
