"""The resolver options every adapter entry point takes, and the one rule for combining them.

`pin`, `DigestImage`, `pin_images` and `PinImages` (Pulumi and CDKTF alike) either take the
caller's own `Resolver` or build one from the same few options: the lock file and mode, labels,
a cooldown for fresh digests (`min_age`), the TLS settings a private registry needs, and the
public key every digest's cosign signature is verified with (`verify`, a path). Both at
once is ambiguous (which lock wins?), so it is a `TypeError` when the entry point is called, in
every package, not later at synth.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import timedelta

from image_digest.age import parse_duration
from image_digest.resolver import MODES, Resolver
from image_digest.transport.options import host_set

LockPath = str | os.PathLike[str]


@dataclass(frozen=True)
class ResolverOptions:
    """How an entry point builds its own resolver (picklable: the Pulumi provider keeps it)."""

    lock: str | None = None
    mode: str | None = None
    with_labels: bool = False
    ca_bundle: str | None = None
    insecure_registries: tuple[str, ...] = field(default=())
    min_age: timedelta | None = None
    verify: str | None = None

    def build(self) -> Resolver:
        """A fresh resolver with these options (None: the environment variables decide)."""
        return Resolver(
            lock=self.lock,
            mode=self.mode,
            with_labels=self.with_labels,
            ca_bundle=self.ca_bundle,
            insecure_registries=self.insecure_registries,
            min_age=self.min_age,
            verify=self.verify,
        )

    def given(self) -> list[str]:
        """The names of the options set to something other than their default."""
        return [f.name for f in fields(self) if getattr(self, f.name) != f.default]


def resolver_options(
    *,
    lock: LockPath | None = None,
    mode: str | None = None,
    with_labels: bool = False,
    ca_bundle: str | os.PathLike[str] | None = None,
    insecure_registries: Iterable[str] = (),
    min_age: str | timedelta | None = None,
    verify: str | os.PathLike[str] | None = None,
) -> ResolverOptions:
    """The options, checked now: a wrong mode, a host list given as one string or a duration
    that does not parse fails here, when the entry point is called."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)} (or None), got {mode!r}")
    return ResolverOptions(
        lock=os.fspath(lock) if lock is not None else None,
        mode=mode,
        with_labels=with_labels,
        ca_bundle=os.fspath(ca_bundle) if ca_bundle is not None else None,
        insecure_registries=tuple(sorted(host_set("insecure_registries", insecure_registries))),
        min_age=parse_duration(min_age) if min_age is not None else None,
        verify=os.fspath(verify) if verify is not None else None,
    )


def check_exclusive(resolver: Resolver | None, options: ResolverOptions) -> None:
    """A caller's resolver and resolver options together are a TypeError naming both."""
    if resolver is not None and (given := options.given()):
        names = ", ".join(f"{name}=" for name in given)
        raise TypeError(
            f"{names} configure the resolver this library creates; when you pass resolver=, "
            "set them on that image_digest.Resolver instead"
        )


def chosen_resolver(resolver: Resolver | None, options: ResolverOptions) -> Resolver:
    """The caller's resolver, or a fresh one built from `options`."""
    check_exclusive(resolver, options)
    return resolver if resolver is not None else options.build()
