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

from image_digest import DigestError, InvalidOptionError, Resolver
from tests.hardening.scripted import ScriptedRegistry, TlsMaterial

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
