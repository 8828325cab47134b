"""Azure Container Registry's `/oauth2/exchange`: an Entra access token in, a refresh token out.

The refresh token then goes to the registry's token realm like a docker config
`identitytoken` (`grant_type=refresh_token`). The Entra token is posted to the registry
itself, never along a redirect. Protocol: https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md
"""

from __future__ import annotations

import json
import re

from image_digest.errors import AuthenticationError, RegistryError
from image_digest.keychain.credentials import ExchangeToken, IdentityToken
from image_digest.transport.body import BodyTooLargeError, read_capped
from image_digest.transport.token import MAX_TOKEN_RESPONSE_BYTES, Refused, Send

_TOKEN_RE = re.compile(r"[\x21-\x7e]+")


def exchange_token(
    send: Send,
    base_url: str,
    service: str,
    credential: ExchangeToken,
    *,
    registry: str,
    reference: str,
    repositories: str,
    refused: Refused,
) -> IdentityToken:
    """POST the Entra token to `base_url/oauth2/exchange`; the refresh token it answers."""
    form = {"grant_type": "access_token", "service": service, "access_token": credential.token}
    if credential.tenant:
        form["tenant"] = credential.tenant
    response = send(
        "POST", f"{base_url}/oauth2/exchange", headers={}, data=form, allow_redirects=False
    )
    where = f"registry {registry} (/oauth2/exchange)"
    with response:
        if response.status_code in (401, 403):
            raise refused(response, repositories)
        if response.status_code != 200:
            raise RegistryError(
                f"{where} answered HTTP {response.status_code} to the Entra token exchange "
                f"(while resolving {reference}); check the identity's AcrPull role",
                reference=reference,
                registry=registry,
                status=response.status_code,
            )
        try:
            body = json.loads(read_capped(response, MAX_TOKEN_RESPONSE_BYTES))
        except (BodyTooLargeError, ValueError, RecursionError, OSError):
            body = None
    value = body.get("refresh_token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not _TOKEN_RE.fullmatch(value):
        raise AuthenticationError(
            f"{where} answered the Entra token exchange without a usable refresh_token "
            f"(expected JSON with a printable 'refresh_token'; while resolving {reference})",
            reference=reference,
            registry=registry,
        )
    return IdentityToken(value)
