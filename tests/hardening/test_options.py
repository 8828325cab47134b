"""The scheme rule and its overrides (SECURITY.md, "TLS and plain HTTP")."""

from __future__ import annotations

import re

import pytest

from image_digest import Basic, IdentityToken, Resolver, TransportOptions
from image_digest.keychain import default_keychain


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


# == wrong argument types fail at once, showing the right form ==================================

SECRET = "s3cret-token-never-shown"


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: Resolver(**kw),
        lambda **kw: TransportOptions(**kw),
    ],
    ids=["Resolver", "TransportOptions"],
)
@pytest.mark.parametrize("name", ["insecure_registries", "secure_registries"])
def test_a_single_string_is_not_a_list_of_hosts(make, name):
    """Iterated, "host:5000" would name nine one-character registries."""
    with pytest.raises(TypeError) as error:
        make(**{name: "host:5000"})

    assert f'{name} takes a list of hosts, like {name}=["host:5000"]' in str(error.value)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (b"host:5000", 'like insecure_registries=["host:5000"], not a single bytes'),
        (5000, "not int"),
        (["host:5000", 5000], "hosts as strings"),
    ],
)
def test_other_wrong_host_lists_show_the_right_form(value, words):
    with pytest.raises(TypeError, match=re.escape(words)):
        Resolver(insecure_registries=value)


def test_max_workers_must_be_an_integer():
    with pytest.raises(TypeError, match=re.escape("like max_workers=16, not '4'")):
        Resolver(max_workers="4")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("credentials", "words"),
    [
        (
            {"registry.example.com": SECRET},
            'is a str; give each registry a ("user", "password") tuple',
        ),
        ({"registry.example.com": (SECRET,)}, "is a tuple of 1 items"),
        ({"registry.example.com": ["ci", SECRET]}, "is a list (not of two strings)"),
        ({"registry.example.com": ("ci", SECRET.encode())}, "is a tuple (not of two strings)"),
        ([("registry.example.com", ("ci", SECRET))], "credentials takes a mapping"),
        ({5000: ("ci", SECRET)}, "registry hosts as strings"),
    ],
    ids=["bare-token", "one-item", "list", "bytes-password", "not-a-mapping", "non-string-host"],
)
@pytest.mark.parametrize("entry", ["Resolver", "default_keychain"])
def test_wrong_credentials_show_the_accepted_forms_and_never_the_secret(entry, credentials, words):
    with pytest.raises(TypeError) as error:
        if entry == "Resolver":
            Resolver(credentials=credentials)
        else:
            default_keychain(credentials)

    message = str(error.value)
    assert words in message
    if isinstance(credentials, dict) and all(isinstance(h, str) for h in credentials):
        assert "Basic(" in message and "IdentityToken(" in message
    assert SECRET not in message and "s3cret" not in repr(error.value)


def test_a_bare_token_is_told_to_pair_with_a_user_name():
    with pytest.raises(TypeError, match=re.escape('("oauth2accesstoken", token)')):
        Resolver(credentials={"gcr.io": SECRET})  # type: ignore[dict-item]


def test_every_accepted_credential_form_still_works():
    keychain = default_keychain(
        {"a.example": ("ci", "pw"), "b.example": Basic("ci", "pw"), "c.example": IdentityToken("t")}
    )

    assert keychain.credentials_for("a.example") == Basic("ci", "pw")
    assert keychain.credentials_for("b.example") == Basic("ci", "pw")
    assert keychain.credentials_for("c.example") == IdentityToken("t")
