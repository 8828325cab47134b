"""The three examples, run as the language host would run them (under the engine stand-in),
against the real registry: every image is pinned, and two previews differ exactly when the
content behind a tag changed, and then only in image fields, by digest."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_digest import IMAGE_FIELDS
from tests.pulumi.harness.engine import DYNAMIC_PREFIX, Registration
from tests.pulumi.harness.program import Deployment, EchoMocks, run_program
from tests.pulumi.harness.provider_process import DynamicProviderProcess
from tests.support.images import build_image
from tests.support.registry import RegistryServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DIGESTED = re.compile(r"^(?P<repo>[^@]+)@sha256:[0-9a-f]{64}$")


@dataclass
class Example:
    """One example directory and the registry content it runs against."""

    directory: str
    tags: tuple[str, ...]  # `repo:tag` pushed per run, relative to the test's repository
    config: Callable[[Callable[[str], str]], dict[str, str]]  # ref(repo:tag) -> config
    built: str | None = None  # the tag pulumi_docker.Image pushes itself (mocked output)

    @property
    def path(self) -> Path:
        return EXAMPLES / self.directory

    @property
    def project(self) -> str:
        return str(yaml.safe_load((self.path / "Pulumi.yaml").read_text())["name"])


EXAMPLE_LIST = [
    Example(
        "pulumi-cloudrun",
        ("hello:latest",),
        lambda ref: {"image": ref("hello:latest"), "region": "europe-west1"},
    ),
    Example(
        "pulumi-kubernetes",
        ("web:1.27", "report:1.36"),
        lambda ref: {"webImage": ref("web:1.27"), "reportImage": ref("report:1.36")},
    ),
    Example(
        "pulumi-docker",
        ("cache:7",),
        lambda ref: {"cacheImage": ref("cache:7")},
        built="demo/app:latest",
    ),
]
BY_NAME = {example.directory: example for example in EXAMPLE_LIST}
EXAMPLE = pytest.mark.parametrize("name", list(BY_NAME))


class Runner:
    """Pushes an example's images with a given content version and runs the example."""

    def __init__(
        self,
        example: Example,
        registry: RegistryServer,
        repo: str,
        provider: DynamicProviderProcess,
    ) -> None:
        self.example, self.registry, self.repo, self.provider = example, registry, repo, provider

    def ref(self, tag: str) -> str:
        return f"{self.registry.host}/{self.repo}/{tag}"

    def push(self, version: str) -> dict[str, Any]:
        """Push every tag with content `version`; return the mocked outputs of built images."""
        for tag in self.example.tags:
            name, _, label = tag.partition(":")
            self.registry.push(f"{self.repo}/{name}", label, build_image(f"{tag}@{version}"))
        if self.example.built is None:
            return {}
        name, _, label = self.example.built.partition(":")
        digest = self.registry.push(f"{self.repo}/{name}", label, build_image(f"app@{version}"))
        return {"app": {"repoDigest": f"{self.ref(name)}@{digest}"}}

    def run(self, version: str, *, preview: bool) -> Deployment:
        built = self.push(version)
        return run_program(
            self.example.path / "__main__.py",
            preview=preview,
            project=self.example.project,
            config=self.example.config(self.ref),
            mocks=EchoMocks(built),
            provider=self.provider,
        )


@pytest.fixture
def runner(
    request: pytest.FixtureRequest,
    registry: RegistryServer,
    unique_repo: str,
    provider_process: DynamicProviderProcess,
) -> Iterator[Callable[[str], Runner]]:
    yield lambda name: Runner(BY_NAME[name], registry, unique_repo, provider_process)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a": [{"b": 1}]}` -> `{"a[].b": 1}` per leaf (list indices kept as `[i]`)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= flatten(item, f"{prefix}.{key}" if prefix else key)
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out |= flatten(item, f"{prefix}[{index}]")
        return out
    return {prefix: value}


def image_path(type_: str, path: str) -> bool:
    return re.sub(r"\[\d+\]", "[]", path) in IMAGE_FIELDS.get(type_, ())


def pinned_images(resource: Registration) -> list[str]:
    return [v for p, v in flatten(resource.inputs).items() if image_path(resource.type, p)]


def test_every_example_is_covered() -> None:
    assert {p.name for p in EXAMPLES.glob("pulumi-*")} == set(BY_NAME)
    for example in EXAMPLE_LIST:
        for file in ("Pulumi.yaml", "requirements.txt", "__main__.py"):
            assert (example.path / file).is_file(), f"{example.directory}/{file}"


@EXAMPLE
@pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
def test_example_deploys_every_image_by_digest(
    runner: Callable[[str], Runner], name: str, preview: bool
) -> None:
    deployment = runner(name).run("v1", preview=preview)

    images = [image for r in deployment.resources.values() for image in pinned_images(r)]
    assert images, f"{name}: no image field found"
    assert all(DIGESTED.match(image) for image in images), images
    for resource in deployment.resources.values():
        if resource.type.startswith(DYNAMIC_PREFIX):
            assert DIGESTED.match(resource.outputs["repo_digest"])


def differences(before: Deployment, after: Deployment) -> dict[tuple[str, str], tuple[Any, Any]]:
    """(resource, path) -> (old, new) for every input (and checked input) that changed."""
    assert before.resources.keys() == after.resources.keys()
    changed: dict[tuple[str, str], tuple[Any, Any]] = {}
    for name, old in before.resources.items():
        new = after.resources[name]
        for label, a, b in (("", old.inputs, new.inputs), ("checked:", old.checked, new.checked)):
            flat_a, flat_b = flatten(a or {}), flatten(b or {})
            for path in flat_a.keys() | flat_b.keys():
                if flat_a.get(path) != flat_b.get(path):
                    changed[(name, label + path)] = (flat_a.get(path), flat_b.get(path))
    return changed


@EXAMPLE
def test_two_previews_differ_exactly_when_content_changed(
    runner: Callable[[str], Runner], name: str
) -> None:
    example = runner(name)
    first = example.run("v1", preview=True)

    identical = example.run("v1", preview=True)  # the same content pushed again
    assert differences(first, identical) == {}

    moved = example.run("v2", preview=True)  # new content behind the same tags
    changed = differences(identical, moved)
    assert changed, f"{name}: new content but no difference"
    for (resource_name, path), (old, new) in changed.items():
        resource = moved[resource_name]
        if path.startswith("checked:"):
            assert path in ("checked:digest", "checked:repo_digest"), path
        else:
            assert image_path(resource.type, path), f"{resource_name}: {path} changed"
        if path != "checked:digest":
            old_match, new_match = DIGESTED.match(str(old)), DIGESTED.match(str(new))
            assert old_match and new_match, (path, old, new)
            assert old_match["repo"] == new_match["repo"], (path, old, new)
