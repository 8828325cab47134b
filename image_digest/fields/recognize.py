"""Is this string a container image to pin? One rule for the pinners, `audit` and `pin-vars`.

Not every string in an image position is a registry reference. Docker's image IDs
(`sha256:<64 hex>`, what `docker_image.image_id` holds) name local content and parse as
`docker.io/library/sha256:<hex>`; VM and machine images (`debian-cloud/debian-12`,
`projects/p/global/images/x`, `ami-0abc...`, Azure URNs `Publisher:Offer:Sku:Version`,
display names such as `Ubuntu 22.04`) live in fields and variables named `image` too. None of
them is looked up, pinned or reported. Neither are the library's own inputs: a `DigestImage`
takes a tag on purpose and resolves it itself.

Where a value sits decides how sure we are: in a container position (a catalog field, a
container of a pod spec, a variable named like an image) any other reference is an image,
a bare `busybox` (implicitly `:latest`) included; in a field only named like one, a value
counts only when it names a registry host or a tag (`nginx:1.27`, `gcr.io/p/app`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from image_digest.errors import InvalidReferenceError
from image_digest.names.reference import Reference, parse

#: Resource types whose image inputs are the library's own: never pinned or reported.
LIBRARY_INPUT_TYPES = frozenset({"pulumi-python:dynamic/pulumi-digest:DigestImage"})

#: Google Compute Engine's public image projects (`<project>/<image or family>`).
GCE_IMAGE_PROJECTS = frozenset(
    {
        *("almalinux-cloud", "centos-cloud", "cos-cloud", "debian-cloud", "fedora-cloud"),
        *("fedora-coreos-cloud", "opensuse-cloud", "oracle-linux-cloud", "rhel-cloud"),
        *("rhel-sap-cloud", "rocky-linux-cloud", "suse-cloud", "suse-sap-cloud"),
        *("ubuntu-os-cloud", "ubuntu-os-pro-cloud", "windows-cloud", "windows-sql-cloud"),
        *("deeplearning-platform-release", "ml-images", "gke-node-images"),
    }
)

_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")
_MACHINE_IMAGES = (
    ("an AWS AMI", re.compile(r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})")),
    (
        "a Compute Engine image",
        re.compile(r"(?:https://[^\s]+/)?projects/[^/\s]+/(?:global/)?images/\S+"),
    ),
    ("a Compute Engine image", re.compile(r"global/images/\S+")),
    ("an Azure image URN", re.compile(r"[^:/\s]+:[^:/\s]+:[^:/\s]+:[^:/\s]+")),
    ("an Azure image ID", re.compile(r"/subscriptions/\S+")),
    ("an OCI image OCID", re.compile(r"ocid1\.image\.\S+")),
    # a name for people, such as "Ubuntu 22.04" or "Windows Server 2022": capitalized words
    # and a version somewhere (a typo such as "also bad" stays an invalid reference)
    (
        "a marketplace image name",
        re.compile(r"(?=.*\d)[A-Z][\w.()+-]*(?: [\w.()+-]+)+"),
    ),
)


def not_a_container_image(value: str) -> str | None:
    """What `value` is instead of a container image (an image ID, a VM image), or None."""
    if _IMAGE_ID.fullmatch(value):
        return "a docker image ID"
    for what, pattern in _MACHINE_IMAGES:
        if pattern.fullmatch(value):
            return what
    project, slash, name = value.partition("/")
    if slash and project in GCE_IMAGE_PROJECTS and name and "/" not in name and ":" not in name:
        return "a Compute Engine image"
    return None


def container_reference(value: object) -> Reference | None:
    """`value` parsed, when it is a container image reference; None for anything else."""
    if not isinstance(value, str):
        return None
    parsed = classified(value)
    return parsed if isinstance(parsed, Reference) else None


@lru_cache(maxsize=4096)
def classified(value: str) -> Reference | InvalidReferenceError | str:
    """`value` parsed; or the parser's error; or what it is instead of a container image
    (`not_a_container_image`). Cached: a plan names the same images many times."""
    instead = not_a_container_image(value)
    if instead is not None:
        return instead
    try:
        return parse(value)
    except InvalidReferenceError as error:
        return error.with_traceback(None)


def deployed_by_tag(value: object) -> bool:
    """In a container position: a container reference without a digest (`busybox` too)."""
    reference = container_reference(value)
    return reference is not None and reference.digest is None


def clearly_an_image(value: object) -> bool:
    """In a field only named like an image: a tagged reference, or one naming a registry host."""
    reference = container_reference(value)
    if reference is None or reference.digest is not None:
        return False
    first, slash, _ = reference.written_name.partition("/")
    names_a_host = bool(slash) and ("." in first or ":" in first or first == "localhost")
    return names_a_host or reference.tag is not None


def is_library_input(resource_type: str) -> bool:
    """Is `resource_type` one of the library's own (a `DigestImage`, which resolves itself)?"""
    return resource_type in LIBRARY_INPUT_TYPES


__all__ = [
    "GCE_IMAGE_PROJECTS",
    "LIBRARY_INPUT_TYPES",
    "classified",
    "clearly_an_image",
    "container_reference",
    "deployed_by_tag",
    "is_library_input",
    "not_a_container_image",
]
