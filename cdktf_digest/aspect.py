"""`PinImages`: an aspect that pins every image attribute it knows, across a stack.

Aspects visit constructs top-down, one at a time; resolving per visit would make one request
round per resource. So the visit of the construct the aspect was added to collects the images
of every resource below it, resolves them in one `resolve_many` batch, then rewrites each
resource; the inherited visits of the constructs below have nothing left to do. Values that
already carry a digest, CDK tokens and skipped prefixes are left alone without a network call.

cdktf and cdktn apply aspects per stack, never those added to the `App`: add this to a stack.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from constructs import IConstruct

from cdktf_digest.attributes import set_strings, synthesized_attributes
from cdktf_digest.errors import PinError, UnsafeRewriteError
from cdktf_digest.framework import Flavor, flavor_of, is_token, loaded_flavors
from cdktf_digest.image_paths import merged_paths
from cdktf_digest.options import using_resolver
from image_digest import BatchResolutionError, DigestError, ResolvedImage, Resolver
from image_digest.fields import Location, locate_images
from image_digest.selection import needs_resolution


class _ImplementsIAspect(type):
    """jsii reads `__jsii_ifaces__` when an aspect first crosses into JavaScript; answering
    then lets one class be the `IAspect` of whichever framework(s) the program imported."""

    @property
    def __jsii_ifaces__(cls) -> list[type]:
        return [flavor.lib.IAspect for flavor in loaded_flavors()]


@dataclass
class _Target:
    """One resource to rewrite: where its images to pin are, and which they are."""

    resource: Any
    found: list[tuple[Location, str]]

    @property
    def images(self) -> list[str]:
        """Each image once, in document order."""
        return list(dict.fromkeys(image for _, image in self.found))


class PinImages(metaclass=_ImplementsIAspect):
    """Add with `Aspects.of(stack).add(PinImages())` to pin every known image attribute.

    `image_paths` adds resource types (or more paths for known ones) to `IMAGE_PATHS`;
    `skip_prefixes` leaves matching references as written; `lock` and `mode` configure the
    resolver created for each batch (or pass your own `resolver`).
    """

    __jsii_type__ = None  # what jsii.implements sets: a native object, not a jsii class

    def __init__(
        self,
        *,
        platform: str | None = None,
        skip_prefixes: Iterable[str] = (),
        image_paths: Mapping[str, str | tuple[str, ...] | list[str]] | None = None,
        resolver: Resolver | None = None,
        lock: str | os.PathLike[str] | None = None,
        mode: str | None = None,
    ) -> None:
        self.platform = platform
        self.skip_prefixes = tuple(skip_prefixes)
        self.image_paths = merged_paths(image_paths)
        self._resolver = resolver
        self._lock = lock
        self._mode = mode

    def visit(self, node: IConstruct) -> None:
        """Pin everything under the construct this aspect was added to, in one batch.

        Visits of the constructs below it (aspects are inherited) have nothing left to do.
        Synthesizing again finds only digests, so no state is kept between visits.
        """
        flavor = flavor_of(node)
        if not any(aspect is self for aspect in flavor.lib.Aspects.of(node).all):
            return
        targets = [t for c in node.node.find_all() if (t := self._target(c, flavor)) is not None]
        if targets:
            self._pin(targets, flavor)

    def _target(self, construct: IConstruct, flavor: Flavor) -> _Target | None:
        if not flavor.lib.TerraformResource.is_terraform_resource(construct):
            return None
        paths = self.image_paths.get(construct.terraform_resource_type)  # type: ignore[attr-defined]
        if not paths:
            return None
        found = [
            (location, image)
            for location, image in locate_images(synthesized_attributes(construct), paths)
            if not is_token(image, flavor) and needs_resolution(image, self.skip_prefixes)
        ]
        return _Target(construct, found) if found else None

    def _pin(self, targets: list[_Target], flavor: Flavor) -> None:
        uses: dict[str, list[str]] = defaultdict(list)
        for target in targets:
            for image in target.images:
                uses[image].append(target.resource.node.path)
        resolved = self._resolve(list(uses), uses)
        for target in targets:
            changes = {location: resolved[image].repo_digest for location, image in target.found}
            try:
                set_strings(target.resource, changes)
            except UnsafeRewriteError as err:
                image = err.reference or target.images[0]
                raise PinError.at(target.resource.node.path, image, err) from err
            for image in target.images:
                if warning := resolved[image].warning:
                    flavor.lib.Annotations.of(target.resource).add_warning(warning)

    def _resolve(
        self, images: list[str], uses: Mapping[str, list[str]]
    ) -> dict[str, ResolvedImage]:
        try:
            with using_resolver(self._resolver, lock=self._lock, mode=self._mode) as resolver:
                return resolver.resolve_many(images, platform=self.platform)
        except BatchResolutionError as err:
            raise PinError(err.errors, uses) from err
        except DigestError as err:  # the resolver itself could not be set up (e.g. lock file)
            raise PinError(dict.fromkeys(images, err), uses) from err
