"""Images the program builds itself: references that must never be looked up in a registry.

A program that builds `myapp:dev` and runs a container from it must not have that container's
image resolved: a local build is in no registry (the lookup fails, or worse, finds someone
else's `myapp` on Docker Hub), and a pushed one is there only after the build ran, so a lookup
at preview returns the previous content. The catalog says which resources build and whether
they push; this records what a program's resources build, as the pinner meets them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from image_digest.errors import InvalidReferenceError
from image_digest.fields.catalog import Host, ImageBuild, builds
from image_digest.fields.paths import find_images
from image_digest.names.reference import Reference, parse


@dataclass(frozen=True)
class Built:
    """One image the program builds: the resource that builds it, and whether it is pushed."""

    rule: ImageBuild
    resource: str
    pushed: bool


class LocalBuilds:
    """What the program's build resources produce, by canonical reference (thread-safe)."""

    def __init__(self, host: Host) -> None:
        self._rules = builds(host)
        self._built: dict[Reference, Built] = {}
        self._lock = threading.Lock()

    def record(self, resource_type: str, resource: str, props: Mapping[str, Any]) -> None:
        """Remember the images `props` of a `resource_type` resource build, if it builds."""
        for rule in self._rules.get(resource_type, ()):
            if not rule.builds(props):
                continue
            built = Built(rule, resource, rule.pushes(props))
            for name in find_images(props, rule.names):
                if (reference := _parsed(name)) is not None:
                    with self._lock:
                        self._built[reference] = built

    def find(self, image: str) -> Built | None:
        """The build that produces `image`, when the program builds it."""
        reference = _parsed(image)
        with self._lock:
            return None if reference is None else self._built.get(reference)


def left_alone_message(image: str, built: Built) -> str:
    """Why a built image was not pinned, and what to deploy instead when it is pushed."""
    if not built.pushed:
        return (
            f"{image!r} is built by {built.resource} ({built.rule.title}) and not pushed: "
            "left as it is, never looked up in a registry"
        )
    return (
        f"{image!r} is built and pushed by {built.resource} ({built.rule.title}): a registry "
        f"has it only after the build runs, so it was left as it is; deploy the build's "
        f"`{built.rule.deploy}` output instead, which is the exact digest"
    )


def _parsed(image: str) -> Reference | None:
    try:
        return parse(image)
    except InvalidReferenceError:
        return None
