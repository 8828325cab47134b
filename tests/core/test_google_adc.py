"""Google ADC never slows down or blocks a public image on a Google registry.

The real local token-auth registry (which, like gcr.io, challenges every request and grants
anonymous pull tokens) is reached under an Artifact Registry name
(`europe-docker.pkg.dev:5000`) through a small forward proxy, so the default keychain treats
it as a Google registry and asks for its credentials. google-auth's metadata probes are
replaced by recorders: touching the metadata server without ADC configured is the fault
under test, one no real part can show here (this machine is not on Google Cloud).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import google.auth
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.compute_engine import _metadata
from werkzeug import Request, Response

import image_digest.keychain.adc as adc
from image_digest import Resolver
from image_digest.keychain import Basic, DockerConfigKeychain, GoogleKeychain, MultiKeychain
from image_digest.keychain.adc import GOOGLE_CLOUD_VARIABLES, adc_origin
from tests.support.edge import Edge, forward
from tests.support.fault_server import FaultConnection, FaultServer, RawRequest
from tests.support.images import build_image
from tests.support.registry import RegistryServer, require_tools
from tests.support.token_server import TokenServer

GOOGLE_HOST = "europe-docker.pkg.dev:5000"


@pytest.fixture
def no_adc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with no ADC at all and nothing saying it is on Google Cloud."""
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "NO_GCE_CHECK", *GOOGLE_CLOUD_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    gcloud = tmp_path / "gcloud"
    gcloud.mkdir()
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(gcloud))
    monkeypatch.setattr(adc, "DMI_PRODUCT_NAME", tmp_path / "no-dmi-product-name")
    docker = tmp_path / "docker"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    return gcloud


