"""Helm charts deployed from Pulumi with `pin_images()`: the real `pulumi_kubernetes` classes.

- `helm.v3.Release` and `helm.v4.Chart`: the images in `values` are pinned where the chart
  reads them (`digest`, else `tag: "<tag>@sha256:..."`, a string image as `repo@sha256:...`);
  a Release, whose chart defaults only the provider's Helm sees, gets one warning naming it
  and the post-renderer setting, unless that is set.
- `helm.v3.Chart`: renders in the program (the `kubernetes:helm:template` invoke, answered
  here by rendering `helm create`'s template line with the values), and its Deployment is
  pinned like any other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime.mocks import MockCallArgs

from image_digest.audit import Resource, tags_in
from pulumi_digest import pin_images
from tests.pulumi.harness.program import EchoMocks, run_program
from tests.support.docs import code_block
from tests.support.images import build_image
from tests.support.registry import RegistryServer

PREVIEW = pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])


class Pushed:
    """Repositories pushed for one test: `name(repo)` and the digest of each tag."""

    def __init__(self, registry: RegistryServer, repo: str) -> None:
        self.registry = registry
        self.repo = repo
        self.digests: dict[tuple[str, str], str] = {}

    def push(self, name: str, tag: str, content: str | None = None) -> str:
        digest = self.registry.push(
            f"{self.repo}/{name}", tag, build_image(content or f"{self.repo}/{name}:{tag}")
        )
        self.digests[name, tag] = digest
        return digest

    def repository(self, name: str) -> str:
        return f"{self.registry.host}/{self.repo}/{name}"


@pytest.fixture
def pushed(registry: RegistryServer, unique_repo: str) -> Pushed:
    images = Pushed(registry, unique_repo)
    images.push("controller", "v1.10")
    images.push("redis", "7.2")
    images.push("certgen", "v1.4")
    images.push("busybox", "1.36")
    return images


def release_values(pushed: Pushed) -> dict[str, Any]:
    """ingress-nginx-like and Bitnami-like values, as the charts' docs show them."""
    return {
        "controller": {
            "image": {"repository": pushed.repository("controller"), "tag": "v1.10"},
            "admissionWebhooks": {
                "patch": {
                    "image": {
                        "registry": pushed.registry.host,
                        "image": f"{pushed.repo}/certgen",
                        "tag": "v1.4",
                        "digest": "",
                    }
                }
            },
            "replicaCount": 2,
        },
        "master": {
            "image": {
                "registry": pushed.registry.host,
                "repository": f"{pushed.repo}/redis",
                "tag": "7.2",
                "pullPolicy": "IfNotPresent",
            }
        },
        "extraContainers": [{"name": "sh", "image": f"{pushed.repository('busybox')}:1.36"}],
    }


def expected_values(pushed: Pushed) -> dict[str, Any]:
    values = release_values(pushed)
    d = pushed.digests
    values["controller"]["image"]["tag"] = f"v1.10@{d['controller', 'v1.10']}"
    values["controller"]["admissionWebhooks"]["patch"]["image"]["digest"] = d["certgen", "v1.4"]
    values["master"]["image"]["tag"] = f"7.2@{d['redis', '7.2']}"
    values["extraContainers"][0]["image"] = f"{pushed.repository('busybox')}@{d['busybox', '1.36']}"
    return values


@PREVIEW
def test_release_values_are_pinned_where_the_chart_reads_them(
    pushed: Pushed, preview: bool
) -> None:
    def program() -> None:
        pin_images()
        k8s.helm.v3.Release(
            "ingress",
            chart="ingress-nginx",
            version="4.10.0",
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(
                repo="https://kubernetes.github.io/ingress-nginx"
            ),
            namespace="ingress-nginx",
            values=release_values(pushed),
        )

    deployed = run_program(program, preview=preview)

    assert deployed["ingress"].inputs["values"] == expected_values(pushed)
    assert deployed["ingress"].inputs["chart"] == "ingress-nginx"
    [warning] = deployed.warnings
    assert warning.startswith(
        "kubernetes:helm.sh/v3:Release 'ingress': images the chart takes from its own defaults "
        "are not visible to the program"
    )
    assert 'postrender="image-digest-post-render"' in warning


def test_keep_tag_pins_a_string_value_readably_and_blocks_as_usual(pushed: Pushed) -> None:
    def program() -> None:
        pin_images(keep_tag=True)
        k8s.helm.v3.Release("ingress", chart="ingress-nginx", values=release_values(pushed))

    deployed = run_program(program, preview=True)

    expected = expected_values(pushed)
    digest = pushed.digests["busybox", "1.36"]
    expected["extraContainers"][0]["image"] = f"{pushed.repository('busybox')}:1.36@{digest}"
    assert deployed["ingress"].inputs["values"] == expected


def test_a_release_with_the_post_renderer_is_not_warned_and_a_partial_block_is_named(
    pushed: Pushed,
) -> None:
    def program(postrender: str | None) -> None:
        pin_images()
        k8s.helm.v3.Release(
            "web",
            chart="oci://registry-1.docker.io/bitnamicharts/nginx",
            values={"image": {"repository": pushed.repository("controller")}},  # tag: appVersion
            postrender=postrender,
        )

    warned = run_program(lambda: program(None), preview=True)
    [warning] = warned.warnings
    assert "nor these values: image (its tag comes from the chart's defaults)" in warning

    def with_files() -> None:
        pin_images()
        k8s.helm.v3.Release(
            "files",
            chart="ingress-nginx",
            value_yaml_files=[pulumi.FileAsset("values-prod.yaml")],
        )

    [warning] = run_program(with_files, preview=True).warnings
    assert "nor these values: valueYamlFiles (not read by the program)" in warning

    quiet = run_program(lambda: program("image-digest-post-render"), preview=True)
    assert quiet.warnings == []
    assert quiet["web"].inputs["postrender"] == "image-digest-post-render"


