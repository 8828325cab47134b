"""Resolve container image references to immutable content digests.

    >>> import image_digest
    >>> image_digest.resolve("nginx:1.25").repo_digest      # doctest: +SKIP
    'nginx@sha256:...'

`parse` is pure; `resolve` is the one-liner; `Resolver` is the configured, reusable form
(credentials, TLS, concurrency, lock file, outage policy). Nothing here imports an IaC SDK.
"""

import logging

from image_digest.entry_options import ResolverOptions, ResolverSettings
from image_digest.errors import (
    AuthenticationError,
    BatchResolutionError,
    DigestError,
    DigestMismatchError,
    InvalidOptionError,
    InvalidPlatformError,
    InvalidReferenceError,
    LockError,
    NotARegistryError,
    NotFoundError,
    PinError,
    PlatformNotFoundError,
    RegistryError,
    RepositoryNotFoundError,
    TagNotFoundError,
)
from image_digest.fields.selection import needs_resolution
from image_digest.keychain import Basic, IdentityToken, Keychain
from image_digest.names.reference import Reference, has_digest, parse, pinned_reference
from image_digest.names.resolved import ResolvedImage
from image_digest.pinning.lockfile import DEFAULT_LOCK_NAME, LockFile
from image_digest.resolver import LOCK_ENV, MODE_ENV, MODES, TIMEOUT_ENV, Resolver, resolve
from image_digest.signatures.errors import (
    BadSignatureError,
    OtherDigestError,
    OtherIdentityError,
    SignatureError,
    UnsignedImageError,
)
from image_digest.transport import TransportOptions

__version__ = "0.1.0"

# A library adds no handler of its own: applications decide where warnings go (the CLI prints
# them, Pulumi and CDKTF adapters report them their own way), so nothing is printed twice.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_LOCK_NAME",
    "LOCK_ENV",
    "MODES",
    "MODE_ENV",
    "TIMEOUT_ENV",
    "AuthenticationError",
    "BadSignatureError",
    "Basic",
    "BatchResolutionError",
    "DigestError",
    "DigestMismatchError",
    "IdentityToken",
    "InvalidOptionError",
    "InvalidPlatformError",
    "InvalidReferenceError",
    "Keychain",
    "LockError",
    "LockFile",
    "NotARegistryError",
    "NotFoundError",
    "OtherDigestError",
    "OtherIdentityError",
    "PinError",
    "PlatformNotFoundError",
    "Reference",
    "RegistryError",
    "RepositoryNotFoundError",
    "ResolvedImage",
    "Resolver",
    "ResolverOptions",
    "ResolverSettings",
    "SignatureError",
    "TagNotFoundError",
    "TransportOptions",
    "UnsignedImageError",
    "__version__",
    "has_digest",
    "needs_resolution",
    "parse",
    "pinned_reference",
    "resolve",
]
