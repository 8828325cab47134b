"""The cloud keychains' secrets never leak either: an ECR password from GetAuthorizationToken,
an Entra token and the refresh token ACR trades it for, a GitHub token from the environment.

The hostile registry of `test_no_leaks` is reached under each cloud's host name through an
`Edge` used as the HTTP proxy; it echoes what it receives into every place that can reach an
error, and its `/oauth2/exchange` puts the Entra token it got into the refresh token it hands
back (so the refresh token, and the token bought with it, carry the secret too).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from werkzeug import Request, Response

from image_digest import DigestError, Resolver
from image_digest.keychain import AzureKeychain, DockerConfigKeychain, MultiKeychain
from tests.hardening.conftest import BOUNDED
from tests.hardening.scripted import json_response
from tests.hardening.test_no_leaks import (
    CANARY,
    ECHO_MODES,
    IMAGE,
    HostileRegistry,
    exception_texts,
    log_texts,
)
from tests.support.cloud import EcrApi
from tests.support.edge import Edge, forward

HOSTS = {
    "ecr": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    "acr": "leaky.azurecr.io",
    "ghcr": "ghcr.io",
}
SECRETS = {
    "ecr": f"ecr-{CANARY}-password",
    "acr": f"entra-{CANARY}-token",
    "ghcr": f"ghp-{CANARY}-token",
}
SCHEMES = {"ecr": "basic", "acr": "bearer", "ghcr": "bearer"}
USERS = {"ecr": "AWS", "acr": "", "ghcr": "x-access-token"}


def forms(source: str) -> list[str]:
    secret = SECRETS[source]
    basic = base64.b64encode(f"{USERS[source]}:{secret}".encode()).decode()
    return [secret, basic, base64.b64encode(secret.encode()).decode(), CANARY]


def assert_clean(texts: list[str], source: str, where: str) -> None:
    for text in texts:
        for form in forms(source):
            assert form not in text, f"{where} leaks {form!r}: {text[:2000]}"


class EntraCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> object:
        from azure.core.credentials import AccessToken

        return AccessToken(SECRETS["acr"], 2_000_000_000)


@pytest.fixture
def cloud_source(fake, elsewhere, monkeypatch, isolated_credentials) -> Iterator[object]:
    """`make(source, scheme)`: the hostile registry behind the source's host name."""
    edges: list[Edge] = []

    def make(source: str, *, token_error: bool = False) -> HostileRegistry:
        hostile = HostileRegistry(fake, elsewhere, SCHEMES[source], token_error=token_error)
        hostile.install()

        def exchange(request: Request) -> Response:
            got = parse_qs(request.get_data(as_text=True)).get("access_token", [""])[0]
            hostile.received.append(got)
            return json_response({"refresh_token": f"acr-refresh.{got}"})

        fake.server.expect_request("/oauth2/exchange", method="POST").respond_with_handler(exchange)
        ecr_api = EcrApi("AKIDLEAKTEST", SECRETS["ecr"])
        edge = Edge({HOSTS[source]: forward(fake.url("")), "127.0.0.1": ecr_api}).start()
        edges.append(edge)
        proxy = f"http://127.0.0.1:{edge.port}"
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLEAKTEST")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "leak-test-secret-key")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", proxy)
        monkeypatch.setenv("GITHUB_TOKEN", SECRETS["ghcr"])
        return hostile

    yield make
    for edge in edges:
        edge.stop()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything at DEBUG, the SDKs' loggers (botocore, urllib3) included."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    yield caplog


def _resolver(source: str, **extra: object) -> Resolver:
    """The default keychain; for ACR, the Azure keychain with a fixed Entra credential."""
    if source == "acr":
        keychain = MultiKeychain([DockerConfigKeychain(), AzureKeychain(EntraCredential())])
        extra = {"keychain": keychain, **extra}
    return Resolver(**{**BOUNDED, "insecure_registries": [HOSTS[source]], **extra})


def _sent(hostile: HostileRegistry, source: str) -> bool:
    return any(form in got for got in hostile.received for form in forms(source)[:2])


@pytest.mark.parametrize("mode", ECHO_MODES)
@pytest.mark.parametrize("source", sorted(HOSTS))
def test_echoed_cloud_credentials_never_reach_errors_or_logs(
    cloud_source, logs, waits, source, mode
):
    hostile = cloud_source(source)
    ref = f"{HOSTS[source]}/{mode}/app:v1"

    with _resolver(source) as resolver, pytest.raises(DigestError) as error:
        resolver.resolve(ref, platform="linux/s390x" if mode == "platform" else None)

    assert _sent(hostile, source), "secret never sent"
    assert ref in str(error.value)
    assert_clean(exception_texts(error.value), source, "the exception")
    assert_clean(log_texts(logs), source, "the log")


@pytest.mark.parametrize("source", ["acr", "ghcr"])
def test_cloud_token_endpoint_echoing_credentials_leaks_nothing(cloud_source, logs, waits, source):
    hostile = cloud_source(source, token_error=True)

    with _resolver(source) as resolver, pytest.raises(DigestError) as error:
        resolver.resolve(f"{HOSTS[source]}/ok/app:v1")

    assert _sent(hostile, source), "secret never sent"
    assert_clean(exception_texts(error.value), source, "the exception")
    assert_clean(log_texts(logs), source, "the log")


@pytest.mark.parametrize("source", sorted(HOSTS))
def test_cloud_success_leaves_no_credential_in_the_lock_file_or_logs(
    cloud_source, logs, tmp_path, source
):
    hostile = cloud_source(source)
    lock = tmp_path / "locks" / "image-digest.lock"
    lock.parent.mkdir()

    with _resolver(source, lock=lock) as resolver:
        resolved = resolver.resolve(f"{HOSTS[source]}/ok/app:v1")

    assert resolved.digest == IMAGE.digest
    assert _sent(hostile, source), "secret never sent"
    assert_clean([lock.read_text()], source, "the lock file")
    assert_clean([repr(resolved), json.dumps(resolved.as_dict())], source, "the result")
    assert_clean(log_texts(logs), source, "the log")


def test_botocore_debug_lines_never_show_aws_credentials(cloud_source, logs, monkeypatch):
    """botocore logs what it signs and sends at DEBUG: the session token (in the canonical
    request and the X-Amz-Security-Token header), the Authorization header, the token
    response. Canaries as the AWS secret key and session token must not reach the log."""
    hostile = cloud_source("ecr")
    session_token, secret_key = f"session-{CANARY}-token", f"secret-{CANARY}-key"
    monkeypatch.setenv("AWS_SESSION_TOKEN", session_token)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_key)

    with _resolver("ecr") as resolver:
        resolved = resolver.resolve(f"{HOSTS['ecr']}/ok/app:v1")

    assert resolved.digest == IMAGE.digest
    assert _sent(hostile, "ecr"), "secret never sent"
    botocore = [r for r in logs.records if r.name.startswith("botocore")]
    assert {"botocore.auth", "botocore.endpoint"} <= {r.name for r in botocore}, "nothing logged"
    texts = log_texts(logs)
    for secret in (session_token, secret_key):
        assert not [text for text in texts if secret in text], secret
    assert_clean(texts, "ecr", "the log")
    assert not [r for r in botocore if "AWS4-HMAC-SHA256 Credential=" in r.getMessage()]
