"""`image_digest.fields.paths` and `codecs`: where image strings sit, and replacing only them."""

from __future__ import annotations

import json

import pytest

from image_digest.fields.codecs import JsonCodec, PrefixCodec
from image_digest.fields.locations import string_changes
from image_digest.fields.paths import find_images, replace_images, split_path

SERVICE = {
    "template": [  # a one-element list wrapping a block, as Terraform JSON often writes it
        {
            "containers": [
                {"name": "app", "image": "app:1", "env": [{"name": "image", "value": "x"}]},
                {"name": "token", "image": {"Ref": "not a string"}},
                {"name": "proxy", "image": "proxy:2"},
            ]
        }
    ],
    "image": "top:3",
}


def test_find_walks_lists_anywhere_and_keeps_document_order() -> None:
    assert find_images(SERVICE, ["template.containers[].image", "image", "absent.image"]) == [
        "app:1",
        "proxy:2",
        "top:3",
    ]


def test_replace_copies_only_the_way_to_a_changed_value() -> None:
    new = replace_images(SERVICE, ["template.containers[].image"], {"proxy:2": "proxy@sha256:1"})

    containers = new["template"][0]["containers"]
    assert [c["image"] for c in containers] == ["app:1", {"Ref": "not a string"}, "proxy@sha256:1"]
    assert containers[0] is SERVICE["template"][0]["containers"][0]  # untouched, not copied
    assert SERVICE["template"][0]["containers"][2]["image"] == "proxy:2"  # input unchanged
    assert string_changes(SERVICE, new) == {
        ("template", 0, "containers", 2, "image"): "proxy@sha256:1"
    }


def test_every_value_of_a_map() -> None:
    props = {"containers": {"web": {"image": "a:1"}, "log": {"image": "b:1", "x": 1}}}

    assert find_images(props, ["containers.*.image"]) == ["a:1", "b:1"]
    new = replace_images(props, ["containers.*.image"], {"b:1": "b@sha256:2"})
    assert new == {"containers": {"web": {"image": "a:1"}, "log": {"image": "b@sha256:2", "x": 1}}}


def test_json_strings_change_only_their_image_strings_keeping_the_text() -> None:
    text = json.dumps(
        [{"name": "web", "image": "nginx:1.27", "environment": [{"name": "A", "value": "b"}]}],
        indent=4,
    )
    props = {"containerDefinitions": text, "family": "web"}

    assert find_images(props, ["containerDefinitions|json[].image"]) == ["nginx:1.27"]
    new = replace_images(props, ["containerDefinitions|json[].image"], {"nginx:1.27": "n@sha256:1"})
    assert new["containerDefinitions"] == text.replace('"nginx:1.27"', '"n@sha256:1"')
    assert string_changes(props, new) == {("containerDefinitions",): new["containerDefinitions"]}


def test_json_that_also_holds_the_image_elsewhere_is_dumped_again_in_key_order() -> None:
    """The image string is also an env value, which must not change: text replacement would."""
    old = {"image": "app:1", "environment": [{"name": "IMAGE", "value": "app:1"}]}
    new = {"image": "app@sha256:1", "environment": [{"name": "IMAGE", "value": "app:1"}]}

    encoded = JsonCodec().encode(json.dumps(old), old, new)

    assert encoded == json.dumps(new) and list(json.loads(encoded)) == ["image", "environment"]


def test_docker_prefix_keeps_its_spelling_and_ignores_other_stacks() -> None:
    codec = PrefixCodec("DOCKER|")

    assert codec.decode("docker|nginx:1") == "nginx:1"
    assert codec.encode("docker|nginx:1", "nginx:1", "nginx@sha256:1") == "docker|nginx@sha256:1"
    assert codec.decode("PYTHON|3.12") is None
    assert find_images({"v": "NODE|20-lts"}, ["v|docker"]) == []
    assert find_images({"v": "not json"}, ["v|json.image"]) == []


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a.[]", "a|toml.image", "a[0].b"])
def test_a_malformed_path_names_itself(path: str) -> None:
    with pytest.raises(ValueError, match="invalid image field path"):
        split_path(path)
