"""The Pulumi demo step runs (so the README's demo cannot rot) and shows the pins moving."""

from __future__ import annotations

import pytest

from tests.pulumi.harness.demo import pulumi_preview_follows_content
from tests.support.registry import RegistryServer


def test_demo_step_shows_pins_before_and_after_a_push(
    registry: RegistryServer, unique_repo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pulumi_preview_follows_content(registry, registry.reference(unique_repo, "latest"))

    out = capsys.readouterr().out
    assert out.count("before: ") == 2 and out.count("after:  ") == 2
    assert f"{registry.host}/{unique_repo}@sha256:" in out
