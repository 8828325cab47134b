"""Pick the core `Resolver` an entry point uses.

Resolvers cache what they resolve, so a default one is shared within one deployment (one root
stack resource) and never across deployments: a long-lived process (tests, the Automation
API) must see a tag that moved between two runs.
"""

from __future__ import annotations

import os
import threading
import weakref
from datetime import timedelta

import pulumi.runtime

from image_digest import Resolver

LockPath = str | os.PathLike[str]
MinAge = str | timedelta

_per_deployment: weakref.WeakKeyDictionary[object, dict[tuple[object, ...], Resolver]]
_per_deployment = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _check_exclusive(
    resolver: Resolver | None, lock: LockPath | None, mode: str | None, min_age: MinAge | None
) -> None:
    if resolver is not None and (lock is not None or mode is not None or min_age is not None):
        raise ValueError(
            "pass lock=, mode= and min_age= either to pulumi_digest or to your own "
            "image_digest.Resolver, not both"
        )


def choose(
    resolver: Resolver | None,
    *,
    lock: LockPath | None = None,
    mode: str | None = None,
    min_age: MinAge | None = None,
) -> Resolver:
    """The caller's resolver, or a fresh one configured with `lock`, `mode` and `min_age`."""
    _check_exclusive(resolver, lock, mode, min_age)
    if resolver is not None:
        return resolver
    return Resolver(lock=lock, mode=mode, min_age=min_age)


def shared(
    resolver: Resolver | None,
    *,
    lock: LockPath | None = None,
    mode: str | None = None,
    min_age: MinAge | None = None,
) -> Resolver:
    """Like `choose`, but reuse one default resolver per deployment so `pin` calls share a cache."""
    _check_exclusive(resolver, lock, mode, min_age)
    if resolver is not None:
        return resolver
    root = pulumi.runtime.get_root_resource()
    if root is None:
        return Resolver(lock=lock, mode=mode, min_age=min_age)
    key = (os.fspath(lock) if lock is not None else None, mode, min_age)
    with _lock:
        resolvers = _per_deployment.setdefault(root, {})
        if key not in resolvers:
            resolvers[key] = Resolver(lock=lock, mode=mode, min_age=min_age)
        return resolvers[key]
