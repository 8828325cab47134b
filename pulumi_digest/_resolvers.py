"""Pick the core `Resolver` an entry point uses.

Resolvers cache what they resolve, so a default one is shared within one deployment (one root
stack resource) and never across deployments: a long-lived process (tests, the Automation
API) must see a tag that moved between two runs.
"""

from __future__ import annotations

import os
import threading
import weakref

import pulumi.runtime

from image_digest import Resolver

LockPath = str | os.PathLike[str]

_per_deployment: weakref.WeakKeyDictionary[object, dict[tuple[str | None, str | None], Resolver]]
_per_deployment = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _check_exclusive(resolver: Resolver | None, lock: LockPath | None, mode: str | None) -> None:
    if resolver is not None and (lock is not None or mode is not None):
        raise ValueError(
            "pass lock= and mode= either to pulumi_digest or to your own image_digest.Resolver, "
            "not both"
        )


def choose(
    resolver: Resolver | None, *, lock: LockPath | None = None, mode: str | None = None
) -> Resolver:
    """The caller's resolver, or a fresh one configured with `lock` and `mode`."""
    _check_exclusive(resolver, lock, mode)
    if resolver is not None:
        return resolver
    return Resolver(lock=lock, mode=mode)


def shared(
    resolver: Resolver | None, *, lock: LockPath | None = None, mode: str | None = None
) -> Resolver:
    """Like `choose`, but reuse one default resolver per deployment so `pin` calls share a cache."""
    _check_exclusive(resolver, lock, mode)
    if resolver is not None:
        return resolver
    root = pulumi.runtime.get_root_resource()
    if root is None:
        return Resolver(lock=lock, mode=mode)
    key = (os.fspath(lock) if lock is not None else None, mode)
    with _lock:
        resolvers = _per_deployment.setdefault(root, {})
        if key not in resolvers:
            resolvers[key] = Resolver(lock=lock, mode=mode)
        return resolvers[key]
