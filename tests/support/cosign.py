"""Sign images the way cosign does, and store the signatures where cosign stores them.

Independent of the library under test (only `cryptography`, `requests` and this package's
push helpers), so the verifier is checked against the format, not against itself:

- `payload(name, digest)`: cosign's simple-signing payload, byte for byte as cosign 1.x/2.x
  marshals it (Go struct field order, compact), `{"critical": ..., "optional": null}`;
- `signature_image(...)`: the `sha256-<hex>.sig` manifest cosign writes: an OCI image manifest,
  an OCI config whose `rootfs.diff_ids` lists the payload, one
  `application/vnd.dev.cosign.simplesigning.v1+json` layer per signature annotated with
  `dev.cosignproject.cosign/signature` (base64 of the raw signature bytes);
- `referrer_image(...)`: the same manifest as `cosign sign --registry-referrers-mode=oci-1-1`
  writes it (`pkg/oci/remote/write.go`, `WriteSignaturesExperimentalOCI`): `artifactType` and
  `config.mediaType` `application/vnd.dev.cosign.artifact.sig.v1+json`, and a `subject`.

`tests/signatures/test_cosign_fixture.py` holds these builders to a real cosign signature.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from .images import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, Blob, Image, Index, sha256_digest
from .push import RegistryClient, push_blob, push_manifest

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
SIG_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"
COSIGN_TYPE = "cosign container image signature"
#: cosign sets this `created` on the config of every signature image it builds.
DEFAULT_CREATED = "2026-01-01T00:00:00Z"


def _go_json(value: Any) -> bytes:
    """JSON as Go's encoding/json writes it: keys in declaration order, compact, no escaping
    beyond what it needs (`<`, `>`, `&` never occur in these documents)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def payload(name: str, digest: str, *, kind: str = COSIGN_TYPE) -> bytes:
    """cosign's payload for `name` (`registry/repo`, as cosign writes it) at `digest`."""
    return _go_json(
        {
            "critical": {
                "identity": {"docker-reference": name},
                "image": {"docker-manifest-digest": digest},
                "type": kind,
            },
            "optional": None,
        }
    )


@dataclass(frozen=True)
class KeyPair:
    """A private key and its PEM public key, generated per test (`cosign.pub`)."""

    private: PrivateKeyTypes = field(repr=False)

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, data: bytes) -> bytes:
        """The raw signature cosign makes with this key type (SHA-256; Ed25519 pure)."""
        key = self.private
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        raise TypeError(f"unsupported key {type(key).__name__}")


def generate(kind: str = "ecdsa") -> KeyPair:
    """A fresh key pair: `ecdsa` (P-256, cosign's default), `rsa` (2048) or `ed25519`."""
    if kind == "ecdsa":
        return KeyPair(ec.generate_private_key(ec.SECP256R1()))
    if kind == "rsa":
        return KeyPair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if kind == "ed25519":
        return KeyPair(ed25519.Ed25519PrivateKey.generate())
    raise ValueError(f"kind must be ecdsa, rsa or ed25519, got {kind!r}")


@dataclass(frozen=True)
class Signature:
    """One signature layer: the payload and the base64 annotation beside it."""

    payload: bytes
    annotation: str

    @classmethod
    def make(cls, keys: KeyPair, name: str, digest: str) -> Signature:
        data = payload(name, digest)
        return cls(data, base64.b64encode(keys.sign(data)).decode())


def signature_tag(digest: str) -> str:
    return digest.replace(":", "-", 1) + ".sig"


def signature_image(
    signatures: list[Signature],
    *,
    created: str = DEFAULT_CREATED,
    subject: dict[str, Any] | None = None,
) -> Image:
    """The signature manifest cosign writes (with `subject`: its OCI 1.1 referrer form)."""
    layers = [Blob(SIMPLE_SIGNING, s.payload) for s in signatures]
    config_type = SIG_ARTIFACT_TYPE if subject is not None else OCI_CONFIG
    config = Blob(
        config_type,
        _go_json(
            {
                "architecture": "",
                "created": created,
                "history": [{"created": "0001-01-01T00:00:00Z"}],
                "os": "",
                "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]},
                "config": {},
            }
        ),
    )
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config.media_type, "size": config.size, "digest": config.digest},
        "layers": [
            {
                "mediaType": layer.media_type,
                "size": layer.size,
                "digest": layer.digest,
                "annotations": {SIGNATURE_ANNOTATION: s.annotation},
            }
            for layer, s in zip(layers, signatures, strict=True)
        ],
    }
    if subject is not None:
        document["subject"] = subject
        document["artifactType"] = SIG_ARTIFACT_TYPE
    manifest = _go_json(document)
    blobs = {config.digest: config.data, **{layer.digest: layer.data for layer in layers}}
    return Image(
        manifest=manifest,
        media_type=OCI_MANIFEST,
        digest=sha256_digest(manifest),
        blobs=blobs,
        platform="",
        config_digest=config.digest,
        artifact_type=SIG_ARTIFACT_TYPE if subject is not None else None,
    )


def _upload(client: RegistryClient, image: Image, reference: str) -> str:
    for blob_digest, data in image.blobs.items():
        push_blob(client, blob_digest, data)
    return push_manifest(client, reference, image.manifest, image.media_type)


def push_signature(
    client: RegistryClient, digest: str, signatures: list[Signature], **kwargs: Any
) -> Image:
    """Store `signatures` under `digest`'s `.sig` tag, as `cosign sign` does."""
    image = signature_image(signatures, **kwargs)
    _upload(client, image, signature_tag(digest))
    return image


def push_referrer(
    client: RegistryClient,
    subject: Image | Index,
    signatures: list[Signature],
    *,
    tag_schema: bool = True,
) -> Image:
    """Store `signatures` as an OCI 1.1 referrer of `subject` (pushed by digest). With
    `tag_schema`, also write the referrers tag schema's `sha256-<hex>` index, as clients do
    on a registry without the referrers API (distribution-spec v1.1, "Referrers Tag Schema")."""
    descriptor = {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size}
    image = signature_image(signatures, subject=descriptor)
    _upload(client, image, image.digest)
    if tag_schema:
        index = _go_json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [image.descriptor()],
            }
        )
        push_manifest(client, subject.digest.replace(":", "-", 1), index, OCI_INDEX)
    return image


def referrers_index(manifests: list[dict[str, Any]]) -> bytes:
    """The body of a referrers API answer: an OCI index of referrer descriptors."""
    return _go_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})


def describe(image: Image) -> dict[str, Any]:
    """A referrer's descriptor as the referrers API lists it (with `artifactType`)."""
    return image.descriptor()


__all__ = [
    "COSIGN_TYPE",
    "SIGNATURE_ANNOTATION",
    "SIG_ARTIFACT_TYPE",
    "SIMPLE_SIGNING",
    "KeyPair",
    "Signature",
    "generate",
    "payload",
    "push_referrer",
    "push_signature",
    "referrers_index",
    "signature_image",
    "signature_tag",
]
