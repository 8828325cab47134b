"""Every tunable of the HTTP layer in one frozen value, with safe defaults."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from image_digest.errors import InvalidOptionError, printable

DEFAULT_USER_AGENT = "image-digest (+https://pypi.org/project/image-digest/)"
#: Seconds one reference may take (requests, retries, waits): short enough that a preview
#: against a dead registry fails in half a minute, not two.
DEFAULT_TOTAL_TIMEOUT = 30.0
#: Seconds per reference, for every `Resolver` and command that is not given one.
TIMEOUT_ENV = "IMAGE_DIGEST_TIMEOUT"
#: A batch's bound when `batch_timeout` is not set: this many times `total_timeout`.
BATCH_TIMEOUT_FACTOR = 2


@dataclass(frozen=True)
class TransportOptions:
    """Timeouts, retries, TLS and size limits for talking to registries.

    `total_timeout` (default 30 s, `IMAGE_DIGEST_TIMEOUT` or `--timeout` to change it) bounds
    one resolution (all its requests, retries and waits, and every byte of every response: a
    connection still busy when it runs out is cut); a server that answers slowly, trickles, or
    asks to wait longer than that fails with a `RegistryError` instead of hanging a deployment.
    `batch_timeout` bounds a whole batch (`resolve_many`, `resolve_each`, `check`): every
    reference still unanswered when it runs out fails; None means twice `total_timeout`.

    Loopback registries (`localhost`, `127.0.0.0/8`, `::1`) and `insecure_registries` are
    spoken to over plain HTTP; `secure_registries` forces HTTPS for a loopback registry that
    serves TLS (e.g. a local registry with its own certificate; pair it with `ca_bundle`).
    """

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT
    batch_timeout: float | None = None
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
        for name in ("total_timeout", "batch_timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be a number of seconds above 0, got {value!r}")
        both = self.insecure_registries & self.secure_registries
        if both:
            raise ValueError(
                f"registries named both insecure and secure: {', '.join(sorted(both))}"
            )

    def batch_seconds(self) -> float:
        """The bound of one batch: `batch_timeout`, else twice `total_timeout`."""
        if self.batch_timeout is not None:
            return self.batch_timeout
        return BATCH_TIMEOUT_FACTOR * self.total_timeout

    def scheme_for(self, registry: str) -> str:
        """Plain HTTP only for loopback hosts and registries the caller named insecure;
        HTTPS for every other host, and for loopback hosts named in `secure_registries`."""
        host = _host_of(registry)
        if registry in self.secure_registries or host in self.secure_registries:
            return "https"
        if registry in self.insecure_registries or host in self.insecure_registries:
            return "http"
        return "http" if _is_loopback(host) else "https"


def timeout_seconds(value: object, source: str) -> float:
    """A per-reference time bound in seconds (`source` names the option or variable)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise InvalidOptionError(
            f"{source} must be a number of seconds above 0, like 30, not "
            f"{printable(repr(value), 40)}"
        )
    return seconds


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
