"""Why an image was refused: no signature, a bad one, one for another digest or identity.

Subclasses of `DigestError`, so every entry point already reports them as the cause of a
`PinError` naming the resource, and the CLI exits 1. None is a `RegistryError`: mode
`fallback` falls back to the lock only when the registry fails, never when a signature does.
"""

from __future__ import annotations

from image_digest.errors import DigestError, InvalidOptionError


class SignatureError(DigestError):
    """The digest was not pinned because no signature by the key verifies for it.

    `digest` is the digest that was refused, `key` the fingerprint of the key (`sha256:...`),
    `reason` one of `unsigned`, `bad_signature`, `other_digest`, `other_identity`.
    """

    reason = "unsigned"

    def __init__(
        self,
        message: str,
        *,
        reference: str,
        digest: str,
        key: str,
        registry: str | None = None,
    ):
        super().__init__(message, reference=reference, registry=registry)
        self.digest = digest
        self.key = key


class UnsignedImageError(SignatureError):
    """There is no cosign signature for the digest at all (neither tag nor referrer)."""

    reason = "unsigned"


class BadSignatureError(SignatureError):
    """Signatures exist, but none verifies with the key: another key, or a tampered payload."""

    reason = "bad_signature"


class OtherDigestError(SignatureError):
    """A signature by the key verifies, but it vouches for another digest."""

    reason = "other_digest"


class OtherIdentityError(SignatureError):
    """A signature by the key verifies for the digest, but names another repository."""

    reason = "other_identity"


class InvalidKeyError(InvalidOptionError):
    """The verification key cannot be used: unreadable, not PEM, or an unsupported type."""
