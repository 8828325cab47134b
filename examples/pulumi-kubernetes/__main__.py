"""A Deployment and a CronJob, every container image pinned by digest with `pin_images()`.

Like k8s-digester does for pods, one call at the top rewrites the images of every workload
registered afterwards (containers, init containers, ephemeral containers, at every depth),
so the cluster runs exactly the content `pulumi preview` showed, and a rollout happens when,
and only when, a tag points at new content.
"""

import pulumi
import pulumi_kubernetes as k8s

from pulumi_digest import pin_images

pin_images()  # before any resource: it applies to resources registered after it

config = pulumi.Config()
web_image = config.get("webImage") or "nginx:1.27"
report_image = config.get("reportImage") or "busybox:1.36"

labels = {"app": "web"}

web = k8s.apps.v1.Deployment(
    "web",
    spec=k8s.apps.v1.DeploymentSpecArgs(
        replicas=2,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
        template=k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
            spec=k8s.core.v1.PodSpecArgs(
                init_containers=[
                    k8s.core.v1.ContainerArgs(
                        name="wait", image=report_image, command=["sh", "-c", "true"]
                    )
                ],
                containers=[
                    k8s.core.v1.ContainerArgs(
                        name="web",
                        image=web_image,
                        ports=[k8s.core.v1.ContainerPortArgs(container_port=80)],
                    )
                ],
            ),
        ),
    ),
)

report = k8s.batch.v1.CronJob(
    "report",
    spec=k8s.batch.v1.CronJobSpecArgs(
        schedule="0 3 * * *",
        job_template=k8s.batch.v1.JobTemplateSpecArgs(
            spec=k8s.batch.v1.JobSpecArgs(
                template=k8s.core.v1.PodTemplateSpecArgs(
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="report", image=report_image, command=["date"]
                            )
                        ],
                    )
                )
            )
        ),
    ),
)

# What the cluster will run: the pinned images, as the engine sees them.
pulumi.export("webImage", web.spec.apply(lambda spec: spec.template.spec.containers[0].image))
pulumi.export(
    "reportImage",
    report.spec.apply(lambda spec: spec.job_template.spec.template.spec.containers[0].image),
)
