"""Cosign signatures on a real registry: the verifier reads what a cosign-format signer stored.

Key pairs are generated per test; `tests/support/cosign.py` signs and pushes as cosign does
(its layout is held to a real cosign signature in `test_cosign_fixture.py`). Each case is one
way a digest must be refused, or accepted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
import requests

from image_digest.keychain import default_keychain
from image_digest.names.reference import parse
from image_digest.registry.client import RegistryClient
from image_digest.signatures import (
    BadSignatureError,
    OtherDigestError,
    OtherIdentityError,
    UnsignedImageError,
    Verification,
    key_from_pem,
    verify_digest,
)
from image_digest.transport import Deadline, RegistryTransport, TransportOptions
from tests.support import cosign
from tests.support.edge import Edge
from tests.support.images import Image
from tests.support.push import RegistryClient as PushClient
from tests.support.push import push as push_to
from tests.support.referrers import ReferrersFront
from tests.support.registry import RegistryServer


def _verify(host: str, name: str, digest: str, keys: cosign.KeyPair) -> Verification:
    transport = RegistryTransport(host, host, default_keychain(None), TransportOptions())
    try:
        with Deadline(30) as deadline:
            return verify_digest(
                RegistryClient(transport),
                parse(name),
                name,
                digest,
                key_from_pem(keys.public_pem, "cosign.pub"),
                deadline,
            )
    finally:
        transport.close()


@pytest.fixture
def pushed(
    registry: RegistryServer, unique_repo: str, make_image: Callable[..., Image]
) -> tuple[str, Image]:
    """An image pushed as `<registry>/<repo>:v1`; returns its name and the image."""
    image = make_image()
    registry.push(unique_repo, "v1", image)
    return f"{registry.host}/{unique_repo}", image


@pytest.mark.parametrize("kind", ["ecdsa", "rsa", "ed25519"])
def test_a_signature_by_the_key_verifies(
    registry: RegistryServer, unique_repo: str, pushed: tuple[str, Image], kind: str
) -> None:
    name, image = pushed
    keys = cosign.generate(kind)
    signature = cosign.Signature.make(keys, name, image.digest)
    cosign.push_signature(registry.client(unique_repo), image.digest, [signature])
    verified = _verify(registry.host, f"{name}:v1", image.digest, keys)
    assert verified.digest == image.digest
    assert verified.identity == name
    assert verified.where == f"tag {cosign.signature_tag(image.digest)}"
    assert verified.payload == signature.payload


def test_an_unsigned_image_is_refused_naming_it_and_its_digest(
    registry: RegistryServer, pushed: tuple[str, Image]
) -> None:
    name, image = pushed
    with pytest.raises(UnsignedImageError) as caught:
        _verify(registry.host, f"{name}:v1", image.digest, cosign.generate())
    message = str(caught.value)
    assert f"{name}:v1" in message and image.digest in message and "no signature" in message
    assert caught.value.reason == "unsigned"


def test_a_signature_for_another_digest_is_refused(
    registry: RegistryServer,
    unique_repo: str,
    pushed: tuple[str, Image],
    make_image: Callable[..., Image],
) -> None:
    """The signature of an older build, copied under the new digest's `.sig` tag."""
    name, image = pushed
    older = make_image()
    registry.push(unique_repo, "old", older)
    keys = cosign.generate()
    stale = cosign.Signature.make(keys, name, older.digest)
    cosign.push_signature(registry.client(unique_repo), image.digest, [stale])
    with pytest.raises(OtherDigestError, match=older.digest) as caught:
        _verify(registry.host, f"{name}:v1", image.digest, keys)
    assert caught.value.digest == image.digest
    assert "other digest" in str(caught.value)


def test_a_signature_naming_another_repository_is_refused(
    registry: RegistryServer, unique_repo: str, pushed: tuple[str, Image]
) -> None:
    """Signed (same digest, same key) for another repository the content was also pushed to."""
    name, image = pushed
    keys = cosign.generate()
    elsewhere = cosign.Signature.make(keys, f"{registry.host}/other/app", image.digest)
    cosign.push_signature(registry.client(unique_repo), image.digest, [elsewhere])
    with pytest.raises(OtherIdentityError, match="other/app") as caught:
        _verify(registry.host, f"{name}:v1", image.digest, keys)
    assert "other identity" in str(caught.value)


