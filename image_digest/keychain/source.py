"""Which credential source was used for a registry, in words and without any secret.

Authorization errors name it, so a user knows which login to fix: a 401 with the wrong
docker config entry needs a different remedy than one sent anonymously.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from image_digest.keychain.credentials import Credential

if TYPE_CHECKING:
    from image_digest.keychain.chain import Keychain


def keychain_label(keychain: Keychain) -> str:
    """What `keychain` consults, e.g. `docker config /home/u/.docker/config.json`."""
    label = getattr(keychain, "label", None)
    return label if isinstance(label, str) and label else f"keychain {type(keychain).__name__}"


def describe_keychain(keychain: Keychain, registry: str) -> str:
    """The source inside `keychain` of the credential it returned for `registry`."""
    source_for = getattr(keychain, "source_for", None)
    described = source_for(registry) if callable(source_for) else None
    return described if isinstance(described, str) and described else keychain_label(keychain)


def describe_source(keychain: Keychain, registry: str, credential: Credential | None) -> str:
    """`credential` (as `keychain` returned it for `registry`) described for an error."""
    if credential is None:
        searched = keychain_label(keychain)
        return f"none (anonymous): no credentials were found for {registry} in {searched}"
    return describe_keychain(keychain, registry)
