"""The cosign simple-signing payload: what a signature vouches for. Pure, no I/O.

A cosign signature signs these bytes (containers-signature(5), "simple signing"):

    {"critical": {"identity": {"docker-reference": "registry/repo"},
                  "image": {"docker-manifest-digest": "sha256:..."},
                  "type": "cosign container image signature"},
     "optional": null}

The payload travels as a layer of media type `SIMPLE_SIGNING_MEDIA_TYPE`, its base64
signature in the layer's `SIGNATURE_ANNOTATION`. Claims are read only from a payload whose
signature has verified: before that, they are anybody's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from image_digest.errors import DigestError
from image_digest.names.reference import DOCKER_HUB, Reference, parse
from image_digest.safe_load import load_json

SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
#: `artifactType` of a signature stored as an OCI 1.1 referrer (cosign's
#: `--registry-referrers-mode=oci-1-1`: `application/vnd.dev.cosign.artifact.<kind>.v1+json`).
SIGNATURE_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"
#: `critical.type` values cosign writes (the second by newer releases).
SIGNATURE_TYPES = ("cosign container image signature", "https://sigstore.dev/cosign/sign/v1")
#: Other names Docker Hub's repositories are written with (cosign 1.x wrote index.docker.io).
_DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})


@dataclass(frozen=True)
class Claims:
    """What a verified payload says: which digest, under which repository name."""

    digest: str
    identity: str
    type: str


def signature_tag(digest: str) -> str:
    """The tag cosign stores a digest's signatures under: `sha256-<hex>.sig`."""
    return f"{digest.replace(':', '-', 1)}.sig"


def referrers_tag(digest: str) -> str:
    """The fallback tag of the OCI 1.1 referrers tag schema: `sha256-<hex>`."""
    return digest.replace(":", "-", 1)


def claims_of(payload: bytes) -> Claims | None:
    """The claims of a simple-signing payload; None when it is not one."""
    try:
        document = load_json(payload, "a signature payload")
    except ValueError:
        return None
    critical = document.get("critical") if isinstance(document, dict) else None
    if not isinstance(critical, dict):
        return None
    identity = critical.get("identity")
    image = critical.get("image")
    kind = critical.get("type")
    reference = identity.get("docker-reference") if isinstance(identity, dict) else None
    digest = image.get("docker-manifest-digest") if isinstance(image, dict) else None
    if not isinstance(reference, str) or not isinstance(digest, str) or not isinstance(kind, str):
        return None
    return Claims(digest, reference, kind)


def same_repository(identity: str, reference: Reference, digest: str) -> bool:
    """Whether a payload's `docker-reference` names `reference`'s repository.

    The tag is ignored (cosign writes none, or the one signed); a digest, when written, must
    be `digest`. Docker Hub's other host names count as `docker.io`.
    """
    try:
        claimed = parse(identity)
    except DigestError:
        return False
    if claimed.digest is not None and claimed.digest != digest:
        return False
    return (
        _hub(claimed.registry) == _hub(reference.registry)
        and claimed.repository == reference.repository
    )


def _hub(registry: str) -> str:
    return DOCKER_HUB if registry in _DOCKER_HUB_ALIASES else registry
