"""Run a docker credential helper (`docker-credential-<name> get`) by its stdin/stdout protocol."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from image_digest.errors import AuthenticationError
from image_digest.keychain.credentials import Basic, Credential, IdentityToken

if TYPE_CHECKING:
    import subprocess

HELPER_TIMEOUT_SECONDS = 30.0
_NOT_FOUND_MARKER = "credentials not found"


def helper_credentials(helper: str, server_url: str, *, registry: str) -> Credential | None:
    """Ask `docker-credential-<helper>` for `server_url`; None when it has no entry.

    Errors name the helper and the registry, never the helper's output (it may hold a secret),
    and are raised outside `except` blocks, so no inner exception holding that output (a
    JSONDecodeError's `doc`, a TimeoutExpired's `output`) rides along as their context.
    """
    import shutil  # with subprocess, only for configs that name a helper

    program = f"docker-credential-{helper}"
    path = shutil.which(program)
    if path is None:
        raise AuthenticationError(
            f"docker config names credential helper {program!r} for {registry}, but it is not on "
            "PATH: install it, or remove it from credHelpers/credsStore in your docker config",
            registry=registry,
        )
    done = _run(path, server_url)
    if done is None:
        raise AuthenticationError(
            f"credential helper {program} did not answer for {registry} within "
            f"{HELPER_TIMEOUT_SECONDS:.0f} s",
            registry=registry,
        )
    if done.returncode != 0:
        if _NOT_FOUND_MARKER in (done.stdout + done.stderr).decode(errors="replace").lower():
            return None
        raise AuthenticationError(
            f"credential helper {program} failed for {registry} with exit code {done.returncode}",
            registry=registry,
        )
    answer = _parse(done.stdout)
    if answer is None:
        raise AuthenticationError(
            f"credential helper {program} returned an answer for {registry} that is not the "
            'JSON object {"Username": ..., "Secret": ...} the protocol requires',
            registry=registry,
        )
    username, secret = answer
    if not secret:
        return None
    return IdentityToken(secret) if username == "<token>" else Basic(username, secret)


def _run(path: str, server_url: str) -> subprocess.CompletedProcess[bytes] | None:
    import subprocess

    try:
        return subprocess.run(
            [path, "get"],
            input=server_url.encode(),
            capture_output=True,
            timeout=HELPER_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None


def _parse(stdout: bytes) -> tuple[str, str] | None:
    """`(Username, Secret)` from a helper's answer, or None when it is not the protocol's."""
    try:
        answer = json.loads(stdout)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict):
        return None
    username, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str):
        return None
    return username, secret
