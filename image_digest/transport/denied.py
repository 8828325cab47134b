"""An authorization refusal (HTTP 401/403) in words a user can act on.

Docker Hub, GHCR, gcr.io, Artifact Registry and Quay answer 401 or 403, not 404, for a
repository that does not exist, so as not to reveal which private repositories do. So the
message cannot say which it is; it says both, names the credentials that were used (never
their secret) and the command that logs in to that registry.
"""

from __future__ import annotations

from image_digest.errors import AuthenticationError
from image_digest.keychain.login import login_command


def registry_said(code: str | None, message: str) -> str:
    """`CODE: message` from already redacted and escaped parts, or '' when there are none."""
    if code is None:
        return ""
    return ": ".join(part for part in (code, message) if part)


def access_denied(
    *,
    who: str,
    status: int,
    reference: str,
    registry: str,
    repositories: str | None,
    source: str,
    said: str = "",
) -> AuthenticationError:
    """The error for `who` (e.g. `registry gcr.io`) answering `status` for `reference`.

    `source` says which credentials were sent (see `keychain.source`); `said` is the
    registry's own error text, already redacted, escaped and shortened.
    """
    what = f"repository {repositories}" if repositories else "the repository"
    said_part = f"; it said '{said}'" if said else ""
    return AuthenticationError(
        f"{who} answered HTTP {status} for {reference}: {what} does not exist, or your "
        "credentials cannot see it (registries answer the same for both, to hide private "
        f"repositories){said_part}; credentials used: {source}; to log in, run: "
        f"{login_command(registry)}",
        reference=reference,
        registry=registry,
    )
