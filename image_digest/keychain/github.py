"""GitHub Container Registry: `GITHUB_TOKEN` (else `GH_TOKEN`) for `ghcr.io`.

GitHub Actions and the `gh` CLI put a token in these variables; GHCR takes any user name
with it (`x-access-token` here). Set `IMAGE_DIGEST_NO_GITHUB_TOKEN=1` to keep the token away
from ghcr.io (then ghcr.io is tried anonymously unless the docker config knows it).
"""

from __future__ import annotations

import os

from image_digest.keychain.credentials import Basic, Credential

GHCR_HOST = "ghcr.io"
GITHUB_USERNAME = "x-access-token"
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
OPT_OUT_VARIABLE = "IMAGE_DIGEST_NO_GITHUB_TOKEN"


def _opted_out() -> bool:
    return os.environ.get(OPT_OUT_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


class GitHubTokenKeychain:
    """The GitHub token in the environment, for ghcr.io only."""

    label = f"GITHUB_TOKEN / GH_TOKEN (for ghcr.io; {OPT_OUT_VARIABLE}=1 turns it off)"

    def __init__(self) -> None:
        self._variable: str | None = None

    def source_for(self, registry: str) -> str | None:
        if registry != GHCR_HOST or self._variable is None:
            return None
        opt_out = f"set {OPT_OUT_VARIABLE}=1 to not send it"
        return f"the {self._variable} environment variable for ghcr.io ({opt_out})"

    def credentials_for(self, registry: str) -> Credential | None:
        if registry != GHCR_HOST or _opted_out():
            return None
        for name in TOKEN_VARIABLES:
            token = os.environ.get(name, "").strip()
            if token:
                self._variable = name
                return Basic(GITHUB_USERNAME, token)
        return None

    def __repr__(self) -> str:
        return "GitHubTokenKeychain()"
