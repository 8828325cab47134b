"""`image_digest.fields`: where image strings sit in nested properties, and replacing them."""

from __future__ import annotations

import pytest

from image_digest.fields import find_images, locate_images, replace_images, split_path

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


def test_locations_name_every_key_and_index_on_the_way() -> None:
    found = locate_images(SERVICE, ["template.containers[].image", "image", "absent.image"])

    assert found == [
        (("template", 0, "containers", 0, "image"), "app:1"),
        (("template", 0, "containers", 2, "image"), "proxy:2"),
        (("image",), "top:3"),
    ]
    assert find_images(SERVICE, ["template.containers[].image", "image"]) == [
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


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a.[]"])
def test_a_malformed_path_names_itself(path: str) -> None:
    with pytest.raises(ValueError, match="invalid image field path"):
        split_path(path)
