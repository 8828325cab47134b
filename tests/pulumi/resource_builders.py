"""One real SDK resource per type `pin_images` knows, holding the images it is given.

Each builder takes three references (main container, init container, ephemeral/second
container) and registers the resource named "subject" the way a user program would, with the
SDK's own Args classes (or dicts) and snake_case names.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi_aws as aws
import pulumi_awsx as awsx
import pulumi_azure_native as azure
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
    "kubernetes:yaml/v2:ConfigGroup": lambda main, init, extra: k8s.yaml.v2.ConfigGroup(
        NAME,
        objs=[
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {
                    "containers": [{"name": "app", "image": main}],
                    "initContainers": [{"name": "init", "image": init}],
                    "ephemeralContainers": [{"name": "debug", "image": extra}],
                },
            }
        ],
    ),
    # ---- AWS
    "aws:ecs/taskDefinition:TaskDefinition": lambda main, init, extra: aws.ecs.TaskDefinition(
        NAME,
        family="web",
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu="256",
        memory="512",
        container_definitions=json.dumps(
            [
                {
                    "name": "web",
                    "image": main,
                    "essential": True,
                    "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                },
                {"name": "log-router", "image": extra, "essential": False},
            ]
        ),
    ),
    "aws:lambda/function:Function": lambda main, init, extra: aws.lambda_.Function(
        NAME, package_type="Image", image_uri=main, role="arn:aws:iam::123456789012:role/fn"
    ),
    "aws:apprunner/service:Service": lambda main, init, extra: aws.apprunner.Service(
        NAME,
        service_name="web",
        source_configuration=aws.apprunner.ServiceSourceConfigurationArgs(
            auto_deployments_enabled=False,
            image_repository=aws.apprunner.ServiceSourceConfigurationImageRepositoryArgs(
                image_identifier=main,
                image_repository_type="ECR_PUBLIC",
                image_configuration={"port": "8000"},
            ),
        ),
    ),
    "aws:batch/jobDefinition:JobDefinition": lambda main, init, extra: aws.batch.JobDefinition(
        NAME,
        type="container",
        container_properties=json.dumps(
            {
                "command": ["echo", "test"],
                "image": main,
                "resourceRequirements": [{"type": "VCPU", "value": "0.25"}],
            }
        ),
    ),
    "awsx:ecs:FargateService": lambda main, init, extra: awsx.ecs.FargateService(
        NAME,
        assign_public_ip=True,
        task_definition_args=awsx.ecs.FargateServiceTaskDefinitionArgs(
            container=awsx.ecs.TaskDefinitionContainerDefinitionArgs(
                name="web", image=main, cpu=128, memory=512, essential=True
            )
        ),
    ),
    "awsx:ecs:EC2Service": lambda main, init, extra: awsx.ecs.EC2Service(
        NAME,
        task_definition_args={
            "containers": {
                "web": {"name": "web", "image": main, "memory": 256},
                "sidecar": {"name": "sidecar", "image": extra, "memory": 64},
            }
        },
    ),
    "awsx:ecs:FargateTaskDefinition": lambda main, init, extra: awsx.ecs.FargateTaskDefinition(
        NAME, container={"name": "web", "image": main, "memory": 512}
    ),
    "awsx:ecs:EC2TaskDefinition": lambda main, init, extra: awsx.ecs.EC2TaskDefinition(
        NAME, containers={"web": {"name": "web", "image": main, "memory": 256}}
    ),
    # ---- Azure
    "azure-native:containerinstance:ContainerGroup": lambda main, init, extra: (
        azure.containerinstance.ContainerGroup(
            NAME,
            resource_group_name="rg",
            os_type="Linux",
            containers=[
                azure.containerinstance.ContainerArgs(
                    name="web",
                    image=main,
                    ports=[azure.containerinstance.ContainerPortArgs(port=80)],
                    resources={"requests": {"cpu": 1, "memory_in_gb": 1.5}},
                )
            ],
            init_containers=[{"name": "init", "image": init}],
        )
    ),
    "azure-native:app:ContainerApp": lambda main, init, extra: azure.app.ContainerApp(
        NAME,
        resource_group_name="rg",
        managed_environment_id="/subscriptions/s/resourceGroups/rg/providers/x/env",
        template=azure.app.TemplateArgs(
            containers=[azure.app.ContainerArgs(name="web", image=main)],
            init_containers=[azure.app.InitContainerArgs(name="init", image=init)],
        ),
    ),
    "azure-native:app:Job": lambda main, init, extra: azure.app.Job(
        NAME,
        resource_group_name="rg",
        environment_id="/subscriptions/s/resourceGroups/rg/providers/x/env",
        configuration={"trigger_type": "Manual", "replica_timeout": 600},
        template={
            "containers": [{"name": "job", "image": main}],
            "init_containers": [{"name": "init", "image": init}],
        },
    ),
    "azure-native:web:WebApp": lambda main, init, extra: azure.web.WebApp(
        NAME,
        resource_group_name="rg",
        server_farm_id="/subscriptions/s/resourceGroups/rg/providers/x/plan",
        kind="app,linux,container",
        site_config=azure.web.SiteConfigArgs(linux_fx_version=f"DOCKER|{main}", always_on=True),
    ),
    "azure-native:web:WebAppSlot": lambda main, init, extra: azure.web.WebAppSlot(
        NAME,
        name="web",
        slot="staging",
        resource_group_name="rg",
        site_config={"linux_fx_version": f"DOCKER|{main}"},
    ),
    # ---- Google Cloud, beyond Cloud Run services and jobs
    "gcp:cloudrunv2/workerPool:WorkerPool": lambda main, init, extra: gcp.cloudrunv2.WorkerPool(
        NAME,
        location="europe-west1",
        template={"containers": [{"image": main, "name": "worker"}, {"image": extra}]},
    ),
    "gcp:appengine/flexibleAppVersion:FlexibleAppVersion": lambda main, init, extra: (
        gcp.appengine.FlexibleAppVersion(
            NAME,
            service="default",
            runtime="custom",
            version_id="v1",
            deployment={"container": {"image": main}},
            liveness_check={"path": "/"},
            readiness_check={"path": "/"},
        )
    ),
    "gcp:vertex/aiEndpointWithModelGardenDeployment:AiEndpointWithModelGardenDeployment": (
        lambda main, init, extra: gcp.vertex.AiEndpointWithModelGardenDeployment(
            NAME,
            location="us-central1",
            hugging_face_model_id="google/gemma-3-1b-it",
            model_config={
                "container_spec": {"image_uri": main, "ports": [{"container_port": 8080}]}
            },
        )
    ),
    # ---- Docker: the image a container runs, pulled by digest
    "docker:index/remoteImage:RemoteImage": lambda main, init, extra: docker.RemoteImage(
        NAME, name=main, keep_locally=True
    ),
}
