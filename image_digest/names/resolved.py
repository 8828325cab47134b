"""The result type every entry point returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from image_digest.names.provenance import Provenance
from image_digest.names.reference import pinned_reference

Source = Literal["registry", "lock", "reference"]


@dataclass(frozen=True)
class ResolvedImage:
    """A reference pinned to content.

    `reference` is the input as given; `repo_digest` is the user's own repository spelling plus
    `@digest` (`nginx:1.25` -> `nginx@sha256:...`), ready to deploy; from a resolver made with
    `keep_tag=True` it keeps the written tag (`nginx:1.25@sha256:...`), which is `readable`
    either way. `source` says where the
    digest came from: the registry, the lock file, or the reference itself (already pinned).
    `warning` is set when the registry failed and the lock's entry was used instead, or when
    `min_age` kept the locked digest: then `held_back` is the newer digest the tag points at.

    `labels` (only when asked for, e.g. `Resolver(with_labels=True)`) are the image config's
    labels, such as `org.opencontainers.image.revision`; `labels_platform` names the platform
    whose config they came from, which for an index resolved without a platform is
    `linux/amd64` if it has one, else its first platform; `created` is that config's
    `created` time, as written.

    `mirror` is the mirror reference the digest was read from (see `Resolver(mirrors=...)`).

    `verified_by` is the fingerprint (`sha256:...`) of the key whose cosign signature verified
    the digest, when the resolver verifies (`Resolver(verify=...)`).
    """

    reference: str
    digest: str
    repo_digest: str
    media_type: str | None = None
    platform: str | None = None
    labels: Mapping[str, str] | None = field(default=None, compare=False)
    source: Source = "registry"
    warning: str | None = field(default=None, compare=False)
    labels_platform: str | None = field(default=None, compare=False)
    created: str | None = field(default=None, compare=False)
    held_back: str | None = field(default=None, compare=False)
    mirror: str | None = field(default=None, compare=False)

    @property
    def readable(self) -> str:
        """The readable pin `repo:tag@sha256:...` (the tag as written, if one was)."""
        return pinned_reference(self.reference, self.digest, keep_tag=True)

    verified_by: str | None = field(default=None, compare=False)

    @property
    def provenance(self) -> Provenance:
        """Revision, source, version and created, from the labels (empty without them)."""
        return Provenance.of(self.labels, self.created)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (used by the CLI's --json and by IaC state)."""
        data: dict[str, object] = {
            "reference": self.reference,
            "digest": self.digest,
            "repo_digest": self.repo_digest,
            "media_type": self.media_type,
            "platform": self.platform,
            "source": self.source,
        }
        if self.labels is not None:
            data["labels"] = dict(self.labels)
            data["labels_platform"] = self.labels_platform
        if self.created is not None:
            data["created"] = self.created
        if self.held_back is not None:
            data["held_back"] = self.held_back
        if self.mirror is not None:
            data["mirror"] = self.mirror
        if self.verified_by is not None:
            data["verified_by"] = self.verified_by
        return data
