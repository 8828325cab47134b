"""Public keys that signatures are verified with: PEM, ECDSA P-256, RSA or Ed25519.

The algorithms are cosign's for a key pair: ECDSA and RSA (PKCS #1 v1.5) over SHA-256, pure
Ed25519. A key is named by its fingerprint, `sha256:` and the hex SHA-256 of its DER
SubjectPublicKeyInfo, which is what the lock records (never the key's path, which differs per
machine). `cryptography` is imported here only, on first use: the `verify` extra.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from image_digest.errors import install_extra
from image_digest.signatures.errors import InvalidKeyError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

#: RSA keys shorter than this are refused (NIST SP 800-131A).
MIN_RSA_BITS = 2048
_MAX_KEY_FILE = 64 * 1024


@dataclass(frozen=True)
class VerificationKey:
    """A public key and its fingerprint; `source` names where it came from, for messages."""

    fingerprint: str
    algorithm: str
    source: str
    pem: bytes = field(repr=False)
    _key: PublicKeyTypes = field(repr=False, compare=False)

    def verifies(self, signature: bytes, payload: bytes) -> bool:
        """Whether `signature` is this key's signature over `payload`."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

        key = self._key
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
            elif isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
            elif isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(signature, payload)
            else:  # pragma: no cover - load_key admits nothing else
                return False
        except (InvalidSignature, ValueError):
            return False
        return True


def load_key(path: str | os.PathLike[str]) -> VerificationKey:
    """The public key in the PEM file at `path` (as `cosign generate-key-pair` writes it)."""
    source = os.fspath(path)
    try:
        with Path(source).open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise InvalidKeyError(
            f"verification key {source}: cannot read it ({exc.strerror or type(exc).__name__})"
        ) from None
    if len(data) > _MAX_KEY_FILE:
        raise InvalidKeyError(
            f"verification key {source} is over {_MAX_KEY_FILE} bytes: not a PEM public key"
        )
    return key_from_pem(data, source)


def key_from_pem(data: bytes, source: str = "(PEM)") -> VerificationKey:
    """A `VerificationKey` from PEM text: a `PUBLIC KEY` block of a supported type."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    except ImportError:
        raise InvalidKeyError(
            "signature verification needs the cryptography package: " + install_extra("verify")
        ) from None
    if b"PRIVATE KEY" in data:
        # Say so without quoting a byte of it: a private key must never reach a message.
        raise InvalidKeyError(
            f"verification key {source} holds a private key; pass the public key "
            "(cosign.pub), which is all verifying needs"
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise InvalidKeyError(
            f"verification key {source} is not a PEM public key ('-----BEGIN PUBLIC KEY-----')"
        ) from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise InvalidKeyError(
                f"verification key {source} is an ECDSA key on {key.curve.name}; "
                "only P-256 (secp256r1) is supported, as cosign generates"
            )
        algorithm = "ecdsa-p256-sha256"
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise InvalidKeyError(
                f"verification key {source} is a {key.key_size}-bit RSA key; at least "
                f"{MIN_RSA_BITS} bits are required"
            )
        algorithm = f"rsa{key.key_size}-pkcs1v15-sha256"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        algorithm = "ed25519"
    else:
        raise InvalidKeyError(
            f"verification key {source} is a {type(key).__name__}; supported are ECDSA "
            "P-256, RSA and Ed25519 public keys"
        )
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fingerprint = f"sha256:{hashlib.sha256(der).hexdigest()}"
    return VerificationKey(fingerprint, algorithm, source, pem, key)
