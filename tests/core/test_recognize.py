"""The one image rule, the pod-spec shape in the catalog, and Terraform's `${jsonencode(...)}`
read as the document it encodes: each on its own, pure."""

from __future__ import annotations

import json

import pytest

from image_digest import needs_resolution
from image_digest.audit import Resource, tags_in
from image_digest.fields.catalog import image_fields, merged_fields
from image_digest.fields.codecs import CODECS
from image_digest.fields.paths import find_images, replace_images, split_path
from image_digest.fields.recognize import clearly_an_image, deployed_by_tag, not_a_container_image
from image_digest.fields.terraform_expressions import (
    Expression,
    pinned_by_terraform,
    read_jsonencode,
    replace_literals,
)
from image_digest.fields.unpinned import unpinned_images

DIGEST = "sha256:" + "f" * 64


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("sha256:" + "0" * 64, "a docker image ID"),
        ("debian-cloud/debian-12", "a Compute Engine image"),
        ("ubuntu-os-cloud/ubuntu-2204-lts", "a Compute Engine image"),
        ("projects/my-project/global/images/my-image", "a Compute Engine image"),
        ("ami-0123456789abcdef0", "an AWS AMI"),
        ("ami-12345678", "an AWS AMI"),
        ("Canonical:0001-com-ubuntu-server-jammy:22_04-lts:latest", "an Azure image URN"),
        (
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/images/i",
            "an Azure image ID",
        ),
        ("Ubuntu 22.04", "a marketplace image name"),
        ("Windows Server 2022 Datacenter", "a marketplace image name"),
    ],
)
def test_what_is_no_container_image(value: str, what: str) -> None:
    assert not_a_container_image(value) == what
    assert not needs_resolution(value) and not deployed_by_tag(value)
    assert not clearly_an_image(value)


@pytest.mark.parametrize(
    "value", ["busybox", "nginx:1.27", "acme-cloud/api", "debian-cloud/debian-12:1", "gcr.io/p/a"]
)
def test_container_references_in_container_positions(value: str) -> None:
    assert not_a_container_image(value) is None
    assert needs_resolution(value) and deployed_by_tag(value)


def test_only_clear_images_count_in_fields_named_like_one() -> None:
    assert clearly_an_image("nginx:1.27") and clearly_an_image("gcr.io/p/app")
    assert not clearly_an_image("nginx") and not clearly_an_image(f"nginx@{DIGEST}")


def test_a_typo_stays_an_invalid_reference_that_fails_loudly() -> None:
    for typo in ("also bad", "Nginx:1.27", "nginx :1.27"):
        assert not_a_container_image(typo) is None
        assert needs_resolution(typo)  # resolving it raises, naming the rule it broke


def test_every_kubernetes_kind_gets_the_pod_spec_fields() -> None:
    table = image_fields("pulumi")
    for kind in ("kubernetes:serving.knative.dev/v1:Service", "kubernetes:core/v1:Pod"):
        assert "spec.template.spec.containers[].image" in table[kind]
        assert "spec.volumes[].image.reference" in table[kind]
    assert "kubernetes_manifest" in image_fields("terraform")
    assert "aws:s3/bucket:Bucket" not in table and table.get("aws:s3/bucket:Bucket", ()) == ()
    extended = merged_fields(table, {"kubernetes:example.com/v1:Widget": "spec.runner.image"})
    widget = extended["kubernetes:example.com/v1:Widget"]
    assert widget[0] == "spec.runner.image" and "spec.containers[].image" in widget
    assert image_fields("pulumi") is table  # built once


def test_lists_of_lists_never_raise() -> None:
    assert split_path("spec.extra[][].image") == split_path("spec.extra[].image")
    props = {"spec": {"containers": [{"image": "a:1"}], "extra": [[{"image": "gcr.io/x:1"}]]}}
    (found,) = unpinned_images(props, covered=["spec.containers[].image"])
    assert (found.path, found.reference) == ("spec.extra[].image", "gcr.io/x:1")


def test_a_digest_image_resource_is_no_finding() -> None:
    props = {"image": "ghcr.io/acme/api:1"}
    assert (
        tags_in(Resource("pulumi", "pulumi-python:dynamic/pulumi-digest:DigestImage", "u", props))
        == []
    )
    assert tags_in(Resource("pulumi", "acme:index:Thing", "u", props)) != []


JSONENCODE = (
    '${jsonencode([{"name" = "first", "image" = "nginx:1.25", "cpu" = 10, "essential" = true, '
    '"portMappings" = [{"containerPort" = 80}], "note" = "a \\"quoted\\" word"}, '
    '{"name" = "second", "image" = var.image}, {"name" = "third", "image" = "${var.repo}:latest"}, '
    '{name = "fourth", image = lookup(var.images, "x", "y"), memory = null}])}'
)


def test_jsonencode_is_read_as_the_document_it_encodes() -> None:
    document = read_jsonencode(JSONENCODE)

    assert document == [
        {
            "name": "first",
            "image": "nginx:1.25",
            "cpu": 10,
            "essential": True,
            "portMappings": [{"containerPort": 80}],
            "note": 'a "quoted" word',
        },
        {"name": "second", "image": Expression("var.image")},
        {"name": "third", "image": Expression("${var.repo}:latest")},
        {"name": "fourth", "image": Expression('lookup(var.images, "x", "y")'), "memory": None},
    ]
    assert read_jsonencode("${var.x}") is None and read_jsonencode("${jsonencode([1,)}") is None


def test_jsonencode_literals_are_rewritten_in_place_and_nothing_else() -> None:
    attributes = {"container_definitions": JSONENCODE}
    path = "container_definitions|json[].image"
    assert find_images(attributes, [path]) == ["nginx:1.25"]

    pinned = replace_images(attributes, [path], {"nginx:1.25": f"nginx@{DIGEST}"})

    text = pinned["container_definitions"]
    assert text == JSONENCODE.replace('"nginx:1.25"', json.dumps(f"nginx@{DIGEST}"))
    old = read_jsonencode(JSONENCODE)
    assert replace_literals(JSONENCODE, old, old) == JSONENCODE
    assert replace_literals(JSONENCODE, [], []) is None  # not the document of this text
    assert CODECS["json"].decode('[{"image": "a:1"}]') == [{"image": "a:1"}]


def test_expressions_that_name_content() -> None:
    assert pinned_by_terraform("${docker_image.ubuntu.image_id}")
    assert pinned_by_terraform("docker_image.ubuntu.image_id")
    assert pinned_by_terraform("repo@${data.docker_registry_image.api.sha256_digest}")
    assert not pinned_by_terraform("${var.image}")
    assert not pinned_by_terraform("${aws_ecr_repository.app.repository_url}:latest")


def test_yaml_codec_rewrites_scalars_in_their_own_style() -> None:
    codec = CODECS["yaml"]
    text = "# c\nkind: Pod\nspec:\n  containers:\n    - image: 'a:1'  # q\n    - image: \"b:2\"\n"
    old = codec.decode(text)
    new = [{"kind": "Pod", "spec": {"containers": [{"image": "a@x"}, {"image": "b:2"}]}}]

    assert old == [{"kind": "Pod", "spec": {"containers": [{"image": "a:1"}, {"image": "b:2"}]}}]
    assert codec.encode(text, old, new) == text.replace("'a:1'", "'a@x'")
    assert codec.decode("just text") is None and codec.decode("a: [") is None
