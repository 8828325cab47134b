"""Which commit, repository, version and build time an image comes from, and where to diff two.

Read from the OCI labels `org.opencontainers.image.revision`, `.source`, `.version` and
`.created` (the config's own `created` when the label is absent), so a moved tag can be
reviewed as a code change: `https://github.com/o/r/compare/OLD...NEW`. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

REVISION_LABEL = "org.opencontainers.image.revision"
SOURCE_LABEL = "org.opencontainers.image.source"
VERSION_LABEL = "org.opencontainers.image.version"
CREATED_LABEL = "org.opencontainers.image.created"

_HOSTS = {
    "github.com": "{base}/compare/{old}...{new}",
    "gitlab.com": "{base}/-/compare/{old}...{new}",
}
_SCP = re.compile(r"^(?:ssh://)?git@(?P<host>[^:/]+)[:/](?P<path>.+)$")
_HTTP = re.compile(r"^(?:https?|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$")
_REVISION = re.compile(r"^[0-9A-Za-z._/-]{1,200}$")


@dataclass(frozen=True)
class Provenance:
    """What an image says about itself; every field is None when the image does not say."""

    revision: str | None = None
    source: str | None = None
    version: str | None = None
    created: str | None = None

    @classmethod
    def of(cls, labels: Mapping[str, str] | None, created: str | None = None) -> Provenance:
        """From config labels, with the config's `created` when there is no created label."""
        labels = labels or {}
        return cls(
            revision=labels.get(REVISION_LABEL) or None,
            source=labels.get(SOURCE_LABEL) or None,
            version=labels.get(VERSION_LABEL) or None,
            created=labels.get(CREATED_LABEL) or created or None,
        )

    def known(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def values(self) -> tuple[str | None, str | None, str | None, str | None]:
        """(revision, source, version, created), the order `LockPin` takes them in."""
        return (self.revision, self.source, self.version, self.created)

    def as_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def repository_url(source: str | None) -> str | None:
    """`https://github.com/o/r` for a GitHub or GitLab source in any of its spellings
    (`git@github.com:o/r.git`, `https://github.com/o/r.git`, `ssh://git@...`); else None."""
    if not source:
        return None
    text = source.strip()
    if "://" not in text and not text.startswith("git@"):
        text = f"https://{text}"  # github.com/o/r
    match = _SCP.match(text) or _HTTP.match(text)
    if match is None:
        return None
    host = match["host"].lower()
    if host.startswith("www."):
        host = host[4:]
    path = match["path"].split("#", 1)[0].split("?", 1)[0].strip("/")
    path = path.removesuffix(".git").split("/-/", 1)[0]  # GitLab's /-/tree/... suffixes
    if host == "github.com":
        path = "/".join(path.split("/")[:2])  # github.com/o/r/tree/main -> o/r
    if host not in _HOSTS or path.count("/") < 1:
        return None
    return f"https://{host}/{path}"


def compare_url(old: Provenance, new: Provenance) -> str | None:
    """The forge's compare page between two revisions of the same GitHub/GitLab repository."""
    bases = {repository_url(p.source) for p in (old, new) if p.source}
    if len(bases) != 1 or None in bases or not old.revision or not new.revision:
        return None  # no forge repository, two different ones, or a revision missing
    if old.revision == new.revision:
        return None
    if not (_REVISION.match(old.revision) and _REVISION.match(new.revision)):
        return None
    (base,) = bases
    assert base is not None
    host = base.split("/")[2]
    return _HOSTS[host].format(base=base, old=old.revision, new=new.revision)
