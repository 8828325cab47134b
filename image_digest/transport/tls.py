"""TLS set-up and failures, in words a user can act on.

requests finds a missing CA bundle only at the first HTTPS request, with a bare `OSError` and
a traceback. Here a CA bundle that does not exist or holds no certificate is an
`InvalidOptionError` when the `Resolver` is made, naming the path and who chose it. OpenSSL
reports every failed handshake as an `SSLError`; `tls_failure` tells the causes apart (a
plain-HTTP registry, an untrusted certificate, a certificate for another host, an unusable CA
file), so the message names what to change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from image_digest.errors import InvalidOptionError, RegistryError, printable
from image_digest.transport.options import TransportOptions

if TYPE_CHECKING:
    import ssl

#: The variables requests reads when no CA bundle is passed, in its order.
CA_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_MAX_BUNDLE_BYTES = 16 * 1024 * 1024
#: OpenSSL's reasons for a handshake answered by something that is not TLS (plain HTTP).
_NOT_TLS = {
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "UNKNOWN_PROTOCOL",
    "HTTP_REQUEST",
}
_HOSTNAME_MISMATCH = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_CA_HINT = "pass the CA that issued it: --ca-bundle PATH, ca_bundle=PATH or REQUESTS_CA_BUNDLE"


@dataclass(frozen=True)
class CaBundle:
    """The CA bundle requests will verify with, and who chose it."""

    path: str
    variable: str | None  # None: the ca_bundle option

    def __str__(self) -> str:
        source = self.variable or "--ca-bundle / ca_bundle="
        return f"CA bundle {printable(self.path)} given by {source}"

    @property
    def fix(self) -> str:
        if self.variable is None:
            return "pass the path of a PEM file of CA certificates"
        return f"point {self.variable} at a PEM file of CA certificates, or unset it"


def ca_bundle_in_use(options: TransportOptions) -> CaBundle | None:
    """`ca_bundle`, else REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE (as requests decides)."""
    if options.ca_bundle:
        return CaBundle(str(options.ca_bundle), None)
    for name in CA_ENV:
        value = os.environ.get(name)
        if value:
            return CaBundle(value, name)
    return None


def check_ca_bundle(options: TransportOptions) -> None:
    """Raise `InvalidOptionError` now if the CA bundle in use is missing, unreadable or not
    PEM. A cheap look, not a parse (OpenSSL takes ~20 ms for the system bundle): a corrupt
    certificate inside a PEM file is reported by the first handshake instead."""
    bundle = ca_bundle_in_use(options)
    if bundle is None or os.path.isdir(bundle.path):
        return  # no bundle, or an OpenSSL CA directory, whose files are read per handshake
    if not os.path.exists(bundle.path):
        raise InvalidOptionError(f"{bundle} does not exist: {bundle.fix}")
    try:
        with open(bundle.path, "rb") as file:
            head = file.read(_MAX_BUNDLE_BYTES)
    except OSError as exc:
        raise InvalidOptionError(
            f"{bundle} cannot be read ({exc.strerror}): {bundle.fix}"
        ) from None
    if b"-----BEGIN " not in head:
        raise InvalidOptionError(f"{bundle} holds no PEM certificate: {bundle.fix}")


def tls_failure(
    error: Exception,
    *,
    url: str,
    peer: str,
    reference: str,
    registry: str,
    api_host: str,
    options: TransportOptions,
) -> RegistryError:
    """The `RegistryError` for a failed TLS handshake with `url` (`peer`, in words), saying
    why and what to change."""
    import ssl  # loaded by then: a handshake failed

    cause = _ssl_cause(error)
    host = urlsplit(url).netloc
    if isinstance(cause, ssl.SSLCertVerificationError):
        why = printable(cause.verify_message or "certificate verify failed", 120)
        if cause.verify_code in _HOSTNAME_MISMATCH:
            hint = f"its certificate is not for {host} ({why}); use a name the certificate names"
        else:
            bundle = ca_bundle_in_use(options)
            by = f" by {bundle}" if bundle else ""
            hint = f"its certificate is not trusted{by} ({why}); {_CA_HINT}"
    elif cause is not None and cause.reason in _NOT_TLS:
        hint = f"{host} does not speak TLS but plain HTTP; {_plain_http_hint(host, api_host)}"
    elif cause is not None and cause.library in ("X509", "PEM"):
        bundle = ca_bundle_in_use(options)
        fix = bundle.fix if bundle else _CA_HINT
        hint = f"{bundle or 'the CA bundle'} holds no usable certificate; {fix}"
    else:
        reason = cause.reason if cause is not None and cause.reason else type(error).__name__
        hint = (
            f"the handshake failed ({printable(reason, 80)}); if it uses a private CA, {_CA_HINT}"
        )
    return RegistryError(
        f"TLS with {peer} failed while resolving {reference}: {hint}",
        reference=reference,
        registry=registry,
    )


def _plain_http_hint(host: str, api_host: str) -> str:
    if host != api_host:
        # A token realm or redirect target: the registry chose that address, not the user.
        return "the registry sent us to it over https; its configuration must change"
    if TransportOptions().scheme_for(host) == "http":  # loopback: secure_registries made it https
        return f"remove {host} from secure_registries to use plain HTTP with it"
    return (
        f"if it is a plain-HTTP registry, name it insecure: --insecure-registry {host} or "
        f'insecure_registries=["{host}"]'
    )


def _ssl_cause(error: BaseException) -> ssl.SSLError | None:
    """The `ssl.SSLError` inside requests' and urllib3's wrappers, if there is one."""
    import ssl

    pending: list[object] = [error]
    seen: set[int] = set()
    while pending:
        item = pending.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLError):
            return item
        pending += [*item.args, getattr(item, "reason", None), item.__cause__, item.__context__]
    return None
