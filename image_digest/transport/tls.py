"""TLS set-up, in words a user can act on.

requests finds a missing CA bundle only at the first HTTPS request, with a bare `OSError` and
a traceback. Here a CA bundle that does not exist or holds no certificate is an
`InvalidOptionError` when the `Resolver` is made, naming the path and who chose it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from image_digest.errors import InvalidOptionError, printable
from image_digest.transport.options import TransportOptions

#: The variables requests reads when no CA bundle is passed, in its order.
CA_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_MAX_BUNDLE_BYTES = 16 * 1024 * 1024


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
