"""`DigestImage`: an image pinned by a resource of its own, visible in previews and state."""

from __future__ import annotations

import os
from typing import Any

import pulumi
import pulumi.dynamic

from image_digest import MODES
from image_digest.age import parse_duration

from ._resolvers import LockPath, MinAge
from .provider import DigestImageProvider


class DigestImage(pulumi.dynamic.Resource, module="pulumi-digest", name="DigestImage"):
    """An image reference resolved to its digest by the engine (type `DigestImage` in previews).

    It resolves in `check`, so `digest` and `repo_digest` are known during preview. Its diff is
    on the resolved image only: an identical re-push changes nothing; new content shows
    `~ digest`; a new image string or platform updates this resource without replacing its
    dependents. `pulumi refresh` resolves again. State holds the image, platform, digest,
    repo_digest (and labels when `with_labels=True`), never a credential.
    """

    image: pulumi.Output[str]
    platform: pulumi.Output[str | None]
    digest: pulumi.Output[str]
    repo_digest: pulumi.Output[str]
    labels: pulumi.Output[dict[str, str] | None]

    def __init__(
        self,
        resource_name: str,
        image: pulumi.Input[str],
        platform: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        lock: LockPath | None = None,
        mode: str | None = None,
        with_labels: bool = False,
        min_age: MinAge | None = None,
    ) -> None:
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)} (or None), got {mode!r}")
        provider = DigestImageProvider(
            lock=os.fspath(lock) if lock is not None else None,
            mode=mode,
            with_labels=with_labels,
            # Checked now, in the program; the provider process gets plain data.
            min_age=parse_duration(min_age) if min_age is not None else None,
        )
        props: dict[str, Any] = {
            "image": image,
            "platform": platform,
            "digest": None,
            "repo_digest": None,
            "labels": None,
        }
        super().__init__(provider, resource_name, props, opts)
