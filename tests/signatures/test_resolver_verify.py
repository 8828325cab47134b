"""`Resolver(verify=...)`, the lock and the CLI, as users call them, on a real registry.

A key pair per test; images signed in cosign's format by `tests/support/cosign.py`. What is
checked: a digest is pinned only when its signature verifies; the lock records the signature
and the key; a digest from the lock (mode locked) is accepted only when that record verifies
again, offline, with the same key; `check` verifies again and fails on a signature gone bad.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from image_digest import LockFile, PinError, Resolver, ResolverOptions
from image_digest.cli import main
from image_digest.entry_options import resolver_options
from image_digest.signatures import (
    BadSignatureError,
    InvalidKeyError,
    SignatureError,
    UnsignedImageError,
    key_from_pem,
)
from tests.support import cosign
from tests.support.images import Image, build_image
from tests.support.registry import RegistryServer


@pytest.fixture
def keys() -> cosign.KeyPair:
    return cosign.generate()


@pytest.fixture
def key_file(tmp_path: Path, keys: cosign.KeyPair) -> Path:
    path = tmp_path / "cosign.pub"
    path.write_bytes(keys.public_pem)
    return path


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "image-digest.lock"


@pytest.fixture
def signed(
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    keys: cosign.KeyPair,
) -> Callable[[str], tuple[str, Image]]:
    """Push an image under `tag` and sign it with `keys`; returns its reference and image."""

    def push_and_sign(tag: str) -> tuple[str, Image]:
        image = make_image()
        registry.push(unique_repo, tag, image)
        name = f"{registry.host}/{unique_repo}"
        signature = cosign.Signature.make(keys, name, image.digest)
        cosign.push_signature(registry.client(unique_repo), image.digest, [signature])
        return f"{name}:{tag}", image

    return push_and_sign


def test_a_signed_tag_is_pinned_and_the_lock_records_signature_and_key(
    signed: Callable[[str], tuple[str, Image]], key_file: Path, lock_path: Path
) -> None:
    ref, image = signed("v1")
    fingerprint = key_from_pem(key_file.read_bytes()).fingerprint
    with Resolver(verify=str(key_file), lock=lock_path) as resolver:
        resolved = resolver.resolve(ref)
    assert resolved.digest == image.digest
    assert resolved.verified_by == fingerprint
    assert resolved.as_dict()["verified_by"] == fingerprint
    entry = LockFile(lock_path).get(ref, None)
    assert entry is not None and entry.signature is not None
    assert entry.signature["key"] == fingerprint
    payload = json.loads(base64.b64decode(entry.signature["payload"]))
    assert payload["critical"]["image"]["docker-manifest-digest"] == image.digest


def test_an_unsigned_tag_is_refused_and_nothing_is_locked(
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
    lock_path: Path,
) -> None:
    image = make_image()
    registry.push(unique_repo, "v1", image)
    ref = f"{registry.host}/{unique_repo}:v1"
    with (
        Resolver(verify=key_file, lock=lock_path) as resolver,
        pytest.raises(UnsignedImageError) as caught,
    ):
        resolver.resolve(ref)
    assert ref in str(caught.value) and image.digest in str(caught.value)
    assert not lock_path.exists()


def test_a_digest_written_in_the_program_is_verified_too(
    signed: Callable[[str], tuple[str, Image]],
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
) -> None:
    ref, image = signed("v1")
    other = make_image()
    registry.push(unique_repo, "v2", other)
    name = ref.rsplit(":", 1)[0]
    with Resolver(verify=key_file, lock="") as resolver:
        assert resolver.resolve(f"{name}@{image.digest}").source == "reference"
        with pytest.raises(UnsignedImageError):
            resolver.resolve(f"{name}@{other.digest}")


def test_locked_mode_accepts_only_a_recorded_signature_that_verifies_offline(
    signed: Callable[[str], tuple[str, Image]],
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
    lock_path: Path,
) -> None:
    ref, image = signed("v1")
    unsigned = make_image()
    registry.push(unique_repo, "plain", unsigned)
    plain = f"{registry.host}/{unique_repo}:plain"
    with Resolver(verify=key_file, lock=lock_path) as resolver:
        resolver.resolve(ref)
    with Resolver(lock=lock_path) as resolver:  # locked once without verification
        resolver.resolve(plain)

    with Resolver(verify=key_file, lock=lock_path, mode="locked") as offline:
        assert offline.resolve(ref).verified_by is not None
        with pytest.raises(UnsignedImageError, match="records no signature"):
            offline.resolve(plain)
        assert offline.request_count() == 0

    other_key = tmp_key(lock_path.parent, cosign.generate())
    with (
        Resolver(verify=other_key, lock=lock_path, mode="locked") as offline,
        pytest.raises(UnsignedImageError, match="records a signature by key"),
    ):
        offline.resolve(ref)

    document = json.loads(lock_path.read_text())
    for item in document["images"]:
        if item["reference"] == ref:
            forged = base64.b64decode(item["signature"]["payload"]).replace(
                image.digest.encode(), unsigned.digest.encode()
            )
            item["digest"] = unsigned.digest
            item["signature"]["payload"] = base64.b64encode(forged).decode()
    lock_path.write_text(json.dumps(document))
    with (
        Resolver(verify=key_file, lock=lock_path, mode="locked") as offline,
        pytest.raises(BadSignatureError),
    ):
        offline.resolve(ref)  # a hand-edited digest and payload do not verify


def tmp_key(directory: Path, keys: cosign.KeyPair) -> Path:
    path = directory / "other.pub"
    path.write_bytes(keys.public_pem)
    return path


def test_the_lock_settings_name_the_key(
    signed: Callable[[str], tuple[str, Image]],
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
    lock_path: Path,
) -> None:
    ref, _ = signed("v1")
    unsigned = make_image()
    registry.push(unique_repo, "plain", unsigned)
    lock_path.write_text(
        json.dumps(
            {
                "format": "image-digest.lock/v1",
                "images": [],
                "settings": {"verify_key": key_file.name},
            }
        )
    )
    with Resolver(lock=lock_path) as resolver:
        assert resolver.resolve(ref).verified_by is not None
        with pytest.raises(SignatureError):
            resolver.resolve(f"{registry.host}/{unique_repo}:plain")
    assert json.loads(lock_path.read_text())["settings"] == {"verify_key": key_file.name}


def test_a_bad_key_fails_when_the_resolver_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "absent.pub"
    with pytest.raises(InvalidKeyError, match=r"absent\.pub"):
        Resolver(verify=missing)
    private = tmp_path / "cosign.key"
    private.write_text("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n")
    with pytest.raises(InvalidKeyError, match="private key") as caught:
        Resolver(verify=private)
    assert "AAAA" not in str(caught.value)


def test_resolver_options_carry_the_key_to_the_resolver_they_build(
    signed: Callable[[str], tuple[str, Image]], key_file: Path
) -> None:
    ref, _ = signed("v1")
    options = resolver_options(verify=key_file, lock="")
    assert options.given() == ["lock", "verify"]
    with options.build() as resolver:
        assert resolver.resolve(ref).verified_by is not None


def test_cli_lock_verifies_and_check_verifies_again(
    signed: Callable[[str], tuple[str, Image]],
    registry: RegistryServer,
    unique_repo: str,
    key_file: Path,
    lock_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref, image = signed("v1")
    lock = ["--lock", str(lock_path)]
    assert main(["lock", *lock, "--verify-key", str(key_file), ref]) == 0
    assert LockFile(lock_path).get(ref, None).signature is not None  # type: ignore[union-attr]
    assert main(["check", *lock, "--verify-key", str(key_file)]) == 0
    capsys.readouterr()

    assert main(["check", *lock]) == 2  # signatures recorded, no key to verify them with
    assert "--verify-key" in capsys.readouterr().err

    # The signature is replaced by one from another key (a compromised pipeline re-signing).
    intruder = cosign.Signature.make(cosign.generate(), ref.rsplit(":", 1)[0], image.digest)
    cosign.push_signature(registry.client(unique_repo), image.digest, [intruder])
    assert main(["check", *lock, "--verify-key", str(key_file), "--json"]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert [f["status"] for f in findings] == ["unverified"]
    assert "bad signature" in findings[0]["note"]


def test_cli_resolve_refuses_an_unsigned_image(
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = make_image()
    registry.push(unique_repo, "v1", image)
    ref = f"{registry.host}/{unique_repo}:v1"
    assert main(["resolve", "--verify-key", str(key_file), ref]) == 1
    err = capsys.readouterr().err
    assert image.digest in err and "no signature" in err


def test_a_pin_error_names_the_image_the_digest_and_why(
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
) -> None:
    """What every adapter raises: a `PinError` whose cause is the `SignatureError`."""
    image = make_image()
    registry.push(unique_repo, "v1", image)
    ref = f"{registry.host}/{unique_repo}:v1"
    with Resolver(verify=key_file, lock="") as resolver:
        try:
            resolver.resolve(ref)
        except SignatureError as error:
            pin_error = PinError.at("my-stack/web", ref, error)
    message = str(pin_error)
    assert "my-stack/web" in message and ref in message and image.digest in message
    assert "UnsignedImageError" in message and "refusing to deploy by tag" in message


def test_fallback_uses_only_a_locked_digest_whose_recorded_signature_verifies(
    tmp_path: Path, key_file: Path, keys: cosign.KeyPair, lock_path: Path
) -> None:
    """The registry goes down: a signed entry is still pinned (its record verifies offline,
    with a warning), an entry locked without a signature is refused, not pinned unverified."""
    with RegistryServer("plain") as own:
        name = f"{own.host}/app"
        signed_image, plain_image = build_image("fallback signed"), build_image("fallback plain")
        own.push("app", "signed", signed_image)
        own.push("app", "plain", plain_image)
        signature = cosign.Signature.make(keys, name, signed_image.digest)
        cosign.push_signature(own.client("app"), signed_image.digest, [signature])
        with Resolver(verify=key_file, lock=lock_path) as resolver:
            resolver.resolve(f"{name}:signed")
        with Resolver(lock=lock_path) as resolver:
            resolver.resolve(f"{name}:plain")
        own.stop()
        with Resolver(verify=key_file, lock=lock_path, mode="fallback", retries=0) as resolver:
            kept = resolver.resolve(f"{name}:signed")
            assert (kept.source, kept.digest) == ("lock", signed_image.digest)
            assert kept.warning is not None and kept.verified_by is not None
            with pytest.raises(UnsignedImageError, match="records no signature"):
                resolver.resolve(f"{name}:plain")


def test_the_pulumi_provider_keeps_the_key_in_its_options(
    signed: Callable[[str], tuple[str, Image]], key_file: Path
) -> None:
    """`DigestImage`'s provider is pickled into state with the options it resolves with."""
    import pickle

    from pulumi_digest.provider import DigestImageProvider

    ref, _ = signed("v1")
    provider = DigestImageProvider.configured(resolver_options(verify=key_file, lock=""))
    restored = pickle.loads(pickle.dumps(provider))
    assert restored._options().verify == str(key_file)
    assert restored._resolve(ref, None).verified_by is not None


