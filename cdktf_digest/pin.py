"""`pin()`: one image reference to its `repo@sha256:...` form, while the program synthesizes."""

from __future__ import annotations

import os
import warnings
from datetime import timedelta

from cdktf_digest.errors import UnresolvedTokenError
from cdktf_digest.framework import is_token
from cdktf_digest.options import using_resolver
from image_digest import Resolver


def pin(
    image: str,
    *,
    platform: str | None = None,
    resolver: Resolver | None = None,
    lock: str | os.PathLike[str] | None = None,
    mode: str | None = None,
    min_age: str | timedelta | None = None,
) -> str:
    """The pinned `repo@sha256:...` of `image`, resolved now (at synth).

    Raises the core's `DigestError` subclasses unchanged, and `UnresolvedTokenError` for a CDK
    token, whose value only Terraform knows (use `RegistryDigest` for those). A fallback to the
    lock file (mode "fallback"), or a digest `min_age` holds back, is reported as a Python
    warning, since there is no construct.
    """
    if is_token(image):
        raise UnresolvedTokenError(image)
    with using_resolver(resolver, lock=lock, mode=mode, min_age=min_age) as chosen:
        resolved = chosen.resolve(image, platform=platform)
    if resolved.warning:
        warnings.warn(resolved.warning, stacklevel=2)
    return resolved.repo_digest
