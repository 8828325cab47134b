"""An image built and pushed with `pulumi_docker.Image`, deployed by digest.

The app image is built and pushed here, and `Image.repo_digest` (`repo@sha256:...`, what was
pushed) is what the container runs, never the tag. The cache comes from a registry by tag, so
`pin` turns it into a digest while the program runs: `pulumi preview` shows a new cache image
exactly when its tag moved.
"""

import pulumi
import pulumi_docker as docker

from pulumi_digest import pin

config = pulumi.Config()
registry = config.get("registry") or "localhost:5000"
cache_image = pin(config.get("cacheImage") or "redis:7")

app_image = docker.Image(
    "app",
    image_name=f"{registry}/demo/app:latest",
    build=docker.DockerBuildArgs(context="./app", platform="linux/amd64"),
)

network = docker.Network("demo")

cache = docker.Container(
    "cache",
    image=cache_image,
    networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=["cache"])],
)

app = docker.Container(
    "app",
    image=app_image.repo_digest,  # already repo@sha256:..., exactly what was pushed
    envs=["CACHE_HOST=cache"],
    networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network.name)],
    ports=[docker.ContainerPortArgs(internal=8080, external=8080)],
    opts=pulumi.ResourceOptions(depends_on=[cache]),
)

pulumi.export("app", app_image.repo_digest)
pulumi.export("cache", cache_image)
