"""TLS set-up and failures say what is wrong and what to change (SECURITY.md, "TLS and plain
HTTP"): a CA bundle that cannot be used fails when the `Resolver` is made (exit 2 in the CLI),
never as an `OSError` traceback at the first request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from image_digest import DigestError, InvalidOptionError, RegistryError, Resolver
from tests.hardening.scripted import (
    ScriptedRegistry,
    TlsMaterial,
    assert_names,
    make_tls_material,
)

ROOT = Path(__file__).resolve().parents[2]
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PINNED = "nginx@sha256:" + "a" * 64  # resolves without a request: only the set-up is tested


@pytest.fixture(autouse=True)
def no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine may set them; each test sets what it means to test."""
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def cli(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real entry point, on this checkout's code."""
    clean = {k: v for k, v in os.environ.items() if k not in CA_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "image_digest", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), "DOCKER_CONFIG": str(cwd), **(env or {})},
        check=False,
    )


def assert_one_error_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("image-digest: error: "), line
    for word in words:
        assert word in line, line


# == the CA bundle, checked when the Resolver is made ===========================================


def test_a_missing_ca_bundle_fails_at_once_naming_the_path_and_the_option():
    with pytest.raises(InvalidOptionError) as error:
        Resolver(ca_bundle="/nope.pem")

    message = str(error.value)
    assert "/nope.pem" in message and "does not exist" in message
    assert "--ca-bundle" in message and "ca_bundle=" in message
    assert isinstance(error.value, DigestError) and isinstance(error.value, ValueError)


@pytest.mark.parametrize("variable", CA_VARIABLES)
def test_a_missing_ca_bundle_from_the_environment_names_the_variable(monkeypatch, variable):
    monkeypatch.setenv(variable, "/nope.pem")

    with pytest.raises(InvalidOptionError, match=rf"/nope\.pem given by {variable} does not exist"):
        Resolver()


