"""Google Application Default Credentials for Container Registry and Artifact Registry.

`google-auth` is imported on first use only, and is optional. ADC is only consulted when it
is configured (see `adc.py`), so a public image on a machine without ADC resolves with no
detour to the GCE metadata server; any ADC failure (no google-auth, a broken file, a refused
refresh) means anonymous, with a DEBUG line, never an exception.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from image_digest.keychain.adc import adc_origin
from image_digest.keychain.credentials import Basic, Credential

log = logging.getLogger(__name__)

GOOGLE_USERNAME = "oauth2accesstoken"
_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


def is_google_registry(registry: str) -> bool:
    """`gcr.io`, `*.gcr.io` and `*-docker.pkg.dev` hosts."""
    host = registry.split(":", 1)[0]
    return host == "gcr.io" or host.endswith(".gcr.io") or host.endswith("-docker.pkg.dev")


class GoogleKeychain:
    """Exchanges ADC for a short-lived access token, used as the password of `oauth2accesstoken`."""

    label = "Google ADC (for gcr.io, *.gcr.io, *-docker.pkg.dev)"

    def __init__(self) -> None:
        self._credentials: Any = None
        self._origin: str | None = None
        self._unavailable = False
        self._lock = threading.Lock()

    def source_for(self, registry: str) -> str | None:
        if not is_google_registry(registry) or self._origin is None:
            return None
        return f"Google Application Default Credentials from {self._origin}"

    def credentials_for(self, registry: str) -> Credential | None:
        if not is_google_registry(registry):
            return None
        with self._lock:
            token = self._access_token()
        return Basic(GOOGLE_USERNAME, token) if token else None

    def _access_token(self) -> str | None:
        if self._unavailable:
            return None
        if self._credentials is None:
            self._origin = adc_origin()
            if self._origin is None:
                log.debug("no Google ADC configured; Google registries are tried anonymously")
                self._unavailable = True
                return None
        try:
            import google.auth
            import google.auth.transport.requests
        except ImportError:
            log.debug("google-auth is not installed; Google registries are tried anonymously")
            self._unavailable = True
            return None
        try:
            if self._credentials is None:
                self._credentials, _ = google.auth.default(scopes=list(_SCOPES))
            if not self._credentials.valid:
                self._credentials.refresh(google.auth.transport.requests.Request())
        except Exception as exc:  # any ADC failure means anonymous, never a failed resolution
            # The type only: google-auth messages can quote the credential file.
            log.debug(
                "Google ADC from %s is unusable (%s); Google registries are tried anonymously",
                self._origin,
                type(exc).__name__,
            )
            self._unavailable = True
            return None
        token = self._credentials.token
        return token if isinstance(token, str) else None
