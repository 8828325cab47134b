"""The README's first command: the demo runs end to end and shows pins following content."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_end_to_end(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("JSII_SILENCE", "GRPC_"))},
            "DOCKER_CONFIG": str(tmp_path),
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": "/dev/null",
        },
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "the pin moves with the content" in out
    assert "Pulumi: pin_images()" in out and "after:" in out
    assert "No changes. Your infrastructure matches the configuration." in out
    assert "terraform_data.web will be updated in-place" in out
    assert "done: registry stopped" in out
    # No runtime notice reaches the output: jsii's Node banner (as bytes reprs), gRPC logs.
    for noise in ("b'", "end-of-life", "GOAWAY", "absl::"):
        assert noise not in out + done.stderr, noise
