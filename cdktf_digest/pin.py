"""`pin()`: one image reference to its `repo@sha256:...` form, while the program synthesizes."""

from __future__ import annotations

import warnings
from typing import Unpack

from cdktf_digest.errors import UnresolvedTokenError
from cdktf_digest.framework import is_token
from cdktf_digest.options import using_resolver
from image_digest import DigestError, PinError, Resolver
from image_digest.entry_options import (
    ResolverOptions,
    ResolverSettings,
    check_exclusive,
    resolver_options,
)


def pin(
    image: str,
    *,
    platform: str | None = None,
    resolver: Resolver | None = None,
    options: ResolverOptions | None = None,
    **settings: Unpack[ResolverSettings],
) -> str:
    """The pinned `repo@sha256:...` of `image`, resolved now (at synth).

    Raises `PinError` (the core's error inside) when the image cannot be pinned, and
    `UnresolvedTokenError` for a CDK token, whose value only Terraform knows (use
    `RegistryDigest` for those). A fallback to the lock file (mode "fallback") is reported as a
    Python warning, since there is no construct. Pass `resolver=` or the resolver options
    (`lock`, `mode`, `ca_bundle`, `insecure_registries`), not both.
    """
    options = resolver_options(options, **settings)
    check_exclusive(resolver, options)
    if is_token(image):
        raise UnresolvedTokenError(image)
    try:
        with using_resolver(resolver, options) as chosen:
            resolved = chosen.resolve(image, platform=platform)
    except DigestError as err:
        raise PinError.at("cdktf_digest.pin", image, err) from err
    if resolved.warning:
        warnings.warn(resolved.warning, stacklevel=2)
    return resolved.repo_digest
