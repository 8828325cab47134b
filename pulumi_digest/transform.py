"""`pin_images`: a stack transform that rewrites every known image field to its digest.

It uses `pulumi.runtime.register_resource_transform`: the engine calls it for every resource
(including children of components) with the properties as the engine holds them: camelCase
wire names, Outputs already resolved, None dropped, unknowns as `pulumi.output.Unknown` during
preview and secrets as marker dicts. The transform is async and resolves on a thread pool, so
the engine can transform many resources at once and the program is never serialized on HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import pulumi

from image_digest import BatchResolutionError, DigestError, Resolver, needs_resolution
from image_digest.fields import find_images, replace_images

from . import _resolvers, _wire
from ._blocking import run_blocking
from ._resolvers import LockPath
from .errors import PinError
from .image_fields import merged


class ImagePinner:
    """The transform `pin_images` registers; also usable in `ResourceOptions(transforms=[...])`."""

    def __init__(
        self,
        *,
        resolver: Resolver,
        platform: str | None = None,
        skip_prefixes: Iterable[str] = (),
        fields: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.resolver = resolver
        self.platform = platform
        self.skip_prefixes = tuple(skip_prefixes)
        self.fields = merged(fields)

    def _references(self, revealed: Mapping[str, Any], paths: Sequence[str]) -> list[str]:
        """Strings at `paths` still to pin, in order, once each (Unknowns are not strings)."""
        found = find_images(revealed, list(paths))
        return list(dict.fromkeys(r for r in found if needs_resolution(r, self.skip_prefixes)))

    async def __call__(
        self, args: pulumi.ResourceTransformArgs
    ) -> pulumi.ResourceTransformResult | None:
        """New props with pinned images; None (the engine keeps the resource as it is) when
        there is nothing to pin."""
        paths = self.fields.get(args.type_)
        if not paths or not isinstance(args.props, Mapping):
            return None
        props: Mapping[str, Any] = args.props
        revealed, secret_keys = _wire.reveal_props(props)
        references = self._references(revealed, paths)
        if not references:
            return None
        try:
            resolved = await run_blocking(self.resolver.resolve_many, references, self.platform)
        except BatchResolutionError as error:
            raise PinError(
                error.errors, resource_type=args.type_, resource_name=args.name
            ) from error
        except DigestError as error:
            raise PinError(
                {references[0]: error}, resource_type=args.type_, resource_name=args.name
            ) from error
        for reference, image in resolved.items():
            if image.warning:
                pulumi.log.warn(f"{args.type_} {args.name!r}: {reference}: {image.warning}")
        mapping = {reference: image.repo_digest for reference, image in resolved.items()}
        rewritten = replace_images(revealed, list(paths), mapping)
        new_props = _wire.conceal_props(props, revealed, rewritten, secret_keys)
        # opts=None tells the engine to keep the resource's options exactly as they were.
        return pulumi.ResourceTransformResult(
            props=new_props, opts=cast(pulumi.ResourceOptions, None)
        )


def pin_images(
    *,
    platform: str | None = None,
    skip_prefixes: Iterable[str] = (),
    resolver: Resolver | None = None,
    fields: Mapping[str, Sequence[str]] | None = None,
    lock: LockPath | None = None,
    mode: str | None = None,
) -> ImagePinner:
    """Pin every image of every resource registered after this call, stack-wide.

    Call it once at the top of the program. Known types are in `IMAGE_FIELDS`; `fields` adds
    more (type token -> paths such as `"spec.containers[].image"`). Images that carry a digest,
    start with one of `skip_prefixes`, or are unknown during preview are left alone. A
    reference that cannot be resolved fails the program naming the resource (`PinError`); it
    is never deployed by tag. `lock`/`mode` configure the default resolver; pass them or a
    `resolver`, not both.
    """
    pinner = ImagePinner(
        resolver=_resolvers.choose(resolver, lock=lock, mode=mode),
        platform=platform,
        skip_prefixes=skip_prefixes,
        fields=fields,
    )
    pulumi.runtime.register_resource_transform(pinner)
    return pinner
