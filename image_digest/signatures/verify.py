"""Judge a digest's signatures against a key: the digest is pinned only if one verifies.

A signature counts when (1) it verifies with the key over its payload's exact bytes, (2) the
payload's `docker-manifest-digest` is the digest being pinned, and (3) its `docker-reference`
names the image's repository. Claims are read only after (1). When none counts, the error
says why for the signature that came closest: another identity, another digest, no
signature by this key (a wrong key or a tampered payload), or no signature at all.

The winning signature is returned as a `Verification`, which the lock records (`to_json`):
the key's fingerprint, the payload and the signature. A digest later taken from the lock
(mode `locked`, a `fallback`, a `min_age` hold) is accepted only if that record verifies
again, offline, with the same key (`from_record`): a recorded claim is never trusted as is.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from image_digest.names.reference import Reference
from image_digest.signatures.errors import (
    BadSignatureError,
    OtherDigestError,
    OtherIdentityError,
    SignatureError,
    UnsignedImageError,
)
from image_digest.signatures.keys import VerificationKey
from image_digest.signatures.payload import SIGNATURE_TYPES, claims_of, same_repository


@dataclass(frozen=True)
class Candidate:
    """One signature layer as stored: the payload, its signature, and where it was found."""

    payload: bytes
    signature: bytes
    signature_b64: str
    where: str


@dataclass(frozen=True)
class Verification:
    """A signature by `key` (a fingerprint) that verified for `digest`; `where` it was found
    (`tag sha256-....sig`, `referrer sha256:...`, or `lock` when it came from the lock)."""

    digest: str
    key: str
    identity: str
    payload: bytes
    signature: str
    where: str

    def to_json(self) -> dict[str, str]:
        """The lock's `signature` object for this entry."""
        return {
            "key": self.key,
            "payload": base64.b64encode(self.payload).decode(),
            "signature": self.signature,
        }


def judge(
    candidates: Sequence[Candidate],
    key: VerificationKey,
    reference: Reference,
    text: str,
    digest: str,
    registry: str | None = None,
) -> Verification:
    """The first candidate that counts, else the `SignatureError` saying why none does."""
    other_digest: str | None = None
    other_identity: str | None = None
    for candidate in candidates:
        if not key.verifies(candidate.signature, candidate.payload):
            continue
        claims = claims_of(candidate.payload)
        if claims is None or claims.type not in SIGNATURE_TYPES:
            continue
        if claims.digest != digest:
            other_digest = other_digest or claims.digest
            continue
        if not same_repository(claims.identity, reference, digest):
            other_identity = other_identity or claims.identity
            continue
        return Verification(
            digest,
            key.fingerprint,
            claims.identity,
            candidate.payload,
            candidate.signature_b64,
            candidate.where,
        )
    image = f"{text} ({digest})"
    by = f"key {key.fingerprint} ({key.source})"
    kind: type[SignatureError]
    if other_identity is not None:
        kind, why = (
            OtherIdentityError,
            (
                f"its signature by {by} names another image, {_short(other_identity)}, not "
                f"{reference.name} (other identity)"
            ),
        )
    elif other_digest is not None:
        kind, why = (
            OtherDigestError,
            (
                f"the signature by {by} stored for it vouches for another digest, "
                f"{_short(other_digest)} (other digest)"
            ),
        )
    elif candidates:
        kind, why = (
            BadSignatureError,
            (
                f"{len(candidates)} signature(s) found, none verifies with {by} (bad signature: "
                "signed with another key, or the payload was altered)"
            ),
        )
    else:
        kind, why = (
            UnsignedImageError,
            (
                f"no cosign signature for this digest (no signature: neither the "
                f"{digest.replace(':', '-', 1)}.sig tag nor an OCI referrer); sign it with: "
                f"cosign sign --key <private key> {reference.name}@{digest}"
            ),
        )
    raise kind(
        f"refusing to pin {image}: {why}",
        reference=text,
        digest=digest,
        key=key.fingerprint,
        registry=registry,
    )


def from_record(
    record: Mapping[str, str] | None,
    key: VerificationKey,
    reference: Reference,
    text: str,
    digest: str,
    where: str,
) -> Verification:
    """The lock's recorded signature for `digest`, verified again offline with `key`.

    No record, or one by another key: `UnsignedImageError` naming `where` (the lock file) and
    the command that records one; a record that no longer verifies: as `judge` says."""
    if not record:
        raise UnsignedImageError(
            f"refusing to pin {text} ({digest}) from {where}: the lock records no signature "
            f"for it, and it is never pinned unverified; verify and record one with: "
            f"image-digest lock --verify-key {key.source} {reference}",
            reference=text,
            digest=digest,
            key=key.fingerprint,
        )
    if record.get("key") != key.fingerprint:
        raise UnsignedImageError(
            f"refusing to pin {text} ({digest}) from {where}: the lock records a signature by "
            f"key {_short(str(record.get('key')))}, not by {key.fingerprint} ({key.source}); "
            f"verify with this key and record it: image-digest lock --verify-key "
            f"{key.source} {reference}",
            reference=text,
            digest=digest,
            key=key.fingerprint,
        )
    try:
        payload = base64.b64decode(record.get("payload", ""), validate=True)
        signature = base64.b64decode(record.get("signature", ""), validate=True)
    except (binascii.Error, ValueError):
        payload, signature = b"", b""
    candidate = Candidate(payload, signature, str(record.get("signature", "")), "lock")
    return judge([candidate], key, reference, text, digest)


def _short(text: str) -> str:
    from image_digest.errors import quoted

    return quoted(text, 120)
