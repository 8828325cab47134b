"""Verify a digest against its registry: find its signatures, then judge them.

The `.sig` tag first (where cosign signs by default): when a signature there counts, the
referrers are not asked, so a verification costs two requests (the tag, the payload blob).
Otherwise the referrers are read too and all signatures judged together, so the error names
the closest miss among them."""

from __future__ import annotations

from image_digest.errors import DigestError
from image_digest.names.reference import Reference
from image_digest.registry.client import RegistryClient
from image_digest.signatures.errors import SignatureError
from image_digest.signatures.keys import VerificationKey
from image_digest.signatures.locate import referrer_candidates, tag_candidates
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
    repository = reference.repository
    try:
        found = tag_candidates(client, text, repository, digest, deadline)
        if found:
            try:
                return judge(found, key, reference, text, digest, client.registry)
            except SignatureError:
                pass
        found += referrer_candidates(client, text, repository, digest, deadline)
    except DigestError as exc:
        client.transport.scrub(exc)
        raise
    return judge(found, key, reference, text, digest, client.registry)
