"""No credential reaches what CDKTF writes: synthesized JSON, manifest, or warning annotations.

The registry wants Basic credentials; they come from the docker config (with a token-server
registry too, so a Bearer token exists), and every way of pinning is used in one app.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from cdktf_digest import DigestImage, PinImages, pin
from image_digest import Resolver
from tests.cdktf.harness import Cdk
from tests.support.images import build_image
from tests.support.registry import RegistryServer

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.")


@pytest.fixture
def logged_in(
    basic_registry: RegistryServer, token_registry: RegistryServer, tmp_path: Path, monkeypatch
) -> list[str]:
    """A docker config holding both registries' credentials; returns every secret string."""
    auths = {}
    secrets = []
    for registry in (basic_registry, token_registry):
        assert registry.password is not None
        blob = base64.b64encode(f"alice:{registry.password}".encode()).decode()
        auths[registry.host] = {"auth": blob}
        secrets += [registry.password, blob]
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"auths": auths}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return secrets


def test_synthesized_output_holds_no_credential(
    cdk: Cdk,
    basic_registry: RegistryServer,
    token_registry: RegistryServer,
    unique_repo: str,
    logged_in: list[str],
    tmp_path: Path,
) -> None:
    basic_ref = basic_registry.reference(unique_repo, "v1")
    token_ref = token_registry.reference(unique_repo, "v1")
    basic_registry.push(unique_repo, "v1", build_image("no creds basic"))
    token_registry.push(unique_repo, "v1", build_image("no creds token"))
    outdir = tmp_path / "out"
    app = cdk.lib.App(outdir=str(outdir))
    stack = cdk.lib.TerraformStack(app, "stack")

    token_registry.token_server.reset()

    with Resolver() as resolver:
        image = DigestImage(stack, "image", image=basic_ref, with_labels=True)
        cdk.lib.DataResource(stack, "by-pin", input={"image": pin(token_ref)})
        cdk.lib.DataResource(stack, "by-construct", input={"image": image.repo_digest})
        cdk.escape_hatch(stack, "container", "docker_container", image=token_ref)
        cdk.lib.Aspects.of(stack).add(PinImages(resolver=resolver))
        app.synth()

    written = "".join(p.read_text() for p in outdir.rglob("*") if p.is_file())
    assert f"{token_registry.host}/{unique_repo}@sha256:" in written  # the pins are there
    assert f"{basic_registry.host}/{unique_repo}@sha256:" in written
    assert token_registry.token_server.issued, "a Bearer token was in play"
    for secret in logged_in:
        assert secret not in written
    assert not JWT.search(written), "a bearer token (JWT) was written"
