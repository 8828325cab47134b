#!/usr/bin/env python3
"""A Cloud Run v2 service on an Artifact Registry image, deployed by digest.

`cdktf synth` runs this file. `DigestImage` asks Artifact Registry (with Google Application
Default Credentials) which content `:latest` names right now, and the service is given
`...@sha256:...`; so `terraform plan` shows a change exactly when the image content changed,
and a new revision rolls out only then.

The service is declared with CDKTF's escape hatch (`TerraformResource` + `add_override`) rather
than the prebuilt `cdktf-cdktf-provider-google` bindings: those work the same way with
`cdktf_digest`, but are a very large package that is slow to load. With cdktn, import from
`cdktn` instead of `cdktf`; nothing else changes.
"""

from __future__ import annotations

import os

from cdktf import App, TerraformOutput, TerraformResource, TerraformStack
from constructs import Construct

from cdktf_digest import DigestImage

PROJECT = os.environ.get("GOOGLE_PROJECT", "my-project")
REGION = os.environ.get("GOOGLE_REGION", "us-central1")
IMAGE = os.environ.get("APP_IMAGE", f"{REGION}-docker.pkg.dev/{PROJECT}/apps/api:latest")


class CloudRunStack(TerraformStack):
    def __init__(self, scope: Construct, id: str, *, image: str) -> None:
        super().__init__(scope, id)
        self.add_override(
            "terraform.required_providers.google",
            {"source": "hashicorp/google", "version": ">= 5.0"},
        )
        self.add_override("provider.google", [{"project": PROJECT, "region": REGION}])

        api_image = DigestImage(self, "api-image", image=image)

        service = TerraformResource(
            self, "api", terraform_resource_type="google_cloud_run_v2_service"
        )
        service.add_override("name", "api")
        service.add_override("location", REGION)
        service.add_override("deletion_protection", False)
        service.add_override(
            "template",
            {"containers": [{"image": api_image.repo_digest, "ports": {"container_port": 8080}}]},
        )

        TerraformOutput(self, "image", value=api_image.repo_digest)
        TerraformOutput(self, "digest", value=api_image.digest)


app = App()
CloudRunStack(app, "cloudrun", image=IMAGE)
app.synth()
