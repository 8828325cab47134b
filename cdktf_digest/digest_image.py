"""`DigestImage`: a construct that pins one image at synth and exposes the result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from constructs import Construct

from cdktf_digest.errors import PinError, UnresolvedTokenError
from cdktf_digest.framework import flavor_of, is_token
from cdktf_digest.options import using_resolver
from image_digest import DigestError, ResolvedImage, Resolver
from image_digest.entry_options import (
    ResolverOptions,
    ResolverSettings,
    check_exclusive,
    resolver_options,
)


class DigestImage(Construct):
    """Resolves `image` when constructed, so the program deploys `.repo_digest`, not the tag.

    `.image` is the reference as given, `.digest` the content digest (`sha256:...`),
    `.repo_digest` the pinned reference, `.labels` the image's labels (with `with_labels=True`).
    A fallback to the lock file (mode "fallback") becomes a warning annotation on this construct.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: str,
        platform: str | None = None,
        resolver: Resolver | None = None,
        options: ResolverOptions | None = None,
        **settings: Unpack[ResolverSettings],
    ) -> None:
        options = resolver_options(options, **settings)
        check_exclusive(resolver, options)
        super().__init__(scope, id)
        flavor = flavor_of(self)
        if is_token(image, flavor):
            raise UnresolvedTokenError(image, self.node.path)
        try:
            with using_resolver(resolver, options) as chosen:
                self.resolved: ResolvedImage = chosen.resolve(image, platform=platform)
        except DigestError as err:
            raise PinError.at(self.node.path, image, err) from err
        if self.resolved.warning:
            flavor.lib.Annotations.of(self).add_warning(self.resolved.warning)

    @property
    def image(self) -> str:
        return self.resolved.reference

    @property
    def digest(self) -> str:
        return self.resolved.digest

    @property
    def repo_digest(self) -> str:
        return self.resolved.repo_digest

    @property
    def platform(self) -> str | None:
        return self.resolved.platform

    @property
    def labels(self) -> Mapping[str, str] | None:
        return self.resolved.labels
