"""The command that logs a user in to a registry, by host: what an authorization error says
to run. Cloud registries have their own login tools; anything else takes `docker login`."""

from __future__ import annotations

from image_digest.keychain.azure import ACR_HOST
from image_digest.keychain.ecr import ecr_target
from image_digest.keychain.google import is_google_registry


def login_command(registry: str) -> str:
    """The shell command that stores credentials for `registry` (a `host[:port]`)."""
    host = registry.split(":", 1)[0] if not registry.startswith("[") else registry
    if is_google_registry(registry):
        return f"gcloud auth configure-docker {host}"
    ecr = ecr_target(registry)
    if ecr:
        return (
            f"aws {ecr.service} get-login-password --region {ecr.region} | "
            f"docker login --username AWS --password-stdin {host}"
        )
    acr = ACR_HOST.fullmatch(host)
    if acr:
        return f"az acr login --name {acr.group(1)}"
    return f"docker login {registry}"
