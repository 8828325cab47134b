"""The format, held to real cosign signatures kept in `fixtures/cosign-real.json`.

- `docker_hub`: a `.sig` manifest and config blob that cosign 1.13.1 pushed to Docker Hub
  (from a recorded HTTP trace; the origin is cited in the fixture). The test signer rebuilds
  them byte for byte, so its layout is cosign's; the library reads the real manifest from a
  real registry and finds its payload.
- `sigstore_rs`: a payload, signature and public key from sigstore-rs's test suite; the
  library verifies it, and refuses it with another key, an altered payload, or for an image
  under another name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from image_digest.keychain import default_keychain
from image_digest.names.reference import parse
from image_digest.registry.client import RegistryClient
from image_digest.signatures import (
    BadSignatureError,
    OtherIdentityError,
    judge,
    key_from_pem,
)
from image_digest.signatures.locate import candidates
from image_digest.signatures.payload import claims_of
from image_digest.signatures.verify import Candidate
from image_digest.transport import Deadline, RegistryTransport, TransportOptions
from tests.support import cosign
from tests.support.images import OCI_MANIFEST
from tests.support.push import push_blob, push_manifest
from tests.support.registry import RegistryServer

REAL = json.loads((Path(__file__).parent / "fixtures" / "cosign-real.json").read_text())


def _client(registry: RegistryServer) -> RegistryClient:
    transport = RegistryTransport(
        registry.host, registry.host, default_keychain(None), TransportOptions()
    )
    return RegistryClient(transport)


def test_the_signer_rebuilds_a_real_cosign_signature_manifest_byte_for_byte() -> None:
    real: dict[str, Any] = REAL["docker_hub"]
    rebuilt_payload = cosign.payload(real["image"], real["image_digest"])
    assert len(rebuilt_payload) == real["payload_size"]
    assert "sha256:" + hashlib.sha256(rebuilt_payload).hexdigest() == real["payload_digest"]
    annotation = json.loads(real["manifest"])["layers"][0]["annotations"][
        cosign.SIGNATURE_ANNOTATION
    ]
    image = cosign.signature_image(
        [cosign.Signature(rebuilt_payload, annotation)], created=real["created"]
    )
    assert image.manifest == real["manifest"].encode()
    assert image.digest == real["manifest_digest"]
    assert image.blobs[image.config_digest] == real["config"].encode()
    assert cosign.signature_tag(real["image_digest"]) == real["signature_tag"]


def test_the_library_reads_the_real_signature_manifest_from_a_real_registry(
    registry: RegistryServer, unique_repo: str
) -> None:
    real = REAL["docker_hub"]
    payload = cosign.payload(real["image"], real["image_digest"])
    client = registry.client(unique_repo)
    push_blob(client, real["payload_digest"], payload)
    config = real["config"].encode()
    push_blob(client, "sha256:" + hashlib.sha256(config).hexdigest(), config)
    stored = push_manifest(client, real["signature_tag"], real["manifest"].encode(), OCI_MANIFEST)
    assert stored == real["manifest_digest"]
    with Deadline(30) as deadline:
        found = candidates(
            _client(registry), "fixture", unique_repo, real["image_digest"], deadline
        )
    assert [c.payload for c in found] == [payload]
    assert found[0].where == f"tag {real['signature_tag']}"
    claims = claims_of(found[0].payload)
    assert claims is not None
    assert (claims.identity, claims.digest) == (real["image"], real["image_digest"])
    assert claims.type == cosign.COSIGN_TYPE


def _real_candidate(payload: bytes | None = None) -> Candidate:
    real = REAL["sigstore_rs"]
    data = payload if payload is not None else real["payload"].encode()
    return Candidate(data, base64.b64decode(real["signature"]), real["signature"], "fixture")


def test_a_real_cosign_signature_verifies_with_its_public_key() -> None:
    real = REAL["sigstore_rs"]
    key = key_from_pem(real["public_key"].encode(), "sigstore-rs test key")
    assert key.algorithm == "ecdsa-p256-sha256"
    verified = judge(
        [_real_candidate()], key, parse(real["image"]), real["image"], real["image_digest"]
    )
    assert verified.digest == real["image_digest"]
    assert verified.identity == real["image"]
    assert verified.key == key.fingerprint
    # The payload is exactly what the test signer writes for that image and digest.
    assert cosign.payload(real["image"], real["image_digest"]) == real["payload"].encode()


def test_a_real_signature_is_refused_with_another_key() -> None:
    real = REAL["sigstore_rs"]
    other = key_from_pem(real["other_public_key"].encode(), "other.pub")
    with pytest.raises(BadSignatureError, match="none verifies with key sha256:") as caught:
        judge([_real_candidate()], other, parse(real["image"]), real["image"], real["image_digest"])
    assert caught.value.digest == real["image_digest"]
    assert caught.value.reason == "bad_signature"


def test_a_real_signature_over_an_altered_payload_is_refused() -> None:
    real = REAL["sigstore_rs"]
    key = key_from_pem(real["public_key"].encode())
    tampered = real["payload"].replace("busybox", "busyb0x").encode()
    with pytest.raises(BadSignatureError):
        judge([_real_candidate(tampered)], key, parse(real["image"]), "x", real["image_digest"])


def test_a_real_signature_does_not_vouch_for_an_image_under_another_name() -> None:
    real = REAL["sigstore_rs"]
    key = key_from_pem(real["public_key"].encode())
    with pytest.raises(OtherIdentityError, match=re.escape("registry-testing.svc.lan/busybox")):
        judge(
            [_real_candidate()],
            key,
            parse("registry-testing.svc.lan/evil"),
            "registry-testing.svc.lan/evil",
            real["image_digest"],
        )
