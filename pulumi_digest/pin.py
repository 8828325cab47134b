"""`pin`: one image reference in, its `repo@sha256:...` out, as a Pulumi Output."""

from __future__ import annotations

from typing import Unpack

import pulumi

from image_digest import DigestError, Resolver, needs_resolution
from image_digest.entry_options import (
    ResolverOptions,
    ResolverSettings,
    check_exclusive,
    resolver_options,
)

from . import _resolvers
from ._blocking import run_blocking
from .errors import PinError


def pin(
    image: pulumi.Input[str],
    *,
    platform: str | None = None,
    resolver: Resolver | None = None,
    options: ResolverOptions | None = None,
    **settings: Unpack[ResolverSettings],
) -> pulumi.Output[str]:
    """The image pinned to its content digest (the core's `repo_digest`).

    Resolution happens while the program runs, so a known `image` gives a known result during
    `pulumi preview` too, and downstream resources show the real diff. An Output `image`
    resolves once its value is known; a reference that already carries a digest passes
    through untouched without a network call. A failure raises `PinError` (the core's error
    inside), which Pulumi reports naming the resource that used the value. `lock`, `mode`,
    `ca_bundle` and `insecure_registries` configure the default resolver (see
    `image_digest.Resolver`); pass them or a `resolver`, not both.
    """
    options = resolver_options(options, **settings)
    check_exclusive(resolver, options)
    chosen = _resolvers.shared(resolver, options)

    async def resolve(reference: str) -> str:
        if not needs_resolution(reference):
            return reference
        try:
            resolved = await run_blocking(chosen.resolve, reference, platform)
        except DigestError as error:
            raise PinError.at("pulumi_digest.pin", reference, error) from error
        if resolved.warning:
            pulumi.log.warn(f"pulumi_digest.pin({reference!r}): {resolved.warning}")
        return resolved.repo_digest

    return pulumi.Output.from_input(image).apply(resolve)
