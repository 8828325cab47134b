"""`pin_images`: a stack transform that rewrites every known image field to its digest.

It uses `pulumi.runtime.register_resource_transform`: the engine calls it for every resource
(including children of components) with the properties as the engine holds them: camelCase
wire names, Outputs already resolved, None dropped, unknowns as `pulumi.output.Unknown` during
preview and secrets as marker dicts. The transform is async and resolves on a thread pool, so
the engine can transform many resources at once and the program is never serialized on HTTP.

Every resource passes through it, so it also learns which images the program builds (those
are never looked up) and reports tags left in fields the catalog does not cover.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Unpack, cast

import pulumi

from image_digest import (
    BatchResolutionError,
    DigestError,
    ResolvedImage,
    Resolver,
    needs_resolution,
)
from image_digest.entry_options import ResolverOptions, ResolverSettings, resolver_options
from image_digest.fields.builds import LocalBuilds, left_alone_message
from image_digest.fields.catalog import merged_fields, platform_rules
from image_digest.fields.paths import find_images, replace_images
from image_digest.fields.recognize import is_library_input
from image_digest.fields.unpinned import (
    UnpinnedImagesError,
    strict_mode,
    unpinned_images,
    unpinned_message,
)

from . import _resolvers, _stack_transform, _wire
from ._blocking import run_blocking
from .errors import PinError
from .helm import pin_helm_values
from .image_fields import IMAGE_FIELDS

_PLATFORM_RULES = platform_rules("pulumi")


class ImagePinner:
    """The transform `pin_images` registers; also usable in `ResourceOptions(transforms=[...])`."""

    def __init__(
        self,
        *,
        resolver: Resolver,
        platform: str | None = None,
        skip_prefixes: Iterable[str] = (),
        fields: Mapping[str, str | Sequence[str]] | None = None,
        strict: bool | None = None,
    ) -> None:
        self.resolver = resolver
        self.platform = platform
        self.skip_prefixes = tuple(skip_prefixes)
        self.fields = merged_fields(IMAGE_FIELDS, fields)
        self.strict = strict_mode(strict)
        self.builds = LocalBuilds("pulumi")
        self._told: set[str] = set()

    def _references(
        self, revealed: Mapping[str, Any], paths: Sequence[str], name: str
    ) -> list[str]:
        """Strings at `paths` still to pin, in order, once each (Unknowns are not strings);
        images the program builds are left alone, said once each."""
        references = []
        for found in dict.fromkeys(find_images(revealed, list(paths))):
            if not needs_resolution(found, self.skip_prefixes):
                continue
            if (built := self.builds.find(found)) is None:
                references.append(found)
            elif found not in self._told:
                self._told.add(found)
                log = pulumi.log.warn if built.pushed else pulumi.log.info
                log(f"{name!r}: {left_alone_message(found, built)}")
        return references

    async def __call__(
        self, args: pulumi.ResourceTransformArgs
    ) -> pulumi.ResourceTransformResult | None:
        """New props with pinned images; None (the engine keeps the resource as it is) when
        there is nothing to pin."""
        if not isinstance(args.props, Mapping) or is_library_input(args.type_):
            return None  # a DigestImage takes its tag on purpose and resolves it itself
        props: Mapping[str, Any] = args.props
        paths = self.fields.get(args.type_, ())
        revealed, secret_keys = _wire.reveal_props(props)
        self.builds.record(args.type_, args.name, revealed)
        references = self._references(revealed, paths, args.name)
        rewritten = revealed
        if references:
            rewritten = await self._pinned(args, revealed, paths, references)
        rewritten = await pin_helm_values(self, args, rewritten)  # Helm values: .helm
        self._report_unpinned(args, rewritten, paths, secret_keys)
        if rewritten is revealed:
            return None
        new_props = _wire.conceal_props(props, revealed, rewritten, secret_keys)
        # opts=None tells the engine to keep the resource's options exactly as they were.
        return pulumi.ResourceTransformResult(
            props=new_props, opts=cast(pulumi.ResourceOptions, None)
        )

    async def _pinned(
        self,
        args: pulumi.ResourceTransformArgs,
        revealed: dict[str, Any],
        paths: Sequence[str],
        references: list[str],
    ) -> Any:
        rule = _PLATFORM_RULES.get(args.type_)
        platform = rule.platform_for(revealed) if rule else self.platform
        resolved = await self.resolve(args, references, platform)
        mapping = {reference: image.repo_digest for reference, image in resolved.items()}
        return replace_images(revealed, list(paths), mapping)

    async def resolve(
        self, args: pulumi.ResourceTransformArgs, references: list[str], platform: str | None
    ) -> dict[str, ResolvedImage]:
        """`references` of one resource resolved off the event loop; a failure is a `PinError`
        naming the resource, each warning is logged against it."""
        try:
            resolved = await run_blocking(self.resolver.resolve_many, references, platform)
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
        return resolved

    def _report_unpinned(
        self,
        args: pulumi.ResourceTransformArgs,
        props: Mapping[str, Any],
        paths: Sequence[str],
        secret_keys: set[str],
    ) -> None:
        """A warning for every tag in a field no table covers; an error in strict mode."""
        messages = []
        for found in unpinned_images(props, covered=paths, skip_prefixes=self.skip_prefixes):
            if self.builds.find(found.reference) is not None:
                continue
            if found.path.partition(".")[0].partition("|")[0].removesuffix("[]") in secret_keys:
                found = type(found)(found.path, "[secret]")
            messages.append(unpinned_message(repr(args.name), args.type_, found, "pin_images"))
        if messages and self.strict:
            raise UnpinnedImagesError(messages)
        for message in messages:
            pulumi.log.warn(message)


def pin_images(
    *,
    platform: str | None = None,
    skip_prefixes: Iterable[str] = (),
    fields: Mapping[str, str | Sequence[str]] | None = None,
    strict: bool | None = None,
    resolver: Resolver | None = None,
    options: ResolverOptions | None = None,
    **settings: Unpack[ResolverSettings],
) -> ImagePinner:
    """Pin every image of every resource registered after this call, stack-wide.

    Call it once at the top of the program. Known types are in `IMAGE_FIELDS`; `fields` adds
    more (type token -> paths such as `"spec.containers[].image"`). Images that carry a digest,
    start with one of `skip_prefixes`, or are unknown during preview are left alone. A
    reference that cannot be resolved fails the program naming the resource (`PinError`); it
    is never deployed by tag. Images the program builds (`pulumi_docker.Image`,
    `pulumi_docker_build.Image`) are never looked up. A tag left in a field no table covers is
    a warning naming the `fields` entry that pins it; `strict=True` (or `IMAGE_DIGEST_STRICT=1`)
    makes it, like every image left as a tag, an error. `lock`, `mode`, `ca_bundle` and
    `insecure_registries` configure the default resolver; pass them or a `resolver`, not both.
    """
    options = resolver_options(options, **settings)
    pinner = ImagePinner(
        resolver=_resolvers.choose(resolver, options),
        platform=platform,
        skip_prefixes=skip_prefixes,
        fields=fields,
        strict=strict,
    )
    _stack_transform.register(pinner, "pin_images()")
    return pinner
