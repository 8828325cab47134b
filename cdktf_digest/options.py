"""The resolver behind each entry point: the caller's, or a fresh one built from the options.

A fresh resolver per construct or aspect (not one per process) scopes its cache to one
synth, so a program or test that synthesizes again after a push sees the new digest. Pass one
shared `image_digest.Resolver` to share credentials, caches and connections across constructs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from image_digest import Resolver


@contextmanager
def using_resolver(
    resolver: Resolver | None,
    *,
    lock: str | os.PathLike[str] | None = None,
    mode: str | None = None,
    with_labels: bool = False,
    min_age: str | timedelta | None = None,
) -> Iterator[Resolver]:
    """`resolver` as given, or a new one (closed afterwards) with these options.

    None for `lock` and `mode` means the core's environment variables decide.
    """
    if resolver is not None:
        if lock is not None or mode is not None or with_labels or min_age is not None:
            raise TypeError(
                "lock, mode, with_labels and min_age configure the resolver this library "
                "creates; when passing resolver=, set them on that Resolver instead"
            )
        yield resolver
        return
    with Resolver(lock=lock, mode=mode, with_labels=with_labels, min_age=min_age) as fresh:
        yield fresh
