"""Azure Container Registry: a Microsoft Entra token from azure-identity (the `azure` extra).

`DefaultAzureCredential` (environment, workload identity, managed identity, Azure CLI...) is
asked for a token with the registry's own audience, `https://containerregistry.azure.net`,
not an Azure Resource Manager one: the token goes to the registry, which must not be able
to manage the subscription with it. The transport then trades it at the registry's
`/oauth2/exchange` for a refresh token (see `transport/exchange.py`), as `az acr login` does.
azure-identity is imported on first use; any failure means anonymous, with a DEBUG line
naming the error type only. A docker config `identitytoken` for the registry comes first.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from image_digest.keychain.credentials import Credential, ExchangeToken

log = logging.getLogger(__name__)

ACR_HOST = re.compile(r"([a-zA-Z0-9-]+)\.azurecr\.(?:io|cn|us)")
ACR_SCOPE = "https://containerregistry.azure.net/.default"
#: Replace a token this long before it expires (Entra tokens last about an hour).
REFRESH_AHEAD = 5 * 60.0


def is_acr_registry(registry: str) -> bool:
    """`NAME.azurecr.io` (and the sovereign clouds' `.azurecr.cn`, `.azurecr.us`)."""
    return ACR_HOST.fullmatch(registry.rsplit(":", 1)[0]) is not None


class AzureKeychain:
    """An Entra access token for `*.azurecr.io`, for the registry to exchange.

    `credential` is any azure-identity credential (default: `DefaultAzureCredential()`).
    """

    label = "Azure DefaultAzureCredential (for *.azurecr.io)"

    def __init__(self, credential: Any = None, *, clock: Callable[[], float] = time.time):
        self._credential = credential
        self._clock = clock
        self._token: ExchangeToken | None = None
        self._unavailable = False
        self._lock = threading.Lock()

    def source_for(self, registry: str) -> str | None:
        if not is_acr_registry(registry) or self._token is None:
            return None
        kind = type(self._credential).__name__
        return f"Azure {kind} (Entra token exchanged at {registry}/oauth2/exchange)"

    def credentials_for(self, registry: str) -> Credential | None:
        if not is_acr_registry(registry):
            return None
        with self._lock:
            token = self._token
            expires_at = token.expires_at if token is not None else None
            if expires_at is not None and self._clock() < expires_at - REFRESH_AHEAD:
                return token
            fresh = None if self._unavailable else self._fetch()
            if fresh is None and token is not None and token.expires_at is not None:
                # A refresh that failed: the token in hand is still good until it expires.
                return token if self._clock() < token.expires_at else None
            self._token = fresh
            return fresh

    def _fetch(self) -> ExchangeToken | None:
        try:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential

                self._credential = DefaultAzureCredential()
            answer = self._credential.get_token(ACR_SCOPE)
        except ImportError:
            log.debug("azure-identity is not installed (image-digest[azure]); ACR is anonymous")
            self._unavailable = True
            return None
        except Exception as exc:  # any Entra failure means anonymous, never a failed resolution
            # The type only: azure-identity messages can quote configuration.
            log.debug("no Azure token (%s); ACR is tried anonymously", type(exc).__name__)
            self._unavailable = True
            return None
        value, expires_on = getattr(answer, "token", None), getattr(answer, "expires_on", None)
        if not isinstance(value, str) or not value or not isinstance(expires_on, int | float):
            log.debug("the Azure credential returned no usable token; ACR is anonymous")
            self._unavailable = True
            return None
        return ExchangeToken(value, expires_at=float(expires_on))

    def __repr__(self) -> str:
        return f"AzureKeychain(credential={type(self._credential).__name__})"
