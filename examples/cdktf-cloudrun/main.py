#!/usr/bin/env python3
"""A Cloud Run v2 service on Artifact Registry images, deployed by digest.

`cdktf synth` runs this file. `DigestImage` asks Artifact Registry (with Google Application
Default Credentials) which content `:latest` names right now, and the service is given
`...@sha256:...`; the `PinImages` aspect does the same for every other image attribute of the
stack (here the proxy sidecar). So `terraform plan` shows a change exactly when an image's
content changed, and a new revision rolls out only then.

The service is declared with the prebuilt google provider bindings
(`pip install cdktf-cdktf-provider-google`). With cdktn, import from `cdktn` and
`cdktn_provider_google` instead; nothing else changes.
"""

from __future__ import annotations

import os

from cdktf import App, Aspects, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_google.cloud_run_v2_service import (
    CloudRunV2Service,
    CloudRunV2ServiceTemplate,
    CloudRunV2ServiceTemplateContainers,
    CloudRunV2ServiceTemplateContainersPorts,
)
from cdktf_cdktf_provider_google.provider import GoogleProvider
from constructs import Construct

from cdktf_digest import DigestImage, PinImages

PROJECT = os.environ.get("GOOGLE_PROJECT", "my-project")
REGION = os.environ.get("GOOGLE_REGION", "us-central1")
REPOSITORY = f"{REGION}-docker.pkg.dev/{PROJECT}/apps"
IMAGE = os.environ.get("APP_IMAGE", f"{REPOSITORY}/api:latest")
PROXY_IMAGE = os.environ.get("PROXY_IMAGE", f"{REPOSITORY}/proxy:1")


class CloudRunStack(TerraformStack):
    def __init__(self, scope: Construct, id: str, *, image: str, proxy_image: str) -> None:
        super().__init__(scope, id)
        GoogleProvider(self, "google", project=PROJECT, region=REGION)

        api_image = DigestImage(self, "api-image", image=image)

        CloudRunV2Service(
            self,
            "api",
            name="api",
            location=REGION,
            deletion_protection=False,
            template=CloudRunV2ServiceTemplate(
                containers=[
                    CloudRunV2ServiceTemplateContainers(
                        name="api",
                        image=api_image.repo_digest,
                        ports=CloudRunV2ServiceTemplateContainersPorts(container_port=8080),
                    ),
                    CloudRunV2ServiceTemplateContainers(name="proxy", image=proxy_image),
                ]
            ),
        )
        Aspects.of(self).add(PinImages())  # pins the proxy's tag; the api image already is

        TerraformOutput(self, "image", value=api_image.repo_digest)
        TerraformOutput(self, "digest", value=api_image.digest)


app = App()
CloudRunStack(app, "cloudrun", image=IMAGE, proxy_image=PROXY_IMAGE)
app.synth()
