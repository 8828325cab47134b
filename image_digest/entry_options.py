"""`ResolverOptions`: the one options object every entry point accepts and forwards.

`pin`, `DigestImage`, `pin_images` and `PinImages` (Pulumi and CDKTF alike) and the CLI's
commands either take the caller's own `Resolver` or build one from these options: the lock
file and mode, labels, a cooldown for fresh digests (`min_age`), readable pins (`keep_tag`),
mirrors (`mirrors`, `deploy_from`), the TLS settings a private registry needs, the time bound
per reference and the public key every digest's cosign signature is verified with (`verify`, a
path). Both a resolver and options at once is
ambiguous (which lock wins?), so it is a `TypeError` when the entry point is called, in every
package, not later at synth.

Entry points take `options=` (a `ResolverOptions`) and the same options as keywords
(`**settings`, typed by `ResolverSettings`), so `lock=`, `mode=`... keep working everywhere.
Adding an option is one field in `ResolverOptions` and one in `ResolverSettings` below (plus,
when its value needs checking, one entry in `_NORMALIZE`) and a keyword of the same name on
`Resolver`: every entry point forwards the whole object, and none declares the options itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from image_digest.names.mirrors import DEPLOY_FROM, Mirrors, parse_mirrors
from image_digest.pinning.age import parse_duration
from image_digest.resolver import MODES, Resolver
from image_digest.transport.options import host_set, timeout_seconds

if TYPE_CHECKING:
    from image_digest.lookup import Lookup

LockPath = str | os.PathLike[str]


@dataclass(frozen=True)
class ResolverOptions:
    """How an entry point builds its own resolver (picklable: the Pulumi provider keeps it).
    None means the environment decides (`IMAGE_DIGEST_LOCK`, `_MODE`, `_TIMEOUT`)."""

    lock: str | None = None
    mode: str | None = None
    with_labels: bool = False
    ca_bundle: str | None = None
    insecure_registries: tuple[str, ...] = field(default=())
    min_age: timedelta | None = None
    total_timeout: float | None = None
    keep_tag: bool = False
    mirrors: tuple[tuple[str, str], ...] = field(default=())
    deploy_from: str | None = None
    verify: str | None = None

    def build(self) -> Resolver:
        """A fresh resolver with these options."""
        return Resolver(**self.resolver_keywords())

    def lookup(self) -> Lookup:
        """A read-only lookup with these options' registry settings: it has no lock at all."""
        return Resolver(**{**self.resolver_keywords(), "lock": "", "mode": "resolve"}).lookup

    def as_keywords(self) -> dict[str, Any]:
        """These options by name, as stored."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def resolver_keywords(self) -> dict[str, Any]:
        """The `Resolver` keywords these options stand for (no mirrors: the lock's settings)."""
        return {**self.as_keywords(), "mirrors": Mirrors(self.mirrors) if self.mirrors else None}

    def given(self) -> list[str]:
        """The names of the options set to something other than their default."""
        return [f.name for f in fields(self) if getattr(self, f.name) != f.default]


class ResolverSettings(TypedDict, total=False):
    """`ResolverOptions` as an entry point's keywords, in the types callers may pass."""

    lock: LockPath | None
    mode: str | None
    with_labels: bool
    ca_bundle: str | os.PathLike[str] | None
    insecure_registries: Iterable[str]
    min_age: str | timedelta | None
    total_timeout: float | None
    keep_tag: bool
    mirrors: Mapping[str, str] | None
    deploy_from: str | None
    verify: str | os.PathLike[str] | None


def _mode(value: Any) -> str | None:
    if value is not None and value not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)} (or None), got {value!r}")
    return value  # type: ignore[no-any-return]


def _flag(name: str) -> Callable[[Any], bool]:
    """A yes/no option, checked: a string such as "false" is a TypeError, not True."""

    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"{name} takes True or False, not {value!r}")
        return value

    return check


def _deploy_from(value: Any) -> str | None:
    if value is not None and value not in DEPLOY_FROM:
        raise ValueError(f"deploy_from must be one of {', '.join(DEPLOY_FROM)}, got {value!r}")
    return value  # type: ignore[no-any-return]


def _path(value: Any) -> str | None:
    return os.fspath(value) if value is not None else None


#: How each option's value is checked and normalized when given (the rest are kept as given).
_NORMALIZE: dict[str, Callable[[Any], Any]] = {
    "lock": _path,
    "mode": _mode,
    "ca_bundle": _path,
    "insecure_registries": lambda v: tuple(sorted(host_set("insecure_registries", v))),
    "min_age": lambda v: parse_duration(v) if v is not None else None,
    "total_timeout": lambda v: timeout_seconds(v, "total_timeout") if v is not None else None,
    "keep_tag": _flag("keep_tag"),
    "mirrors": lambda v: parse_mirrors(v).routes,
    "deploy_from": _deploy_from,
    "verify": _path,
}


def resolver_options(
    base: ResolverOptions | None = None, **given: Unpack[ResolverSettings]
) -> ResolverOptions:
    """`base` (or the defaults) with `given` keywords, checked now: a wrong mode, a host list
    given as one string or a duration that does not parse fails here, when the entry point is
    called. An unknown keyword is a TypeError naming the known ones."""
    known = {f.name for f in fields(ResolverOptions)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise TypeError(
            f"unknown resolver option {', '.join(unknown)}; the options are: "
            f"{', '.join(sorted(known))}"
        )
    if base is not None and not isinstance(base, ResolverOptions):
        raise TypeError(
            f"options= takes an image_digest.ResolverOptions, not {type(base).__name__}; "
            "or pass the options as keywords (lock=..., mode=...)"
        )
    values = (base or ResolverOptions()).as_keywords()
    for name, value in given.items():
        values[name] = _NORMALIZE.get(name, _same)(value)
    return ResolverOptions(**values)


def _same(value: Any) -> Any:
    return value


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
