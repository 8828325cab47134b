"""Cosign signature verification: pin a digest only when a signature by the key verifies.

`load_key` reads a PEM public key; `verify_digest` finds a digest's signatures on its registry
(the `.sig` tag and OCI 1.1 referrers) and returns the `Verification` that counts, or raises
a `SignatureError` saying why none does. `Resolver(verify=...)` uses these. Importing this
package costs no HTTP stack or `cryptography`: `verify_digest` loads them on first use.
"""

from typing import TYPE_CHECKING, Any

from image_digest.signatures.errors import (
    BadSignatureError,
    InvalidKeyError,
    OtherDigestError,
    OtherIdentityError,
    SignatureError,
    UnsignedImageError,
)
from image_digest.signatures.keys import VerificationKey, key_from_pem, load_key
from image_digest.signatures.verify import Candidate, Verification, from_record, judge

if TYPE_CHECKING:
    from image_digest.signatures.online import verify_digest


def __getattr__(name: str) -> Any:
    if name == "verify_digest":
        from image_digest.signatures.online import verify_digest

        return verify_digest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BadSignatureError",
    "Candidate",
    "InvalidKeyError",
    "OtherDigestError",
    "OtherIdentityError",
    "SignatureError",
    "UnsignedImageError",
    "Verification",
    "VerificationKey",
    "from_record",
    "judge",
    "key_from_pem",
    "load_key",
    "verify_digest",
]
