"""Do two deployments run the same content? Compared repository by repository, by digest.

A repository is the unit because that is what promotion moves: staging and production may
spell `nginx:1.27`, `docker.io/library/nginx@sha256:...` or `nginx:1.27@sha256:...`, and
deploy the same bytes. Per repository, each side's set of digests is compared: equal sets are
`same`; different ones `differs`; a repository one side lacks is `only_in_a` or `only_in_b`;
one either side deploys by tag is `by_tag`, which proves nothing and so fails like a
difference; so does `unknown`, a value known only at plan time (`${...}` in a `cdk.tf.json`:
diff the plans instead). Tags, addresses and file formats play no part in the verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from image_digest.audit.deployed import DeployedImage, Deployment

Status = Literal["same", "differs", "only_in_a", "only_in_b", "by_tag", "unknown"]
STATUSES: tuple[Status, ...] = ("differs", "only_in_a", "only_in_b", "by_tag", "unknown", "same")
SECRET = "[secret]"


@dataclass(frozen=True)
class Side:
    """What one deployment runs of one repository: digests, references deployed by tag, and
    where (resource address and path, or lock entry)."""

    digests: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    secret: bool = False
    expressions: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        return bool(self.where)

    def shown(self) -> dict[str, object]:
        """JSON-ready; a secret value's digests and tags are not shown."""
        hidden = self.secret
        return {
            "digests": [SECRET] if hidden and self.digests else list(self.digests),
            "by_tag": [SECRET] if hidden and self.tags else list(self.tags),
            "known_at_plan": [SECRET] if hidden and self.expressions else list(self.expressions),
            "where": list(self.where),
        }


@dataclass(frozen=True)
class RepositoryDiff:
    """One repository across both deployments."""

    repository: str
    status: Status
    a: Side
    b: Side

    @property
    def secret(self) -> bool:
        return self.a.secret or self.b.secret

    @property
    def shown_repository(self) -> str:
        return SECRET if self.secret else self.repository

    def as_dict(self) -> dict[str, object]:
        return {
            "repository": self.shown_repository,
            "status": self.status,
            "secret": self.secret,
            "a": self.a.shown(),
            "b": self.b.shown(),
        }


@dataclass(frozen=True)
class Comparison:
    """Every repository either deployment runs, sorted by status then name."""

    a: Deployment
    b: Deployment
    repositories: tuple[RepositoryDiff, ...]

    @property
    def same(self) -> bool:
        """True when both deploy exactly the same digests of the same repositories."""
        return all(r.status == "same" for r in self.repositories)

    def counts(self) -> dict[Status, int]:
        return {s: sum(r.status == s for r in self.repositories) for s in STATUSES}


def compare(a: Deployment, b: Deployment) -> Comparison:
    """Repository by repository, which digests `a` and `b` deploy, and whether they agree."""
    left, right = _by_repository(a.images), _by_repository(b.images)
    rows = [
        RepositoryDiff(name, _status(left[name], right[name]), left[name], right[name])
        for name in sorted(left.keys() | right.keys())
    ]
    rows.sort(key=lambda row: STATUSES.index(row.status))
    return Comparison(a, b, tuple(rows))


def _by_repository(images: Iterable[DeployedImage]) -> defaultdict[str, Side]:
    grouped: dict[str, list[DeployedImage]] = defaultdict(list)
    for image in images:
        grouped[image.repository].append(image)
    sides: defaultdict[str, Side] = defaultdict(Side)
    for name, found in grouped.items():
        sides[name] = Side(
            digests=tuple(sorted({i.digest for i in found if i.digest is not None})),
            tags=tuple(
                dict.fromkeys(i.reference for i in found if i.digest is None and not i.expression)
            ),
            expressions=tuple(dict.fromkeys(i.reference for i in found if i.expression)),
            where=tuple(dict.fromkeys(i.where for i in found)),
            secret=any(i.secret for i in found),
        )
    return sides


def _status(a: Side, b: Side) -> Status:
    if a.expressions or b.expressions:
        return "unknown"
    if not b.present:
        return "only_in_a"
    if not a.present:
        return "only_in_b"
    if a.tags or b.tags:
        return "by_tag"
    return "same" if a.digests == b.digests else "differs"
