"""`pin()`: one image reference to its `repo@sha256:...` form, while the program synthesizes."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from datetime import timedelta

from cdktf_digest.errors import UnresolvedTokenError
from cdktf_digest.framework import is_token
from cdktf_digest.options import using_resolver
from image_digest import DigestError, PinError, Resolver
from image_digest.entry_options import LockPath, check_exclusive, resolver_options


def pin(
    image: str,
    *,
    platform: str | None = None,
    resolver: Resolver | None = None,
    lock: LockPath | None = None,
    mode: str | None = None,
    ca_bundle: str | os.PathLike[str] | None = None,
    insecure_registries: Iterable[str] = (),
    min_age: str | timedelta | None = None,
    keep_tag: bool = False,
    mirrors: Mapping[str, str] | None = None,
    deploy_from: str | None = None,
) -> str:
    """The pinned `repo@sha256:...` of `image`, resolved now (at synth).

    Raises `PinError` (the core's error inside) when the image cannot be pinned, and
    `UnresolvedTokenError` for a CDK token, whose value only Terraform knows (use
    `RegistryDigest` for those). A fallback to the lock file (mode "fallback") is reported as a
    Python warning, since there is no construct. Pass `resolver=` or the resolver options
    (`lock`, `mode`, `ca_bundle`, `insecure_registries`), not both. `keep_tag=True` gives
    the readable `repo:tag@sha256:...`; `mirrors` and `deploy_from` resolve through a mirror
    (see `image_digest.Resolver`).
    """
    options = resolver_options(
        lock=lock,
        mode=mode,
        ca_bundle=ca_bundle,
        insecure_registries=insecure_registries,
        min_age=min_age,
        keep_tag=keep_tag,
        mirrors=mirrors,
        deploy_from=deploy_from,
    )
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
