"""Azure Container Registry: a Microsoft Entra token from azure-identity (the `azure` extra).

`DefaultAzureCredential` (environment, workload identity, managed identity, Azure CLI...) is
asked for a token with the registry's own audience, `https://containerregistry.azure.net`,
not an Azure Resource Manager one: the token goes to the registry, which must not be able
to manage the subscription with it. The transport then trades it at the registry's
`/oauth2/exchange` for a refresh token (see `transport/exchange.py`), as `az acr login` does.
azure-identity is imported on first use; any failure means anonymous for now, with a DEBUG
line naming the error type only, and the token is asked for again after a backoff (see
`refreshing.py`). A docker config `identitytoken` for the registry comes first.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from image_digest.keychain.credentials import Credential, ExchangeToken
from image_digest.keychain.refreshing import RefreshingCredentials

log = logging.getLogger(__name__)

ACR_HOST = re.compile(r"([a-zA-Z0-9-]+)\.azurecr\.(?:io|cn|us)")
ACR_SCOPE = "https://containerregistry.azure.net/.default"
#: Replace a token this long before it expires (Entra tokens last about an hour).
REFRESH_AHEAD = 5 * 60.0
#: How long a token is trusted when its answer names no expiry.
TOKEN_LIFETIME = 30 * 60.0


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
        self._credential_lock = threading.Lock()
        # One Entra identity and audience for every ACR host: one token, renewed once.
        self._tokens: RefreshingCredentials[str] = RefreshingCredentials(
            self._fetch, renew_ahead=REFRESH_AHEAD, default_lifetime=TOKEN_LIFETIME, clock=clock
        )

    def source_for(self, registry: str) -> str | None:
        if not is_acr_registry(registry) or not self._tokens.holds(ACR_SCOPE):
            return None
        kind = type(self._credential).__name__
        return f"Azure {kind} (Entra token exchanged at {registry}/oauth2/exchange)"

    def renews(self, registry: str) -> bool:
        """Its hosts: asked again after a failed fetch, once the backoff has passed."""
        return is_acr_registry(registry)

    def credentials_for(self, registry: str) -> Credential | None:
        return self._tokens.get(ACR_SCOPE) if is_acr_registry(registry) else None

    def _fetch(self, scope: str) -> ExchangeToken | None:
        try:
            answer = self._entra_credential().get_token(scope)
        except ImportError:
            log.debug("azure-identity is not installed (image-digest[azure]); ACR is anonymous")
            return None
        except Exception as exc:  # any Entra failure means anonymous, never a failed resolution
            # The type only: azure-identity messages can quote configuration.
            log.debug("no Azure token (%s); ACR is tried anonymously for now", type(exc).__name__)
            return None
        value, expires_on = getattr(answer, "token", None), getattr(answer, "expires_on", None)
        if not isinstance(value, str) or not value or not isinstance(expires_on, int | float):
            log.debug("the Azure credential returned no usable token; ACR is anonymous for now")
            return None
        return ExchangeToken(value, expires_at=float(expires_on))

    def _entra_credential(self) -> Any:
        with self._credential_lock:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential

                self._credential = DefaultAzureCredential()
            return self._credential

    def __repr__(self) -> str:
        return f"AzureKeychain(credential={type(self._credential).__name__})"
