"""Who am I for this registry? Explicit credentials, the docker config, then the cloud
keychains (Google ADC, AWS ECR, Azure ACR, a GitHub token for ghcr.io), else anonymous.

Each cloud keychain answers only for its own hosts and loads its SDK on first use, so their
order among themselves does not matter; the docker config always comes before them.
"""

from __future__ import annotations

from collections.abc import Mapping

from image_digest.keychain.azure import AzureKeychain
from image_digest.keychain.chain import Keychain, MultiKeychain, StaticKeychain
from image_digest.keychain.credentials import Basic, Credential, ExchangeToken, IdentityToken
from image_digest.keychain.docker_config import DockerConfigKeychain
from image_digest.keychain.ecr import EcrKeychain
from image_digest.keychain.github import GitHubTokenKeychain
from image_digest.keychain.google import GoogleKeychain

__all__ = [
    "AzureKeychain",
    "Basic",
    "Credential",
    "DockerConfigKeychain",
    "EcrKeychain",
    "ExchangeToken",
    "GitHubTokenKeychain",
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
    """Explicit credentials first, then the docker config, then the cloud keychains."""
    chain: list[Keychain] = []
    if credentials:
        chain.append(StaticKeychain(credentials))
    chain += [
        DockerConfigKeychain(),
        GoogleKeychain(),
        EcrKeychain(),
        AzureKeychain(),
        GitHubTokenKeychain(),
    ]
    return MultiKeychain(chain)
