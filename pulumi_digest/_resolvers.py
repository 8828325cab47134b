"""Pick the core `Resolver` an entry point uses.

Resolvers cache what they resolve, so a default one is shared within one deployment (one root
stack resource) and never across deployments: a long-lived process (tests, the Automation
API) must see a tag that moved between two runs. The options and the rule for combining them
with a caller's resolver are the core's (`image_digest.entry_options`), the same in
`cdktf_digest`.
"""

from __future__ import annotations

import threading
import weakref

import pulumi.runtime

from image_digest import Resolver
from image_digest.entry_options import LockPath, ResolverOptions, chosen_resolver

__all__ = ["LockPath", "choose", "shared"]

_per_deployment: weakref.WeakKeyDictionary[object, dict[ResolverOptions, Resolver]]
_per_deployment = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def choose(resolver: Resolver | None, options: ResolverOptions) -> Resolver:
    """The caller's resolver, or a fresh one built from `options`."""
    return chosen_resolver(resolver, options)


def shared(resolver: Resolver | None, options: ResolverOptions) -> Resolver:
    """Like `choose`, but reuse one default resolver per deployment so `pin` calls share a cache."""
    root = pulumi.runtime.get_root_resource()
    if resolver is not None or root is None:
        return chosen_resolver(resolver, options)
    with _lock:
        resolvers = _per_deployment.setdefault(root, {})
        if options not in resolvers:
            resolvers[options] = options.build()
        return resolvers[options]
