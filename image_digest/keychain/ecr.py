"""Amazon ECR and ECR Public: a registry password from `GetAuthorizationToken` (the `aws` extra).

boto3 is imported on first use, with the standard AWS credential chain (environment,
profiles, SSO, web identity, container and instance roles) and its endpoint settings
(`AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL_ECR_PUBLIC`, `AWS_ENDPOINT_URL`). A token lasts
12 hours; it is cached per region and replaced `REFRESH_AHEAD` seconds before it expires, so
a long run never sends an expired one (see `refreshing.py`). Any failure (no boto3, no AWS
credentials, access denied) means anonymous for now, with a DEBUG line naming the error type
only, as for Google ADC, and is tried again after a backoff.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from image_digest.keychain.aws_logs import quiet_botocore
from image_digest.keychain.credentials import Basic, Credential
from image_digest.keychain.refreshing import RefreshingCredentials

log = logging.getLogger(__name__)

ECR_HOST = re.compile(r"([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
ECR_PUBLIC_HOST = "public.ecr.aws"
#: ECR Public issues its tokens from us-east-1 only.
ECR_PUBLIC_REGION = "us-east-1"
#: Replace a token this long before it expires (tokens last 12 hours).
REFRESH_AHEAD = 30 * 60.0
#: How long a token lasts when the answer names no expiry (ECR's own lifetime).
TOKEN_LIFETIME = 12 * 3600.0


@dataclass(frozen=True)
class EcrTarget:
    """Which API issues the token for a host: `ecr` in a region, or `ecr-public`."""

    service: str
    region: str


def ecr_target(registry: str) -> EcrTarget | None:
    """The token issuer for an ECR (`*.dkr.ecr.REGION.amazonaws.com`) or ECR Public host."""
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    if host == ECR_PUBLIC_HOST:
        return EcrTarget("ecr-public", ECR_PUBLIC_REGION)
    match = ECR_HOST.fullmatch(host)
    return EcrTarget("ecr", match.group(2)) if match else None


class EcrKeychain:
    """`AWS` and a `GetAuthorizationToken` password for ECR and ECR Public hosts."""

    label = "AWS credentials via boto3 (for *.dkr.ecr.*.amazonaws.com, public.ecr.aws)"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._session: Any = None
        self._session_lock = threading.Lock()
        self._tokens = RefreshingCredentials(
            self._fetch, renew_ahead=REFRESH_AHEAD, default_lifetime=TOKEN_LIFETIME, clock=clock
        )

    def source_for(self, registry: str) -> str | None:
        target = ecr_target(registry)
        if target is None or not self._tokens.holds(target):
            return None
        where = f"{target.service} GetAuthorizationToken in {target.region}"
        return f"AWS credentials via boto3 ({where})"

    def renews(self, registry: str) -> bool:
        """Its hosts: asked again after a failed fetch, once the backoff has passed."""
        return ecr_target(registry) is not None

    def credentials_for(self, registry: str) -> Credential | None:
        target = ecr_target(registry)
        return self._tokens.get(target) if target is not None else None

    def _fetch(self, target: EcrTarget) -> Basic | None:
        try:
            import boto3.session
        except ImportError:
            log.debug("boto3 is not installed (image-digest[aws]); ECR is tried anonymously")
            return None
        quiet_botocore()
        try:
            client = self._client(boto3.session.Session, target)
            answer = client.get_authorization_token()
            data = answer["authorizationData"]
            data = data[0] if isinstance(data, list) else data
            user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
            expires_at = _timestamp(data.get("expiresAt"))
        except Exception as exc:  # any AWS failure means anonymous, never a failed resolution
            # The type only: botocore messages can quote request details.
            log.debug(
                "no ECR token from %s in %s (%s); ECR is tried anonymously",
                target.service,
                target.region,
                type(exc).__name__,
            )
            return None
        if not user or not password:
            log.debug("%s returned a token without user and password", target.service)
            return None
        # Without an expiry, the refreshing cache gives it ECR's own 12 hours.
        return Basic(user, password, expires_at=expires_at)

    def _client(self, make_session: Callable[[], Any], target: EcrTarget) -> Any:
        """A client from the one boto3 session, made under a lock: renewals of two regions
        may overlap, and a boto3 session is not safe to use from two threads at once."""
        with self._session_lock:
            if self._session is None:
                self._session = make_session()
            client = self._session.client(target.service, region_name=target.region)
            quiet_botocore(self._session)
            return client

    def __repr__(self) -> str:
        return f"EcrKeychain(regions={sorted(t.region for t in self._tokens.asked())})"


def _timestamp(expires: Any) -> float | None:
    """`expiresAt` (a datetime from boto3, or epoch seconds) as epoch seconds, if given."""
    if expires is None:
        return None
    return float(expires.timestamp() if hasattr(expires, "timestamp") else expires)
