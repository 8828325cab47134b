"""The lock's `signature` per entry and its `settings`: recorded, kept, and checked on read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from image_digest import LockError, LockFile
from image_digest.pinning.lockfile import LockPin
from image_digest.pinning.verify_key import verification_key

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
REF = "registry.example/team/app:1.0"
SIGNED = {"key": "sha256:" + "c" * 64, "payload": "cGF5bG9hZA==", "signature": "c2ln"}


def _pin(digest: str = DIGEST, signature: dict[str, str] | None = None) -> LockPin:
    return LockPin(REF, None, digest, None, signature=signature)


def test_a_signature_is_recorded_and_read_back(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "image-digest.lock")
    assert lock.record([_pin(signature=SIGNED)])
    document = json.loads(lock.path.read_text())
    assert document["images"][0]["signature"] == SIGNED
    entry = LockFile(lock.path).get(REF, None)
    assert entry is not None and entry.signature == SIGNED


def test_the_same_digest_by_the_same_key_changes_nothing_and_no_signature_drops_none(
    tmp_path: Path,
) -> None:
    lock = LockFile(tmp_path / "image-digest.lock")
    lock.record([_pin(signature=SIGNED)])
    resigned = {**SIGNED, "signature": "bmV3"}
    assert not lock.record([_pin(signature=resigned)])  # re-signing is no noise
    assert not lock.record([_pin()])  # resolving without verify keeps the record
    other_key = {**SIGNED, "key": "sha256:" + "d" * 64}
    assert lock.record([_pin(signature=other_key)])
    assert LockFile(lock.path).get(REF, None).signature == other_key  # type: ignore[union-attr]
    assert lock.record([_pin(OTHER)])  # a new digest carries only its own signature
    assert LockFile(lock.path).get(REF, None).signature is None  # type: ignore[union-attr]


def test_settings_are_read_and_kept_on_every_write(tmp_path: Path) -> None:
    path = tmp_path / "image-digest.lock"
    settings = {"verify_key": "keys/cosign.pub", "someone_elses": {"x": 1}}
    path.write_text(
        json.dumps({"format": "image-digest.lock/v1", "images": [], "settings": settings})
    )
    lock = LockFile(path)
    assert lock.settings() == settings
    lock.record([_pin()])
    assert json.loads(path.read_text())["settings"] == settings


def test_a_malformed_verify_key_is_an_error_where_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "image-digest.lock"
    document = {"format": "image-digest.lock/v1", "images": [], "settings": {"verify_key": 3}}
    text = json.dumps(document)
    path.write_text(text)
    lock = LockFile(path)
    assert lock.settings() == {"verify_key": 3}  # the lock keeps settings as written
    with pytest.raises(LockError, match='"verify_key" must be the path'):
        verification_key(None, lock)
    assert path.read_text() == text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("signature", {"key": "sha256:x"}, "'signature' must be an object of strings"),
        ("settings", ["verify_key"], '"settings" must be an object'),
    ],
)
def test_a_malformed_signature_or_settings_is_an_error_and_the_file_untouched(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    path = tmp_path / "image-digest.lock"
    image = {"reference": REF, "digest": DIGEST}
    document: dict[str, object] = {"format": "image-digest.lock/v1", "images": [image]}
    if field == "signature":
        image["signature"] = value  # type: ignore[assignment]
    else:
        document["settings"] = value
    text = json.dumps(document)
    path.write_text(text)
    with pytest.raises(LockError, match=message):
        LockFile(path).record([_pin(OTHER)])
    assert path.read_text() == text
