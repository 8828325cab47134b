"""Which key a resolver verifies with: the one it was given, else the lock's `verify_key`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from image_digest.errors import LockError
from image_digest.signatures.keys import VerificationKey, load_key

if TYPE_CHECKING:
    from image_digest.pinning.lockfile import LockFile

#: What `Resolver(verify=...)` takes: a PEM public key's path, or a loaded key.
VerifyOption = str | os.PathLike[str] | VerificationKey | None


def verification_key(verify: VerifyOption, lock: LockFile | None) -> VerificationKey | None:
    """`verify` loaded; when None, the key the lock's `settings.verify_key` names (relative to
    the lock's directory); None when neither asks for verification."""
    if isinstance(verify, VerificationKey):
        return verify
    if verify is not None:
        return load_key(verify)
    if lock is None:
        return None
    path = lock.settings().get("verify_key")
    if path is None:
        return None
    if not isinstance(path, str) or not path:
        raise LockError(
            f'lock file {lock.path}: settings "verify_key" must be the path of a PEM public key '
            f"(relative to the lock's directory), not {path!r}"
        )
    return load_key(lock.path.parent / path)
