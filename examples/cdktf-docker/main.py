#!/usr/bin/env python3
"""Two docker containers pinned to digests: one at synth, one at plan time.

- `web` is written with a tag; the `PinImages` aspect resolves it while `cdktf synth` runs,
  so the synthesized JSON already says `nginx@sha256:...`.
- `worker` uses `RegistryDigest`: the docker provider's `docker_registry_image` data source
  asks the registry on every `terraform plan`, for stacks synthesized once and planned later.

With cdktn, import from `cdktn` and `cdktn_provider_docker` instead; nothing else changes.
"""

from __future__ import annotations

import os

from cdktf import App, Aspects, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_docker.container import Container
from cdktf_cdktf_provider_docker.provider import DockerProvider
from constructs import Construct

from cdktf_digest import PinImages, RegistryDigest

WEB_IMAGE = os.environ.get("WEB_IMAGE", "nginx:1.27")
WORKER_IMAGE = os.environ.get("WORKER_IMAGE", "redis:7")


class DockerStack(TerraformStack):
    def __init__(self, scope: Construct, id: str, *, web_image: str, worker_image: str) -> None:
        super().__init__(scope, id)
        DockerProvider(self, "docker")

        web = Container(self, "web", name="web", image=web_image)

        worker_digest = RegistryDigest(self, "worker-image", image=worker_image)
        Container(self, "worker", name="worker", image=worker_digest.repo_digest)

        Aspects.of(self).add(PinImages())
        TerraformOutput(self, "web_image", value=web.image)
        TerraformOutput(self, "worker_image", value=worker_digest.repo_digest)


app = App()
DockerStack(app, "docker", web_image=WEB_IMAGE, worker_image=WORKER_IMAGE)
app.synth()
