"""Images in Helm values: the conventions charts use, where a pin is written, `--set` names,
the Helm provider's merge of `values` and `set` blocks, and YAML text changed in place."""

from __future__ import annotations

import pytest

from image_digest.fields.helm_release import release_values, set_name_path
from image_digest.fields.helm_values import PartialImage, pin_values, values_images
from image_digest.fields.yaml_scalars import set_scalars
from image_digest.names.resolved import ResolvedImage

DIGEST = "sha256:" + "a" * 64


def resolved(reference: str) -> ResolvedImage:
    name = reference.rpartition(":")[0] if "/" not in reference.rpartition(":")[2] else reference
    return ResolvedImage(reference, DIGEST, f"{name}@{DIGEST}")


def pins(*references: str) -> dict[str, ResolvedImage]:
    return {reference: resolved(reference) for reference in references}


def test_every_convention_at_any_depth_is_found_and_pinned_where_the_chart_reads_it() -> None:
    values = {
        "image": "nginx:1.27",  # a string
        "controller": {"image": {"repository": "registry.k8s.io/ingress", "tag": "v1.10"}},
        "master": {"image": {"registry": "docker.io", "repository": "bitnami/redis", "tag": 7}},
        "bitnami": {"image": {"registry": "docker.io", "repository": "bitnami/pg", "tag": "16"}},
        "patch": {"image": {"registry": "registry.k8s.io", "image": "certgen", "tag": "v1.4"}},
        "sidecars": [{"name": "log", "image": "fluent/fluent-bit:3.0"}],
        "initImage": "busybox:1.36",
        "labels": {"image": ""},  # not a reference
    }
    values["bitnami"]["image"]["digest"] = ""  # the chart renders `@digest` when set
    values["patch"]["image"]["digest"] = None

    images, partial = values_images(values)

    assert partial == []
    assert [(i.reference, i.target, i.writes) for i in images] == [
        ("nginx:1.27", ("image",), "image"),
        ("registry.k8s.io/ingress:v1.10", ("controller", "image", "tag"), "tag"),
        ("docker.io/bitnami/redis:7", ("master", "image", "tag"), "tag"),
        ("docker.io/bitnami/pg:16", ("bitnami", "image", "digest"), "digest"),
        ("registry.k8s.io/certgen:v1.4", ("patch", "image", "digest"), "digest"),
        ("fluent/fluent-bit:3.0", ("sidecars", 0, "image"), "image"),
        ("busybox:1.36", ("initImage",), "image"),
    ]
    pinned = pin_values(values, images, pins(*(i.reference for i in images)))
    assert pinned["image"] == f"nginx@{DIGEST}"
    assert pinned["controller"]["image"] == {
        "repository": "registry.k8s.io/ingress",
        "tag": f"v1.10@{DIGEST}",
    }
    assert pinned["master"]["image"]["tag"] == f"7@{DIGEST}"
    assert pinned["bitnami"]["image"] == {**values["bitnami"]["image"], "digest": DIGEST}
    assert pinned["patch"]["image"]["digest"] == DIGEST
    assert pinned["sidecars"] == [{"name": "log", "image": f"fluent/fluent-bit@{DIGEST}"}]
    assert pinned["labels"] is values["labels"]  # untouched parts are not even copied
    assert values["controller"]["image"]["tag"] == "v1.10"  # the input is left as it was
    assert values_images(pinned) == ([], [])  # pinned values need nothing more


def test_blocks_that_leave_a_part_to_the_chart_defaults_are_reported_not_guessed() -> None:
    values = {
        "image": {"repository": "nginx", "pullPolicy": "Always"},  # tag: the chart's appVersion
        "worker": {"image": {"tag": "2.0"}},  # repository: the chart's
        "other": {"image": {"repository": "Bad Name", "tag": "1"}},
        "pinned": {"image": {"repository": "redis", "tag": f"7@{DIGEST}"}},
        "digest": {"image": {"repository": "redis", "tag": "7", "digest": DIGEST}},
        "vmImage": "ubuntu",  # `fooImage`: only a clear reference (a tag or a host) counts
    }

    images, partial = values_images(values)

    assert images == []
    assert [p.describe() for p in partial] == [
        "image (its tag comes from the chart's defaults)",
        "worker.image (its repository comes from the chart's defaults)",
        "other.image ('Bad Name:1' is not a reference the values fix: "
        + partial[2].reason.partition(": ")[2]
        + ")",
    ]
    assert isinstance(partial[0], PartialImage)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("controller.image.tag", ("controller", "image", "tag")),
        ("a\\.b.c", ("a.b", "c")),
        ("list[0].image", ("list", 0, "image")),
        ("grid[1][2]", ("grid", 1, 2)),
    ],
)
def test_set_names_address_values_as_helm_set_does(name: str, path: tuple[object, ...]) -> None:
    assert set_name_path(name) == path