def test_verifying_a_cosign_signed_tag_costs_two_requests(
    signed: Callable[[str], tuple[str, Image]], key_file: Path
) -> None:
    """The `.sig` tag and its payload blob; the referrers are asked only when it fails."""
    ref, _ = signed("v1")
    with Resolver(lock="") as plain:
        plain.resolve(ref)
        baseline = plain.request_count()
    with Resolver(verify=key_file, lock="") as verifying:
        verifying.resolve(ref)
        assert verifying.request_count() == baseline + 2


def test_terraform_external_data_source_verifies_with_verify_key(
    signed: Callable[[str], tuple[str, Image]],
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    ref, image = signed("v1")
    unsigned = make_image()
    registry.push(unique_repo, "plain", unsigned)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"image": ref})))
    assert main(["external", "--verify-key", str(key_file)]) == 0
    assert json.loads(capsys.readouterr().out)["digest"] == image.digest
    query = json.dumps({"image": f"{registry.host}/{unique_repo}:plain"})
    monkeypatch.setattr("sys.stdin", io.StringIO(query))
    assert main(["external", "--verify-key", str(key_file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and unsigned.digest in captured.err


def test_a_token_registry_serves_signatures_to_the_same_credentials(
    token_registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    keys: cosign.KeyPair,
    key_file: Path,
) -> None:
    """Bearer auth: the `.sig` tag and payload are read with the repository's pull token, and
    no credential reaches an error."""
    image, unsigned = make_image(), make_image()
    token_registry.push(unique_repo, "v1", image)
    token_registry.push(unique_repo, "plain", unsigned)
    name = f"{token_registry.host}/{unique_repo}"
    signature = cosign.Signature.make(keys, name, image.digest)
    cosign.push_signature(token_registry.client(unique_repo), image.digest, [signature])
    assert token_registry.credentials is not None
    credentials = {token_registry.host: token_registry.credentials}
    with Resolver(verify=key_file, lock="", credentials=credentials) as resolver:
        assert resolver.resolve(f"{name}:v1").verified_by is not None
        with pytest.raises(UnsignedImageError) as caught:
            resolver.resolve(f"{name}:plain")
    assert token_registry.password not in str(caught.value)


def test_the_cdktf_pin_verifies_through_its_options(
    signed: Callable[[str], tuple[str, Image]],
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
    lock_path: Path,
) -> None:
    from cdktf_digest import pin

    ref, image = signed("v1")
    assert pin(ref, verify=key_file, lock=lock_path).endswith(f"@{image.digest}")
    assert LockFile(lock_path).get(ref, None).signature is not None  # type: ignore[union-attr]
    unsigned = make_image()
    registry.push(unique_repo, "v2", unsigned)
    other = f"{registry.host}/{unique_repo}:v2"
    options = ResolverOptions(verify=str(key_file), lock=str(lock_path))
    with pytest.raises(PinError) as caught:
        pin(other, options=options)
    assert isinstance(caught.value.errors[other], UnsignedImageError)
    assert LockFile(lock_path).get(other, None) is None


def test_post_render_takes_verify_key_from_the_shared_options(
    registry: RegistryServer,
    unique_repo: str,
    make_image: Callable[..., Image],
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = make_image()
    registry.push(unique_repo, "v1", image)
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n"
        f"  - name: app\n    image: {registry.host}/{unique_repo}:v1\n"
    )
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(manifest.encode())))
    assert main(["post-render", "--verify-key", str(key_file)]) == 1
    captured = capsys.readouterr()
    assert "no cosign signature" in captured.err and captured.out == ""


def test_check_verifies_without_writing_the_lock(
    signed: Callable[[str], tuple[str, Image]], key_file: Path, lock_path: Path
) -> None:
    ref, _ = signed("v1")
    assert main(["lock", "--lock", str(lock_path), "--verify-key", str(key_file), ref]) == 0
    written = lock_path.read_bytes()
    stat = lock_path.stat()
    with Resolver(verify=key_file, lock=lock_path, mode="resolve") as resolver:
        findings = resolver.check()
    assert [f.status for f in findings] == ["unchanged"]
    assert main(["check", "--lock", str(lock_path), "--verify-key", str(key_file)]) == 0
    assert lock_path.read_bytes() == written
    assert lock_path.stat().st_mtime_ns == stat.st_mtime_ns
