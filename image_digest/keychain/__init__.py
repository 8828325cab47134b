"""Who am I for this registry? Explicit credentials, docker config, then Google ADC."""

from __future__ import annotations

from collections.abc import Mapping

from image_digest.keychain.chain import Keychain, MultiKeychain, StaticKeychain
from image_digest.keychain.credentials import Basic, Credential, IdentityToken
from image_digest.keychain.docker_config import DockerConfigKeychain
from image_digest.keychain.google import GoogleKeychain

__all__ = [
    "Basic",
    "Credential",
    "DockerConfigKeychain",
    "GoogleKeychain",
    "IdentityToken",
    "Keychain",
    "MultiKeychain",
    "StaticKeychain",
    "default_keychain",
]


def default_keychain(
    credentials: Mapping[str, tuple[str, str] | Credential] | None = None,
) -> MultiKeychain:
    """Explicit credentials first, then the docker config, then Google ADC."""
    chain: list[Keychain] = []
    if credentials:
        chain.append(StaticKeychain(credentials))
    chain += [DockerConfigKeychain(), GoogleKeychain()]
    return MultiKeychain(chain)
