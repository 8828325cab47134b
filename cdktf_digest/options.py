"""The resolver behind each entry point: the caller's, or a fresh one built from the options.

A fresh resolver per construct or aspect (not one per process) scopes its cache to one
synth, so a program or test that synthesizes again after a push sees the new digest. Pass one
shared `image_digest.Resolver` to share credentials, caches and connections across constructs.
The options and the rule for combining them are the core's (`image_digest.entry_options`),
the same in `pulumi_digest`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from image_digest import Resolver
from image_digest.entry_options import ResolverOptions


@contextmanager
def using_resolver(resolver: Resolver | None, options: ResolverOptions) -> Iterator[Resolver]:
    """`resolver` as given, or a new one (closed afterwards) built from `options`."""
    if resolver is not None:
        yield resolver
        return
    with options.build() as fresh:
        yield fresh