def test_chart_v4_values_are_pinned_and_its_rendered_children_need_no_warning(
    pushed: Pushed,
) -> None:
    def program() -> None:
        pin_images()
        k8s.helm.v4.Chart(
            "ingress",
            chart="ingress-nginx",
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(
                repo="https://kubernetes.github.io/ingress-nginx"
            ),
            values=release_values(pushed),
        )

    deployed = run_program(program, preview=True)

    assert deployed["ingress"].inputs["values"] == expected_values(pushed)
    assert deployed.warnings == []


def test_the_values_change_exactly_when_the_content_behind_an_image_does(pushed: Pushed) -> None:
    def program() -> None:
        pin_images()
        k8s.helm.v3.Release("ingress", chart="ingress-nginx", values=release_values(pushed))

    first = run_program(program, preview=True)["ingress"].inputs["values"]
    pushed.push("redis", "7.2")  # the same content again
    assert run_program(program, preview=True)["ingress"].inputs["values"] == first

    moved = pushed.push("redis", "7.2", "redis 7.2, rebuilt")
    second = run_program(program, preview=True)["ingress"].inputs["values"]

    assert second == {
        **first,
        "master": {"image": {**first["master"]["image"], "tag": f"7.2@{moved}"}},
    }


class HelmTemplate(EchoMocks):
    """The provider's `kubernetes:helm:template` for `helm create`'s chart: its Deployment,
    with the image line rendered from the values the program passed."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token != "kubernetes:helm:template":
            return super().call(args)
        self.values = json.loads(args.args["jsonOpts"])["values"]
        image = self.values["image"]
        # github.com/helm/helm pkg/chartutil/create.go, defaultDeployment's image line:
        rendered = f"{image['repository']}:{image.get('tag') or '1.16.0'}"
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "demo"},
            "spec": {
                "selector": {"matchLabels": {"app.kubernetes.io/name": "demo"}},
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "demo"}},
                    "spec": {"containers": [{"name": "demo", "image": rendered}]},
                },
            },
        }
        return {"result": [deployment]}, []


def test_chart_v3_renders_in_the_program_and_its_deployment_is_pinned(pushed: Pushed) -> None:
    mocks = HelmTemplate()

    def program() -> None:
        pin_images()
        k8s.helm.v3.Chart(
            "demo",
            k8s.helm.v3.LocalChartOpts(
                path="./demo",
                values={"image": {"repository": pushed.repository("controller"), "tag": "v1.10"}},
            ),
        )

    deployed = run_program(program, preview=True, mocks=mocks)

    [deployment] = [r for r in deployed.resources.values() if r.type.endswith("Deployment")]
    [container] = deployment.inputs["spec"]["template"]["spec"]["containers"]
    digest = pushed.digests["controller", "v1.10"]
    assert container["image"] == f"{pushed.repository('controller')}@{digest}"
    assert mocks.values["image"]["tag"] == "v1.10"
    assert deployed.warnings == []


def test_the_docs_release_recipe_pins_its_values_as_written(
    registry: RegistryServer,
    unique_repo: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/pulumi.md's `Release` block, with its registry made the local one."""
    monkeypatch.chdir(tmp_path)
    web = registry.push(f"{unique_repo}/team/web", "1.4.2", build_image("web 1.4.2"))
    exporter = registry.push(f"{unique_repo}/team/exporter", "1.1", build_image("exporter"))
    code = (
        code_block("docs/pulumi.md", "helm.v3.Release(")
        .replace("registry.example.com/team/", f"{registry.host}/{unique_repo}/team/")
        .replace('"team/', f'"{unique_repo}/team/')
        .replace("registry.example.com", registry.host)
    )

    deployed = run_program(lambda: exec(compile(code, "docs/pulumi.md", "exec"), {}), preview=True)

    values = deployed["web"].inputs["values"]
    assert values["image"]["tag"] == f"1.4.2@{web}"
    assert values["metrics"]["image"]["tag"] == f"1.1@{exporter}"
    assert deployed.warnings == []  # the post-renderer is set
    assert (tmp_path / "image-digest.lock").exists()


def test_audit_finds_the_values_images_of_a_release_left_unpinned(pushed: Pushed) -> None:
    """The gate reads a preview's `Release` inputs with the same conventions."""

    def program() -> None:
        k8s.helm.v3.Release("ingress", chart="ingress-nginx", values=release_values(pushed))

    registration = run_program(program, preview=True)["ingress"]
    resource = Resource("pulumi", registration.type, registration.urn, registration.inputs)

    found = {(f.path, f.reference) for f in tags_in(resource)}

    host, repo = pushed.registry.host, pushed.repo
    assert found == {
        ("values.controller.image", f"{pushed.repository('controller')}:v1.10"),
        ("values.controller.admissionWebhooks.patch.image", f"{host}/{repo}/certgen:v1.4"),
        ("values.master.image", f"{host}/{repo}/redis:7.2"),
        ("values.extraContainers[].image", f"{pushed.repository('busybox')}:1.36"),
    }
    pinned = expected_values(pushed)
    assert tags_in(Resource("pulumi", registration.type, "", {"values": pinned})) == []
