"""Verify a digest against its registry: find its signatures, then judge them."""

from __future__ import annotations

from image_digest.errors import DigestError
from image_digest.reference import Reference
from image_digest.registry import RegistryClient
from image_digest.signatures.keys import VerificationKey
from image_digest.signatures.locate import candidates
from image_digest.signatures.verify import Verification, judge
from image_digest.transport import Deadline


def verify_digest(
    client: RegistryClient,
    reference: Reference,
    text: str,
    digest: str,
    key: VerificationKey,
    deadline: Deadline,
) -> Verification:
    """The signature by `key` that verifies for `digest` in `reference`'s repository, read
    from `client`'s registry; a `SignatureError` when none does (a `RegistryError` when the
    registry fails, with every credential scrubbed)."""
    try:
        found = candidates(client, text, reference.repository, digest, deadline)
    except DigestError as exc:
        client.transport.scrub(exc)
        raise
    return judge(found, key, reference, text, digest, client.registry)