def test_a_ca_bundle_that_is_not_pem_names_the_file(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("this is not a certificate\n")

    with pytest.raises(InvalidOptionError, match=r"junk\.pem given by .* holds no PEM certificate"):
        Resolver(ca_bundle=str(junk))


def test_the_ca_bundle_option_wins_over_a_broken_variable(monkeypatch, tls_material: TlsMaterial):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nope.pem")

    Resolver(ca_bundle=str(tls_material.cert_path)).close()


def test_a_ca_bundle_removed_after_the_resolver_was_made_is_the_same_error(
    tmp_path, tls_fake: ScriptedRegistry, tls_material: TlsMaterial, make_resolver
):
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(tls_material.cert_path.read_bytes())
    tls_fake.open_ping()
    resolver = make_resolver(secure_registries=[tls_fake.host], ca_bundle=str(bundle))
    bundle.unlink()

    with pytest.raises(InvalidOptionError, match=r"ca\.pem given by --ca-bundle"):
        resolver.resolve(tls_fake.ref())


@pytest.mark.parametrize("command", ["resolve", "lock"])
def test_cli_missing_ca_bundle_option_is_one_line_and_exit_2(tmp_path, command):
    done = cli(command, "--ca-bundle", "/nope.pem", PINNED, cwd=tmp_path)

    assert_one_error_line(done, "/nope.pem", "--ca-bundle", "does not exist")
    assert not (tmp_path / "image-digest.lock").exists()


def test_cli_missing_ca_bundle_variable_is_one_line_and_exit_2(tmp_path):
    done = cli("resolve", PINNED, cwd=tmp_path, env={"REQUESTS_CA_BUNDLE": "/nope.pem"})

    assert_one_error_line(done, "/nope.pem", "REQUESTS_CA_BUNDLE", "does not exist")


# == why a handshake failed, against real servers ===============================================


def any_address(host: str) -> str:
    """`127.0.0.1:PORT` as `0.0.0.0:PORT`: the same server on Linux, but not a loopback name,
    so it gets HTTPS by default, like a registry on another machine."""
    return host.replace("127.0.0.1", "0.0.0.0", 1)


def test_a_plain_http_registry_reached_over_https_names_insecure_registry(
    registry, unique_repo, make_image, make_resolver
):
    pushed = registry.push(unique_repo, "v1", make_image())
    host = any_address(registry.host)
    ref = f"{host}/{unique_repo}:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(ref)

    message = assert_names(error, ref, host)
    assert "does not speak TLS but plain HTTP" in message
    assert f"--insecure-registry {host}" in message
    assert f'insecure_registries=["{host}"]' in message
    assert "certificate" not in message
    assert make_resolver(insecure_registries=[host]).resolve(ref).digest == pushed


def test_a_plain_http_loopback_registry_forced_secure_names_secure_registries(
    fake: ScriptedRegistry, make_resolver
):
    with pytest.raises(RegistryError) as error:
        make_resolver(secure_registries=[fake.host]).resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert f"remove {fake.host} from secure_registries" in message


def test_an_untrusted_certificate_names_every_way_to_pass_a_ca(
    tls_fake: ScriptedRegistry, make_resolver
):
    tls_fake.open_ping()

    with pytest.raises(RegistryError) as error:
        make_resolver(secure_registries=[tls_fake.host]).resolve(tls_fake.ref())

    message = assert_names(error, tls_fake.ref(), tls_fake.host)
    assert "certificate is not trusted" in message and "self-signed" in message
    for option in ("--ca-bundle PATH", "ca_bundle=PATH", "REQUESTS_CA_BUNDLE"):
        assert option in message
    assert "plain HTTP" not in message and "insecure" not in message


@pytest.mark.parametrize("variable", [None, "REQUESTS_CA_BUNDLE"])
def test_a_ca_bundle_that_does_not_trust_the_registry_is_named(
    tmp_path, monkeypatch, variable, tls_fake: ScriptedRegistry, make_resolver
):
    other = make_tls_material(tmp_path)  # a valid bundle, for another CA
    tls_fake.open_ping()
    options = {"secure_registries": [tls_fake.host]}
    if variable:
        monkeypatch.setenv(variable, str(other.cert_path))
    else:
        options["ca_bundle"] = str(other.cert_path)

    with pytest.raises(RegistryError) as error:
        make_resolver(**options).resolve(tls_fake.ref())

    message = assert_names(error, tls_fake.ref(), tls_fake.host)
    source = variable or "--ca-bundle / ca_bundle="
    assert f"not trusted by CA bundle {other.cert_path} given by {source}" in message


def test_a_certificate_for_another_host_says_so_not_ca_bundle(
    tls_fake: ScriptedRegistry, tls_material: TlsMaterial, make_resolver
):
    host = any_address(tls_fake.server.host + f":{tls_fake.server.port}")
    ref = f"{host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver(ca_bundle=str(tls_material.cert_path)).resolve(ref)

    message = assert_names(error, ref, host)
    assert f"its certificate is not for {host}" in message
    assert "--ca-bundle" not in message


def test_a_pem_file_with_a_broken_certificate_is_named_at_the_handshake(
    tmp_path, tls_fake: ScriptedRegistry, make_resolver
):
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    tls_fake.open_ping()

    with pytest.raises(RegistryError) as error:
        make_resolver(secure_registries=[tls_fake.host], ca_bundle=str(broken)).resolve(
            tls_fake.ref()
        )

    message = assert_names(error, tls_fake.ref(), tls_fake.host)
    assert f"CA bundle {broken} given by --ca-bundle / ca_bundle= holds no usable" in message


def test_cli_plain_http_registry_over_https_is_one_line_naming_the_flag(
    tmp_path, registry, unique_repo, make_image
):
    pushed = registry.push(unique_repo, "v1", make_image())
    host = any_address(registry.host)
    ref = f"{host}/{unique_repo}:v1"

    refused = cli("resolve", ref, cwd=tmp_path)
    allowed = cli("resolve", "--insecure-registry", host, ref, cwd=tmp_path)

    assert refused.returncode == 1 and refused.stdout == ""
    assert "Traceback" not in refused.stderr
    [line] = refused.stderr.splitlines()
    assert "plain HTTP" in line and f"--insecure-registry {host}" in line
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout == f"{ref}\t{host}/{unique_repo}@{pushed}\n"
