"""`pin`: one image reference in, its `repo@sha256:...` out, as a Pulumi Output."""

from __future__ import annotations

import pulumi

from image_digest import DigestError, Resolver, needs_resolution

from . import _resolvers
from ._blocking import run_blocking
from ._resolvers import LockPath, MinAge
from .errors import PinError


def pin(
    image: pulumi.Input[str],
    *,
    platform: str | None = None,
    resolver: Resolver | None = None,
    lock: LockPath | None = None,
    mode: str | None = None,
    min_age: MinAge | None = None,
) -> pulumi.Output[str]:
    """The image pinned to its content digest (the core's `repo_digest`).

    Resolution happens while the program runs, so a known `image` gives a known result during
    `pulumi preview` too, and downstream resources show the real diff. An Output `image`
    resolves once its value is known; a reference that already carries a digest passes
    through untouched without a network call. A failure raises `PinError` (the core's error
    inside), which Pulumi reports naming the resource that used the value. `lock`/`mode`/
    `min_age` configure the default resolver (see `image_digest.Resolver`); pass them or a
    `resolver`, not both. A digest `min_age` holds back is reported with `pulumi.log.warn`.
    """
    chosen = _resolvers.shared(resolver, lock=lock, mode=mode, min_age=min_age)

    async def resolve(reference: str) -> str:
        if not needs_resolution(reference):
            return reference
        try:
            resolved = await run_blocking(chosen.resolve, reference, platform)
        except DigestError as error:
            raise PinError({reference: error}) from error
        if resolved.warning:
            pulumi.log.warn(f"pulumi_digest.pin({reference!r}): {resolved.warning}")
        return resolved.repo_digest

    return pulumi.Output.from_input(image).apply(resolve)
