"""`DigestImage`: an image pinned by a resource of its own, visible in previews and state."""

from __future__ import annotations

from typing import Any, Unpack

import pulumi
import pulumi.dynamic

from image_digest.entry_options import ResolverOptions, ResolverSettings, resolver_options

from .provider import DigestImageProvider


class DigestImage(pulumi.dynamic.Resource, module="pulumi-digest", name="DigestImage"):
    """An image reference resolved to its digest by the engine (type `DigestImage` in previews).

    It resolves in `check`, so `digest` and `repo_digest` are known during preview. Its diff is
    on the resolved image only: an identical re-push changes nothing; new content shows
    `~ digest`; a new image string or platform updates this resource without replacing its
    dependents. `pulumi refresh` resolves again. State holds the image, platform, digest,
    repo_digest (and labels when `with_labels=True`), never a credential.

    It resolves in the engine's provider process, so it takes resolver options (`lock`,
    `mode`, `with_labels`, `ca_bundle`, `insecure_registries`) rather than a `Resolver` object.
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
        options: ResolverOptions | None = None,
        **settings: Unpack[ResolverSettings],
    ) -> None:
        options = resolver_options(options, **settings)
        provider = DigestImageProvider.configured(options)
        props: dict[str, Any] = {
            "image": image,
            "platform": platform,
            "digest": None,
            "repo_digest": None,
            "labels": None,
        }
        super().__init__(provider, resource_name, props, opts)