def test_a_signature_by_another_key_is_refused(
    registry: RegistryServer, unique_repo: str, pushed: tuple[str, Image]
) -> None:
    name, image = pushed
    signer, trusted = cosign.generate(), cosign.generate()
    signature = cosign.Signature.make(signer, name, image.digest)
    cosign.push_signature(registry.client(unique_repo), image.digest, [signature])
    with pytest.raises(BadSignatureError, match="bad signature") as caught:
        _verify(registry.host, f"{name}:v1", image.digest, trusted)
    assert caught.value.key == key_from_pem(trusted.public_pem).fingerprint


def test_a_tampered_payload_is_refused(
    registry: RegistryServer, unique_repo: str, pushed: tuple[str, Image]
) -> None:
    """The payload blob altered after signing (the annotation kept): the bytes no longer
    match the signature, even though the claims now name what the attacker wants."""
    name, image = pushed
    keys = cosign.generate()
    honest = cosign.Signature.make(keys, name, image.digest)
    altered = honest.payload.replace(b'"optional":null', b'"optional":{"evil":"yes"}')
    assert altered != honest.payload
    tampered = dataclasses.replace(honest, payload=altered)
    cosign.push_signature(registry.client(unique_repo), image.digest, [tampered])
    with pytest.raises(BadSignatureError):
        _verify(registry.host, f"{name}:v1", image.digest, keys)


def test_one_good_signature_among_others_is_enough(
    registry: RegistryServer, unique_repo: str, pushed: tuple[str, Image]
) -> None:
    """cosign appends layers to the `.sig` image: other keys' signatures do not matter."""
    name, image = pushed
    keys = cosign.generate()
    others = [cosign.Signature.make(cosign.generate(), name, image.digest) for _ in range(2)]
    mine = cosign.Signature.make(keys, name, image.digest)
    cosign.push_signature(registry.client(unique_repo), image.digest, [*others, mine])
    assert _verify(registry.host, f"{name}:v1", image.digest, keys).payload == mine.payload


def test_a_referrer_in_the_tag_schema_of_a_registry_without_the_api(
    registry: RegistryServer, unique_repo: str, pushed: tuple[str, Image]
) -> None:
    """distribution 2.8 has no referrers API (404): the `sha256-<hex>` index stands in."""
    name, image = pushed
    keys = cosign.generate()
    signature = cosign.Signature.make(keys, name, image.digest)
    referrer = cosign.push_referrer(registry.client(unique_repo), image, [signature])
    client = registry.client(unique_repo)
    assert client.request("GET", client.url(f"referrers/{image.digest}")).status_code == 404
    verified = _verify(registry.host, f"{name}:v1", image.digest, keys)
    assert verified.where == f"referrer {referrer.digest}"


def test_a_referrer_through_the_referrers_api(
    registry: RegistryServer, unique_repo: str, make_image: Callable[..., Image]
) -> None:
    """On a registry that serves `GET /v2/<repo>/referrers/<digest>` (emulated in front of
    the real one), a signature stored only as a referrer verifies; one for another digest,
    listed under this one's referrers, does not count."""
    front = ReferrersFront(registry.url)
    with Edge({"127.0.0.1": front.handler()}) as edge:
        host = f"127.0.0.1:{edge.port}"
        name = f"{host}/{unique_repo}"
        image, other = make_image(), make_image()
        push_to(f"http://{host}", unique_repo, "v1", image)
        push_to(f"http://{host}", unique_repo, "v2", other)
        keys = cosign.generate()
        client = PushClient(f"http://{host}", unique_repo, requests.Session(), None)
        unsigned_first = front.asked
        with pytest.raises(UnsignedImageError):
            _verify(host, f"{name}:v1", image.digest, keys)
        assert front.asked == unsigned_first + 1
        signature = cosign.Signature.make(keys, name, image.digest)
        referrer = cosign.push_referrer(client, image, [signature], tag_schema=False)
        verified = _verify(host, f"{name}:v1", image.digest, keys)
        assert verified.where == f"referrer {referrer.digest}"
        with pytest.raises(UnsignedImageError):
            _verify(host, f"{name}:v2", other.digest, keys)
