"""Scripted registries for the hardening tests: a werkzeug registry you program per test,
self-signed TLS material, and the assertions every fault case shares.

``ScriptedRegistry`` wraps a pytest-httpserver ``HTTPServer``: ``serve(...)`` installs a
well-behaved manifest endpoint (HEAD and GET), ``then(...)`` queues one-shot answers that
come first, in order, before the permanent ones. ``seen(...)`` lists what the server received.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from image_digest import DigestError, ResolvedImage
from tests.support.certs import self_signed_ca
from tests.support.images import OCI_MANIFEST, sha256_digest

Handler = Callable[[Request], Response]


def distribution_error(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


class ScriptedRegistry:
    """A programmable registry on one pytest-httpserver instance.

    ``name`` is the host the client uses in references (``127.0.0.1:PORT`` by default; the
    TLS registry is addressed as ``localhost:PORT`` so its certificate can name it).
    """

    def __init__(self, server: HTTPServer, name: str | None = None):
        self.server = server
        self.host = name or f"127.0.0.1:{server.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.server.ssl_context is not None else "http"

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}{path}"

    def ref(self, repo: str = "app", tag: str = "v1") -> str:
        return f"{self.host}/{repo}:{tag}"

    # -- programming ---------------------------------------------------------------------------

    def open_ping(self) -> None:
        """``GET /v2/`` answers 200: no authentication."""
        self.server.expect_request("/v2/", method="GET").respond_with_data(
            "{}", content_type="application/json"
        )

    def serve(
        self,
        body: bytes,
        *,
        repo: str = "app",
        tag: str = "v1",
        media_type: str = OCI_MANIFEST,
        digest_header: str | None = "auto",
        methods: tuple[str, ...] = ("HEAD", "GET"),
    ) -> str:
        """A manifest at tag and at its digest; returns the digest. ``digest_header=None``
        leaves the header out, any other string replaces it."""
        digest = sha256_digest(body)
        headers = {"Content-Type": media_type}
        if digest_header is not None:
            headers["Docker-Content-Digest"] = digest if digest_header == "auto" else digest_header
        for identifier in (tag, digest):
            for method in methods:
                self.server.expect_request(
                    f"/v2/{repo}/manifests/{identifier}", method=method
                ).respond_with_response(Response(body, 200, headers))
        return digest

    def then(self, method: str, path: str, *answers: Response | Handler) -> None:
        """One-shot answers for `method path`, served in order before any permanent one."""
        for answer in answers:
            handler = self.server.expect_oneshot_request(path, method=method)
            if isinstance(answer, Response):
                handler.respond_with_response(answer)
            else:
                handler.respond_with_handler(answer)

    def always(self, method: str, path: str, answer: Response | Handler) -> None:
        handler = self.server.expect_request(path, method=method)
        if isinstance(answer, Response):
            handler.respond_with_response(answer)
        else:
            handler.respond_with_handler(answer)

    # -- observing -----------------------------------------------------------------------------

    def seen(self, method: str | None = None, path: str | None = None) -> list[Request]:
        return [
            request
            for request, _ in self.server.log
            if (method is None or request.method == method)
            and (path is None or request.path == path)
        ]


# -- TLS ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsMaterial:
    """A self-signed certificate for ``localhost`` / ``127.0.0.1`` and its key, on disk."""

    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def make_tls_material(directory: Path) -> TlsMaterial:
    key = ec.generate_private_key(ec.SECP256R1())
    names = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = self_signed_ca(key, "image-digest test registry", days=7, extensions=[(names, False)])
    cert_path, key_path = directory / "registry.crt", directory / "registry.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsMaterial(cert_path, key_path)


# -- assertions ---------------------------------------------------------------------------------


def assert_pinned(resolved: ResolvedImage, ref: str, digest: str) -> None:
    """The answer is the content digest, never the tag."""
    assert resolved.digest == digest
    assert resolved.reference == ref
    name = ref.rsplit(":", 1)[0] if ref.rfind(":") > ref.rfind("/") else ref
    assert resolved.repo_digest == f"{name}@{digest}"
    assert "@sha256:" in resolved.repo_digest


def assert_names(
    error: pytest.ExceptionInfo[DigestError] | DigestError, ref: str, registry: str
) -> str:
    """The error names the reference and the registry; returns its message."""
    exc = error.value if isinstance(error, pytest.ExceptionInfo) else error
    message = str(exc)
    assert ref in message, message
    assert registry in message, message
    assert exc.reference == ref
    assert exc.registry == registry
    assert "\n" not in message, message
    return message


def json_response(
    value: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(value), status, {"Content-Type": "application/json", **(headers or {})}
    )
