"""A Cloud Run v2 service on an Artifact Registry image, deployed by digest.

Cloud Run only starts a new revision when the service's image string changes, so deploying
`:latest` never picks up a new push. Here the tag goes through `DigestImage`: `pulumi preview`
shows `~ digest` (and a new image on the service) exactly when the tag points at new content,
and nothing when the same content is pushed again. With `IMAGE_DIGEST_MODE=fallback` and a lock
file (`IMAGE_DIGEST_LOCK`), an Artifact Registry outage deploys the locked digest with a warning.
"""

import pulumi
import pulumi_gcp as gcp

from pulumi_digest import DigestImage

config = pulumi.Config()
image = config.get("image") or "europe-west1-docker.pkg.dev/my-project/apps/hello:latest"
region = config.get("region") or "europe-west1"

app_image = DigestImage("hello-image", image=image, with_labels=True)

service = gcp.cloudrunv2.Service(
    "hello",
    location=region,
    deletion_protection=False,
    ingress="INGRESS_TRAFFIC_ALL",
    template=gcp.cloudrunv2.ServiceTemplateArgs(
        containers=[
            gcp.cloudrunv2.ServiceTemplateContainerArgs(
                image=app_image.repo_digest,
                ports=gcp.cloudrunv2.ServiceTemplateContainerPortsArgs(container_port=8080),
            )
        ],
    ),
)

gcp.cloudrunv2.ServiceIamMember(
    "public",
    name=service.name,
    location=region,
    role="roles/run.invoker",
    member="allUsers",
)

pulumi.export("image", app_image.repo_digest)
pulumi.export(
    "revision",
    app_image.labels.apply(lambda labels: (labels or {}).get("org.opencontainers.image.revision")),
)
pulumi.export("url", service.uri)
