"""Google Application Default Credentials for Container Registry and Artifact Registry.

`google-auth` is imported on first use only, and is optional. ADC is only consulted when it
is configured (see `adc.py`), so a public image on a machine without ADC resolves with no
detour to the GCE metadata server; any ADC failure (no google-auth, a broken file, a refused
refresh) means anonymous for now, with a DEBUG line, never an exception, and is tried again
after a backoff.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

from image_digest.keychain.adc import adc_origin
from image_digest.keychain.credentials import Basic, Credential
from image_digest.keychain.refreshing import RefreshingCredentials

log = logging.getLogger(__name__)

GOOGLE_USERNAME = "oauth2accesstoken"
_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_ADC = "adc"
#: Renew an access token this long before it expires (they last an hour).
REFRESH_AHEAD = 5 * 60.0
#: How long a token is trusted when google-auth names no expiry.
TOKEN_LIFETIME = 30 * 60.0


def is_google_registry(registry: str) -> bool:
    """`gcr.io`, `*.gcr.io` and `*-docker.pkg.dev` hosts."""
    host = registry.split(":", 1)[0]
    return host == "gcr.io" or host.endswith(".gcr.io") or host.endswith("-docker.pkg.dev")


class GoogleKeychain:
    """Exchanges ADC for a short-lived access token, used as the password of `oauth2accesstoken`.

    The token is renewed `REFRESH_AHEAD` seconds before it expires by `clock` (see
    `refreshing.py`); a failed renewal keeps the valid token and is tried again after a backoff.
    """

    label = "Google ADC (for gcr.io, *.gcr.io, *-docker.pkg.dev)"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._credentials: Any = None
        self._origin: str | None = None
        self._clock = clock
        # One ADC identity for every Google host: one token, renewed once.
        self._tokens: RefreshingCredentials[str] = RefreshingCredentials(
            self._fetch, renew_ahead=REFRESH_AHEAD, default_lifetime=TOKEN_LIFETIME, clock=clock
        )

    def source_for(self, registry: str) -> str | None:
        if not is_google_registry(registry) or not self._tokens.holds(_ADC):
            return None
        return f"Google Application Default Credentials from {self._origin}"

    def renews(self, registry: str) -> bool:
        """Its hosts: asked again after a failed fetch, once the backoff has passed."""
        return is_google_registry(registry)

    def credentials_for(self, registry: str) -> Credential | None:
        return self._tokens.get(_ADC) if is_google_registry(registry) else None

    def _fetch(self, _key: str) -> Basic | None:
        """A fresh access token (runs one at a time, under the renewal's single flight)."""
        if self._credentials is None:
            self._origin = adc_origin()
            if self._origin is None:
                log.debug("no Google ADC configured; Google registries are tried anonymously")
                return None
        try:
            import google.auth
            import google.auth.transport.requests
        except ImportError:
            log.debug("google-auth is not installed; Google registries are tried anonymously")
            return None
        try:
            if self._credentials is None:
                self._credentials, _ = google.auth.default(scopes=list(_SCOPES))
            # Always refresh: renewal is due by our clock, whatever google-auth's says.
            self._credentials.refresh(google.auth.transport.requests.Request())
        except Exception as exc:  # any ADC failure means anonymous, never a failed resolution
            # The type only: google-auth messages can quote the credential file.
            log.debug(
                "Google ADC from %s is unusable (%s); Google registries are tried anonymously",
                self._origin,
                type(exc).__name__,
            )
            return None
        token = self._credentials.token
        if not isinstance(token, str) or not token:
            return None
        return Basic(GOOGLE_USERNAME, token, expires_at=self._expires_at(self._credentials))

    def _expires_at(self, credentials: Any) -> float | None:
        """google-auth's expiry (naive UTC by its own clock) as a time by our clock."""
        expiry = getattr(credentials, "expiry", None)
        if not isinstance(expiry, datetime.datetime):
            return None
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=datetime.UTC)
        lifetime = (expiry - datetime.datetime.now(datetime.UTC)).total_seconds()
        return self._clock() + lifetime

    def __repr__(self) -> str:
        return "GoogleKeychain()"
