"""Every tunable of the HTTP layer in one frozen value, with safe defaults."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from image_digest.errors import printable

DEFAULT_USER_AGENT = "image-digest (+https://pypi.org/project/image-digest/)"


@dataclass(frozen=True)
class TransportOptions:
    """Timeouts, retries, TLS and size limits for talking to registries.

    `total_timeout` bounds one resolution (all its requests, retries and waits, and every
    byte of every response: a connection still busy when it runs out is cut); a server that
    answers slowly, trickles, or asks to wait longer than that fails with a `RegistryError`
    instead of hanging a deployment.

    Loopback registries (`localhost`, `127.0.0.0/8`, `::1`) and `insecure_registries` are
    spoken to over plain HTTP; `secure_registries` forces HTTPS for a loopback registry that
    serves TLS (e.g. a local registry with its own certificate; pair it with `ca_bundle`).
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
    secure_registries: frozenset[str] = field(default_factory=frozenset)
    user_agent: str = DEFAULT_USER_AGENT
    pool_size: int = 16
    max_manifest_bytes: int = 4 * 1024 * 1024
    max_redirects: int = 5

    def __post_init__(self) -> None:
        # Accept any iterable of hosts (a list from a config file, a tuple...).
        for name in ("insecure_registries", "secure_registries"):
            object.__setattr__(self, name, host_set(name, getattr(self, name)))
        both = self.insecure_registries & self.secure_registries
        if both:
            raise ValueError(
                f"registries named both insecure and secure: {', '.join(sorted(both))}"
            )

    def scheme_for(self, registry: str) -> str:
        """Plain HTTP only for loopback hosts and registries the caller named insecure;
        HTTPS for every other host, and for loopback hosts named in `secure_registries`."""
        host = _host_of(registry)
        if registry in self.secure_registries or host in self.secure_registries:
            return "https"
        if registry in self.insecure_registries or host in self.insecure_registries:
            return "http"
        return "http" if _is_loopback(host) else "https"


def host_set(name: str, value: object) -> frozenset[str]:
    """`value`, an iterable of hosts, as a set. A lone string is a TypeError showing the list
    it should have been (iterating it would name each character a registry)."""
    if isinstance(value, str | bytes):
        text = value if isinstance(value, str) else value.decode("ascii", "replace")
        raise TypeError(
            f'{name} takes a list of hosts, like {name}=["{printable(text, 80)}"], not a '
            f"single {type(value).__name__}"
        )
    if not isinstance(value, Iterable):
        raise TypeError(
            f'{name} takes a list of hosts, like {name}=["registry.example.com:5000"], '
            f"not {type(value).__name__}"
        )
    hosts: set[str] = set()
    for host in value:
        if not isinstance(host, str):
            raise TypeError(
                f'{name} takes hosts as strings, like {name}=["registry.example.com:5000"]; '
                f"got {type(host).__name__} {printable(repr(host), 80)}"
            )
        hosts.add(host)
    return frozenset(hosts)


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
