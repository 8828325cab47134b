"""The scheme rule and its overrides (SECURITY.md, "TLS and plain HTTP")."""

from __future__ import annotations

import pytest

from image_digest import Resolver, TransportOptions


@pytest.mark.parametrize(
    ("registry", "scheme"),
    [
        ("localhost", "http"),
        ("localhost:5000", "http"),
        ("127.0.0.1:5000", "http"),
        ("127.9.9.9", "http"),
        ("[::1]:5000", "http"),
        ("registry.example.com", "https"),
        ("10.0.0.1:5000", "https"),
        ("localhost.example.com", "https"),
    ],
)
def test_plain_http_only_for_loopback_by_default(registry, scheme):
    assert TransportOptions().scheme_for(registry) == scheme


def test_named_insecure_and_secure_registries():
    options = TransportOptions(
        insecure_registries=["registry.internal:5000", "other.internal"],  # type: ignore[arg-type]
        secure_registries=("localhost:5443",),  # type: ignore[arg-type]
    )

    assert options.scheme_for("registry.internal:5000") == "http"
    assert options.scheme_for("other.internal:8080") == "http"
    assert options.scheme_for("registry.internal:5001") == "https"
    assert options.scheme_for("localhost:5443") == "https"
    assert options.scheme_for("localhost:5000") == "http"
    assert isinstance(options.secure_registries, frozenset)


def test_a_host_cannot_be_both_secure_and_insecure():
    with pytest.raises(ValueError, match="both insecure and secure"):
        Resolver(insecure_registries=["r.local:5000"], secure_registries=["r.local:5000"])


def test_a_single_string_is_not_a_list_of_hosts():
    with pytest.raises(TypeError, match="collection of hosts"):
        TransportOptions(secure_registries="localhost:5443")  # type: ignore[arg-type]