@pytest.mark.parametrize("name", ["", "a..b", "a[x]", "[0]", "a."])
def test_a_malformed_set_name_is_an_error_naming_it(name: str) -> None:
    with pytest.raises(ValueError, match="Helm's --set syntax") as caught:
        set_name_path(name)
    assert repr(name) in str(caught.value)


def test_helm_release_values_then_set_blocks_and_each_pin_goes_where_helm_reads_it() -> None:
    first = (
        "# the web tier\n"
        "controller:\n"
        "  image:\n"
        "    repository: registry.k8s.io/ingress  # mirrored\n"
        "    tag: 'v1.9'\n"
        "  replicas: 2\n"
    )
    second = (
        "controller:\n  image:\n    tag: v1.10\n"
        "master:\n  image: {repository: redis, tag: '7', digest: ''}\n"
    )
    attributes = {
        "values": [first, second, "${yamlencode(var.extra)}"],
        "set": [
            {"name": "worker.image.repository", "value": "acme/worker"},
            {"name": "worker.image.tag", "value": "2.1"},
        ],
        "set_sensitive": [{"name": "side.image", "value": "acme/side:3"}],
    }

    release = release_values(attributes)
    images, partial = release.images()

    assert release.unreadable == ["values[2]"]
    assert partial == []
    assert [i.reference for i in images] == [
        "registry.k8s.io/ingress:v1.10",  # the second document's tag wins
        "redis:7",
        "acme/worker:2.1",
        "acme/side:3",
    ]
    changes = release.changes(images, pins(*(i.reference for i in images)))
    assert changes == {
        ("values", 1): second.replace("tag: v1.10", f"tag: v1.10@{DIGEST}").replace(
            "digest: ''", f"digest: '{DIGEST}'"
        ),
        ("set", 1, "value"): f"2.1@{DIGEST}",
        ("set_sensitive", 0, "value"): f"acme/side@{DIGEST}",
    }


def test_a_set_entry_overrides_a_values_document_and_receives_the_pin() -> None:
    attributes = {
        "values": ["image:\n  repository: nginx\n  tag: '1.26'\n"],
        "set": [{"name": "image.tag", "value": "1.27", "type": "string"}],
    }
    release = release_values(attributes)
    images, _ = release.images()

    assert release.changes(images, pins("nginx:1.27")) == {("set", 0, "value"): f"1.27@{DIGEST}"}


def test_yaml_text_keeps_every_other_byte_and_the_quoting_style() -> None:
    text = (
        "# comment\r\n"
        "a: {image: 'x:1', keep: \"y\"}\r\n"
        "b:\r\n"
        "  - image: x:1   # trailing\r\n"
        '  - image: "x:1"\r\n'
        "---\r\n"
        "c: 1\r\n"
    )
    new = set_scalars(
        text,
        {
            (0, ("a", "image")): "x@" + DIGEST,
            (0, ("b", 0, "image")): "x@" + DIGEST,
            (0, ("b", 1, "image")): "x@" + DIGEST,
        },
    )

    assert new == text.replace("'x:1'", f"'x@{DIGEST}'").replace(
        "image: x:1", f"image: x@{DIGEST}"
    ).replace('"x:1"', f'"x@{DIGEST}"')


def test_a_plain_scalar_that_would_read_back_differently_is_quoted() -> None:
    assert set_scalars("tag: 1.0\n", {(0, ("tag",)): "yes"}) == 'tag: "yes"\n'
    assert set_scalars("tag: 1.0\n", {(0, ("tag",)): "1.0@sha"}) == "tag: 1.0@sha\n"


def test_a_location_without_a_scalar_is_an_error_and_nothing_changes() -> None:
    with pytest.raises(ValueError, match=r"no single-line YAML scalar at a\.missing"):
        set_scalars("a: {b: 1}\n", {(0, ("a", "missing")): "x"})
    with pytest.raises(ValueError, match="no single-line YAML scalar"):
        set_scalars("a: |\n  block\n", {(0, ("a",)): "x"})


def test_a_block_with_a_value_not_known_yet_is_neither_pinned_nor_reported() -> None:
    class Unknown:  # what a Pulumi preview holds for an Output whose value comes later
        pass

    values = {"image": {"repository": "nginx", "tag": Unknown()}, "side": {"image": "redis:7"}}

    images, partial = values_images(values)

    assert [i.reference for i in images] == ["redis:7"]
    assert partial == []


def test_text_with_a_byte_order_mark_keeps_it_and_changes_the_right_bytes() -> None:
    text = "\ufeff# ✓ ünïcode\na: {image: 'x:1'}  # 😀\n"

    new = set_scalars(text, {(0, ("a", "image")): "x@" + DIGEST})

    assert new == text.replace("'x:1'", f"'x@{DIGEST}'")
