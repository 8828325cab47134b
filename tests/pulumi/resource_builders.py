"""One real SDK resource per type `pin_images` knows, holding the images it is given.

Each builder takes three references (main container, init container, ephemeral/second
container) and registers the resource named "subject" the way a user program would, with the
SDK's own Args classes (or dicts) and snake_case names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_docker as docker
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

Builder = Callable[[str, str, str], Any]
NAME = "subject"


def _pod_spec(main: str, init: str, extra: str) -> dict[str, Any]:
    return {
        "containers": [{"name": "app", "image": main}],
        "init_containers": [{"name": "init", "image": init}],
        "ephemeral_containers": [{"name": "debug", "image": extra}],
    }


def _template(main: str, init: str, extra: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "a"}}, "spec": _pod_spec(main, init, extra)}


def _selector() -> dict[str, Any]:
    return {"match_labels": {"app": "a"}}


BUILDERS: dict[str, Builder] = {
    "docker:index/container:Container": lambda main, init, extra: docker.Container(
        NAME, image=main
    ),
    "docker:index/service:Service": lambda main, init, extra: docker.Service(
        NAME,
        task_spec=docker.ServiceTaskSpecArgs(
            container_spec=docker.ServiceTaskSpecContainerSpecArgs(image=main)
        ),
    ),
    "gcp:cloudrunv2/service:Service": lambda main, init, extra: gcp.cloudrunv2.Service(
        NAME,
        location="europe-west1",
        template=gcp.cloudrunv2.ServiceTemplateArgs(
            containers=[
                gcp.cloudrunv2.ServiceTemplateContainerArgs(image=main, name="app"),
                gcp.cloudrunv2.ServiceTemplateContainerArgs(image=extra, name="sidecar"),
            ]
        ),
    ),
    "gcp:cloudrunv2/job:Job": lambda main, init, extra: gcp.cloudrunv2.Job(
        NAME,
        location="europe-west1",
        template=gcp.cloudrunv2.JobTemplateArgs(
            template=gcp.cloudrunv2.JobTemplateTemplateArgs(
                containers=[
                    gcp.cloudrunv2.JobTemplateTemplateContainerArgs(image=main),
                    gcp.cloudrunv2.JobTemplateTemplateContainerArgs(image=extra),
                ]
            )
        ),
    ),
    "gcp:cloudrun/service:Service": lambda main, init, extra: gcp.cloudrun.Service(
        NAME,
        location="europe-west1",
        template=gcp.cloudrun.ServiceTemplateArgs(
            spec=gcp.cloudrun.ServiceTemplateSpecArgs(
                containers=[
                    gcp.cloudrun.ServiceTemplateSpecContainerArgs(image=main),
                    gcp.cloudrun.ServiceTemplateSpecContainerArgs(image=extra),
                ]
            )
        ),
    ),
    "kubernetes:core/v1:Pod": lambda main, init, extra: k8s.core.v1.Pod(
        NAME, spec=_pod_spec(main, init, extra)
    ),
    "kubernetes:apps/v1:Deployment": lambda main, init, extra: k8s.apps.v1.Deployment(
        NAME, spec={"selector": _selector(), "template": _template(main, init, extra)}
    ),
    "kubernetes:apps/v1:StatefulSet": lambda main, init, extra: k8s.apps.v1.StatefulSet(
        NAME,
        spec={
            "service_name": "s",
            "selector": _selector(),
            "template": _template(main, init, extra),
        },
    ),
    "kubernetes:apps/v1:DaemonSet": lambda main, init, extra: k8s.apps.v1.DaemonSet(
        NAME, spec={"selector": _selector(), "template": _template(main, init, extra)}
    ),
    "kubernetes:apps/v1:ReplicaSet": lambda main, init, extra: k8s.apps.v1.ReplicaSet(
        NAME, spec={"selector": _selector(), "template": _template(main, init, extra)}
    ),
    "kubernetes:batch/v1:Job": lambda main, init, extra: k8s.batch.v1.Job(
        NAME, spec={"template": _template(main, init, extra)}
    ),
    "kubernetes:batch/v1:CronJob": lambda main, init, extra: k8s.batch.v1.CronJob(
        NAME,
        spec={
            "schedule": "*/5 * * * *",
            "job_template": {"spec": {"template": _template(main, init, extra)}},
        },
    ),
}
