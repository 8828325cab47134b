"""`image-digest diff` over Pulumi stack exports and previews of real programs.

Two stacks (staging and production) run the same program through the test engine, each
pinned by `pin_images` against the real registry; their registrations are written out as
`pulumi stack export` and `pulumi preview --json` write them (see `test_pulumi_audit`). The
same digests compare the same however each stack spells them (`keep_tag=True` in staging);
new content behind the tag in production fails the gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi_docker as docker
import pulumi_kubernetes as k8s

from image_digest import Resolver
from pulumi_digest import DigestImage, pin_images
from tests.audit.cli import run_cli
from tests.pulumi.harness.program import run_program
from tests.pulumi.harness.provider_process import DynamicProviderProcess
from tests.pulumi.test_pulumi_audit import export_document, state
from tests.support.images import build_image
from tests.support.registry import RegistryServer


def stack(web: str, worker: str, *, keep_tag: bool) -> dict[str, Any]:
    """Run the program once (an update) and return its registrations by name."""

    def program() -> None:
        pin_images(keep_tag=keep_tag)
        docker.Container("web", image=web)
        k8s.apps.v1.Deployment(
            "worker",
            spec={
                "selector": {"match_labels": {"app": "w"}},
                "template": {
                    "metadata": {"labels": {"app": "w"}},
                    "spec": {"containers": [{"name": "w", "image": worker}]},
                },
            },
        )

    return run_program(program, preview=False).resources


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_stack_exports_and_previews_of_the_same_digests_are_the_same(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    web, worker = f"{unique_repo}/web", f"{unique_repo}/worker"
    web_digest = registry.push(web, "1.0", build_image(f"{unique_repo} web v1"))
    worker_digest = registry.push(worker, "2.0", build_image(f"{unique_repo} worker"))
    tags = registry.reference(web, "1.0"), registry.reference(worker, "2.0")

    staging = stack(*tags, keep_tag=True)
    assert staging["web"].raw_inputs["image"] == f"{tags[0]}@{web_digest}"  # readable
    production = stack(*tags, keep_tag=False)
    assert production["web"].raw_inputs["image"] == f"{registry.host}/{web}@{web_digest}"
    a = write(tmp_path / "staging.json", export_document(list(staging.values()), tags[0]))
    b = write(tmp_path / "production.json", export_document(list(production.values()), tags[0]))

    done = run_cli("diff", "--json", a, b)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["files"]["a"]["format"] == "pulumi-export"
    assert {r["repository"]: r["a"]["digests"] for r in report["repositories"]} == {
        f"{registry.host}/{web}": [web_digest],
        f"{registry.host}/{worker}": [worker_digest],
    }
    worker_row = next(r for r in report["repositories"] if r["repository"].endswith("worker"))
    assert worker_row["a"]["where"] == [
        "urn:pulumi:dev::project::pulumi:pulumi:Stack$kubernetes:apps/v1:Deployment::worker: "
        "spec.template.spec.containers[].image"
    ]

    # A preview that changes nothing (every step `same`) still deploys what it keeps; a lock
    # of the same tags deploys the same digests too.
    steps = [
        {
            "op": "same",
            "urn": r.urn,
            "oldState": state(r, secrets=str),
            "newState": state(r, secrets=str),
        }
        for r in production.values()
    ]
    preview = write(tmp_path / "preview.json", {"steps": steps, "changeSummary": {"same": 2}})
    assert run_cli("diff", a, preview).returncode == 0
    with Resolver(lock=tmp_path / "staging.lock") as resolver:
        resolver.resolve_many(tags)
    assert run_cli("diff", tmp_path / "staging.lock", b).returncode == 0


def test_new_content_in_production_fails_the_gate(
    registry: RegistryServer, unique_repo: str, tmp_path: Path
) -> None:
    web, worker = f"{unique_repo}/web", f"{unique_repo}/worker"
    old = registry.push(web, "1.0", build_image(f"{unique_repo} web v1"))
    registry.push(worker, "2.0", build_image(f"{unique_repo} worker"))
    tags = registry.reference(web, "1.0"), registry.reference(worker, "2.0")
    staging = stack(*tags, keep_tag=True)
    new = registry.push(web, "1.0", build_image(f"{unique_repo} web v2"))
    production = stack(*tags, keep_tag=True)
    a = write(tmp_path / "staging.json", export_document(list(staging.values()), tags[0]))
    b = write(tmp_path / "production.json", export_document(list(production.values()), tags[0]))

    done = run_cli("diff", a, b)

    assert done.returncode == 1
    assert done.stdout == f"~ {registry.host}/{web}: {old} -> {new}\n"
    assert "1 differ, 1 the same" in done.stderr


def test_a_digest_image_counts_by_what_uses_it(
    provider_process: DynamicProviderProcess,
    registry: RegistryServer,
    unique_repo: str,
    tmp_path: Path,
) -> None:
    digest = registry.push(unique_repo, "1.0", build_image(f"{unique_repo} web"))
    tag = registry.reference(unique_repo, "1.0")

    def program() -> None:
        image = DigestImage("web-image", image=tag)
        docker.Container("web", image=image.repo_digest)

    def export(name: str) -> Path:
        resources = run_program(program, preview=False, provider=provider_process).resources
        document = export_document(list(resources.values()), tag)
        return write(tmp_path / f"{name}.json", document)

    staging, production = export("staging"), export("production")
    done = run_cli("diff", "--json", staging, production)

    assert done.returncode == 0, done.stdout  # the DigestImage's own input, a tag, runs nowhere
    [row] = json.loads(done.stdout)["repositories"]
    assert row["a"]["digests"] == [digest]
    assert row["a"]["where"] == [
        "urn:pulumi:dev::project::pulumi:pulumi:Stack$docker:index/container:Container::web: image"
    ]
