"""Parse `WWW-Authenticate` challenges (RFC 7235 auth-params with quoted strings)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')


@dataclass(frozen=True)
class Challenge:
    """`scheme` is lowercased (`basic`, `bearer`); `params` holds realm, service, scope..."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenge(header: str | None) -> Challenge | None:
    """The first challenge in the header, or None when the header is missing or unparseable."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", scheme):
        return None
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM_RE.match(rest, position)
        if match is None or match.end() == position:
            break
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(key, value)
        position = match.end()
    return Challenge(scheme.lower(), params)