@pytest.fixture
def metadata_probes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to reach the metadata server (none may happen without ADC)."""
    calls: list[str] = []

    def is_on_gce(*args: object, **kwargs: object) -> bool:
        calls.append("is_on_gce")
        return False

    def ping(*args: object, **kwargs: object) -> bool:
        calls.append("ping")
        return False

    monkeypatch.setattr(_metadata, "is_on_gce", is_on_gce)
    monkeypatch.setattr(_metadata, "ping", ping)
    return calls


@pytest.fixture
def google_named(
    token_registry: RegistryServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultServer]:
    """A forward proxy that serves `GOOGLE_HOST` from the real local registry."""
    session = requests.Session()

    def forward(request: RawRequest, connection: FaultConnection) -> None:
        target = urlsplit(request.path)
        assert target.netloc == GOOGLE_HOST, request.path
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = {k: v for k, v in request.headers.items() if k in ("authorization", "accept")}
        answer = session.request(
            request.method, f"{token_registry.url}{path}", headers=headers, timeout=10
        )
        relayed = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() in ("content-type", "docker-content-digest", "www-authenticate")
        }
        connection.respond(
            answer.status_code, relayed, answer.content, head=request.method == "HEAD"
        )

    server = FaultServer(forward).start()
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, f"http://{server.host}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    yield server
    server.stop()


def _resolve_public_image(registry: RegistryServer, unique_repo: str) -> None:
    """Resolve anonymously, as an anonymous token the token server handed out."""
    pushed = registry.push(unique_repo, "v1", build_image(f"public {unique_repo}"))
    ref = f"{GOOGLE_HOST}/{unique_repo}:v1"
    assert registry.token_server is not None
    registry.token_server.reset()
    with Resolver(insecure_registries=[GOOGLE_HOST]) as resolver:
        assert resolver.resolve(ref).digest == pushed
    assert [claims["sub"] for claims in registry.token_server.issued] == [""]  # anonymous


def _service_account_file(path: Path, token_uri: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "deployer@p.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return path


def test_without_adc_a_public_google_image_resolves_and_nothing_probes_metadata(
    token_registry, unique_repo, no_adc, metadata_probes, google_named, monkeypatch
):
    defaults: list[object] = []
    monkeypatch.setattr(google.auth, "default", lambda *a, **k: defaults.append(a) or (1 / 0))

    _resolve_public_image(token_registry, unique_repo)

    assert metadata_probes == []
    assert defaults == []  # ADC is not even asked
    assert google_named.paths("HEAD") == [f"http://{GOOGLE_HOST}/v2/{unique_repo}/manifests/v1"]


def test_a_broken_adc_file_means_anonymous_with_a_debug_line(
    token_registry,
    unique_repo,
    no_adc,
    metadata_probes,
    google_named,
    monkeypatch,
    tmp_path,
    caplog,
):
    broken = tmp_path / "adc.json"
    broken.write_text('{"type": "service_account", "private_key": "SECRET-KEY-TEXT", ')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(broken))
    caplog.set_level(logging.DEBUG, logger="image_digest.keychain.google")

    _resolve_public_image(token_registry, unique_repo)

    lines = [r.getMessage() for r in caplog.records if r.name == "image_digest.keychain.google"]
    assert any(f"GOOGLE_APPLICATION_CREDENTIALS {broken}" in line for line in lines), lines
    assert any("DefaultCredentialsError" in line for line in lines), lines
    assert "SECRET-KEY-TEXT" not in caplog.text
    assert metadata_probes == []


def test_an_adc_refresh_error_means_anonymous_with_a_debug_line(
    token_registry, unique_repo, no_adc, metadata_probes, google_named, httpserver, tmp_path, caplog
):
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, status=400
    )
    _service_account_file(
        no_adc / "application_default_credentials.json", httpserver.url_for("/token")
    )
    caplog.set_level(logging.DEBUG, logger="image_digest.keychain.google")

    _resolve_public_image(token_registry, unique_repo)

    assert "RefreshError" in caplog.text
    assert f"gcloud ADC file {no_adc}" in caplog.text
    assert len(httpserver.log) == 1  # one refresh attempt, then anonymous
    assert metadata_probes == []


def test_the_gcloud_adc_file_is_used_and_named(no_adc, metadata_probes, httpserver):
    httpserver.expect_oneshot_request("/token", method="POST").respond_with_json(
        {"access_token": "ya29.from-gcloud-file", "expires_in": 3600, "token_type": "Bearer"}
    )
    adc_file = no_adc / "application_default_credentials.json"
    _service_account_file(adc_file, httpserver.url_for("/token"))
    keychain = GoogleKeychain()

    assert keychain.credentials_for("gcr.io") == Basic("oauth2accesstoken", "ya29.from-gcloud-file")
    assert keychain.source_for("gcr.io") == (
        f"Google Application Default Credentials from gcloud ADC file {adc_file}"
    )
    assert metadata_probes == []


@pytest.mark.parametrize("variable", GOOGLE_CLOUD_VARIABLES)
def test_google_cloud_environments_consult_adc_unless_no_gce_check(no_adc, monkeypatch, variable):
    assert adc_origin() is None
    monkeypatch.setenv(variable, "set-by-the-platform")
    assert adc_origin() == f"the metadata server ({variable} is set)"
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    assert adc_origin() is None


def test_a_google_machine_consults_adc(no_adc, monkeypatch, tmp_path):
    product = tmp_path / "product_name"
    product.write_text("Google Compute Engine\n")
    monkeypatch.setattr(adc, "DMI_PRODUCT_NAME", product)

    assert adc_origin() == "the metadata server (a Google Compute Engine machine)"


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_google_adc_token_is_renewed_inside_one_resolver(
    no_adc, metadata_probes, httpserver, tmp_path, unique_repo, monkeypatch
):
    """Access tokens last an hour (by the injected clock); the token server of a private
    registry under a Google name takes only the newest, as one whose old token has expired."""
    require_tools()
    issued = iter(["ya29.first-hour", "ya29.second-hour"])

    def token_endpoint(request: Request) -> Response:
        body = {"access_token": next(issued), "expires_in": 3600, "token_type": "Bearer"}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/token", method="POST").respond_with_handler(token_endpoint)
    adc_file = _service_account_file(tmp_path / "adc.json", httpserver.url_for("/token"))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc_file))
    user, first = "oauth2accesstoken", "ya29.first-hour"
    clock = Clock()
    with (
        TokenServer(username=user, password=first, allow_anonymous=False) as tokens,
        RegistryServer("token", username=user, password=first, token_server=tokens) as registry,
        Edge({GOOGLE_HOST.split(":")[0]: forward(registry.url)}) as edge,
    ):
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{edge.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        pushed = {
            name: registry.push(f"{unique_repo}-{name}", "v1", build_image(f"adc {name}"))
            for name in ("a", "b")
        }
        keychain = MultiKeychain([DockerConfigKeychain(), GoogleKeychain(clock=clock)])
        with Resolver(keychain=keychain, insecure_registries=[GOOGLE_HOST]) as resolver:

            def resolve(name: str) -> str:
                return resolver.resolve(f"{GOOGLE_HOST}/{unique_repo}-{name}:v1").digest

            assert resolve("a") == pushed["a"]
            tokens.password = "ya29.second-hour"
            clock.now += 56 * 60  # within 5 minutes of the first token's end
            assert resolve("b") == pushed["b"]
        assert [claims["sub"] for claims in tokens.issued][-2:] == [user, user]
    assert len(httpserver.log) == 2  # one refresh per hour, not per request
    assert metadata_probes == []
