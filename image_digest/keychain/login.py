"""The command that logs a user in to a registry, by host: what an authorization error says
to run. Cloud registries have their own login tools; anything else takes `docker login`."""

from __future__ import annotations

import re

from image_digest.keychain.google import is_google_registry

_ECR = re.compile(r"[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
_ACR = re.compile(r"([a-zA-Z0-9-]+)\.azurecr\.io")


def login_command(registry: str) -> str:
    """The shell command that stores credentials for `registry` (a `host[:port]`)."""
    host = registry.split(":", 1)[0] if not registry.startswith("[") else registry
    if is_google_registry(registry):
        return f"gcloud auth configure-docker {host}"
    ecr = _ECR.fullmatch(host)
    if ecr:
        return (
            f"aws ecr get-login-password --region {ecr.group(1)} | "
            f"docker login --username AWS --password-stdin {host}"
        )
    acr = _ACR.fullmatch(host)
    if acr:
        return f"az acr login --name {acr.group(1)}"
    return f"docker login {registry}"
