"""Mirrors: which registry (or pull-through cache) answers for another, and under what name.

Teams resolve through a mirror (a registry in pull-through mode, a Harbor proxy project, an
Artifact Registry remote repository) for rate limits and air gaps. A mirror is given as
`{"docker.io": "mirror.example:5000/hub"}`: the source is a registry, or a registry and a
path prefix (`ghcr.io/acme`); the target is the mirror's host and an optional path prefix
under which it serves the source's repositories. So `docker.io/library/nginx:1.27` is looked
up as `mirror.example:5000/hub/library/nginx:1.27`; the longest matching source wins. Pure:
no I/O; the resolver asks the mirror, and the upstream too when it can, to notice a stale one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from image_digest.errors import DigestError, InvalidOptionError, quoted
from image_digest.names.reference import Reference, parse

DeployFrom = Literal["program", "mirror"]
DEPLOY_FROM: tuple[DeployFrom, ...] = ("program", "mirror")
_PROBE = "probe/probe"


@dataclass(frozen=True)
class Mirrors:
    """Source prefix -> mirror prefix, both canonical (`docker.io`, `mirror.example:5000/hub`)."""

    routes: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.routes)

    def route(self, reference: Reference) -> Reference | None:
        """`reference` as the mirror names it (same tag and digest), or None if unmirrored."""
        name = reference.name
        for source, target in sorted(self.routes, key=lambda r: -len(r[0])):
            if name == source or name.startswith(f"{source}/"):
                rest = name[len(source) :].lstrip("/")
                mirrored = f"{target}/{rest}" if rest else target
                tag = f":{reference.tag}" if reference.tag is not None else ""
                digest = f"@{reference.digest}" if reference.digest is not None else ""
                return parse(f"{mirrored}{tag}{digest}")
        return None

    def as_dict(self) -> dict[str, str]:
        return dict(self.routes)


def parse_mirrors(mirrors: Mapping[str, str] | Iterable[str] | Mirrors | None) -> Mirrors:
    """`{"docker.io": "mirror.example:5000/hub"}` or `["docker.io=mirror.example:5000/hub"]`
    (the CLI's `--mirror SRC=DST`), checked: an `InvalidOptionError` names the bad entry."""
    if mirrors is None:
        return Mirrors()
    if isinstance(mirrors, Mirrors):
        return mirrors
    if isinstance(mirrors, str | bytes):
        raise TypeError(
            'mirrors takes a mapping, like mirrors={"docker.io": "mirror.example:5000/hub"}, '
            f"not a single {type(mirrors).__name__}"
        )
    pairs: list[tuple[object, object]] = []
    if isinstance(mirrors, Mapping):
        pairs = list(mirrors.items())
    else:
        for item in mirrors:
            if not isinstance(item, str) or "=" not in item:
                raise InvalidOptionError(
                    f"mirror {quoted(str(item), 80)} must be SOURCE=MIRROR, e.g. "
                    "docker.io=mirror.example:5000/hub"
                )
            written, _, mirror = item.partition("=")
            pairs.append((written, mirror))
    routes: dict[str, str] = {}
    for source, target in pairs:
        canonical = _prefix(source, "source")
        if canonical in routes:
            raise InvalidOptionError(f"mirror source {canonical} is given twice")
        routes[canonical] = _prefix(target, "target")
    return Mirrors(tuple(sorted(routes.items())))


def _prefix(value: object, role: str) -> str:
    """A registry host with an optional path prefix, in canonical form (`index.docker.io`
    is `docker.io`)."""
    example = "docker.io" if role == "source" else "mirror.example:5000/hub"
    rule = (
        f"a mirror's {role} must be a registry host (with a '.' or a port, or localhost) and an "
        f"optional path, without tag or digest, like {example}"
    )
    if not isinstance(value, str):
        raise InvalidOptionError(f"{rule}; got {quoted(repr(value), 80)}")
    text = value.strip().strip("/")
    host = text.partition("/")[0]
    if not ("." in host or ":" in host or host == "localhost"):
        raise InvalidOptionError(f"{rule}; got {quoted(value, 80)}")
    try:
        # Two components, so Docker Hub's `library/` is never added to the prefix.
        probe = parse(f"{text}/{_PROBE}")
    except DigestError:
        raise InvalidOptionError(f"{rule}; got {quoted(value, 80)}") from None
    if probe.tag is not None or probe.digest is not None:
        raise InvalidOptionError(f"{rule}; got {quoted(value, 80)}")
    return probe.name.removesuffix(f"/{_PROBE}")


def stale_message(
    text: str, mirror: Reference, upstream: Reference, mirrored: str, current: str
) -> str:
    """The warning for a mirror whose digest differs from the upstream's, naming both."""
    return (
        f"stale mirror for {text}: mirror {mirror} answers {mirrored}, but upstream "
        f"{upstream} answers {current} (a pull-through cache that lost its upstream, or a "
        f"replica that lags); pinned the mirror's {mirrored}: refresh the mirror, or resolve "
        "without it to pin the upstream's digest"
    )
