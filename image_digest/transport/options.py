"""Every tunable of the HTTP layer in one frozen value, with safe defaults."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

DEFAULT_USER_AGENT = "image-digest (+https://pypi.org/project/image-digest/)"


@dataclass(frozen=True)
class TransportOptions:
    """Timeouts, retries, TLS and size limits for talking to registries.

    `total_timeout` bounds one resolution (all its requests, retries and waits); a server that
    answers slowly or asks to wait longer than that fails with a `RegistryError` instead of
    hanging a deployment.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0
    retries: int = 4
    backoff_factor: float = 0.25
    backoff_max: float = 10.0
    backoff_jitter: float = 0.25
    max_retry_after: float = 30.0
    ca_bundle: str | None = None
    insecure_registries: frozenset[str] = field(default_factory=frozenset)
    user_agent: str = DEFAULT_USER_AGENT
    pool_size: int = 16
    max_manifest_bytes: int = 4 * 1024 * 1024
    max_redirects: int = 5

    def scheme_for(self, registry: str) -> str:
        """Plain HTTP only for loopback hosts and registries the caller named insecure."""
        host = _host_of(registry)
        if registry in self.insecure_registries or host in self.insecure_registries:
            return "http"
        return "http" if _is_loopback(host) else "https"


def _host_of(registry: str) -> str:
    if registry.startswith("["):
        return registry[1 : registry.index("]")]
    return registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
