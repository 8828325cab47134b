"""401/403 messages a user can act on: "does not exist, or your credentials cannot see it",
which credentials were sent (never their secret), the registry's own words, and the command
that logs in to that registry.

The real token-auth registry shows what it can (its token server refusing a wrong password
for a repository that does not exist); scripted servers play the shapes of Docker Hub, GHCR
or GCR that docker-registry does not produce (an empty-access JWT, a 403 whose text only a
GET carries).
"""

from __future__ import annotations

import base64
import json
import traceback
from pathlib import Path

import pytest
from werkzeug import Request, Response

from image_digest import AuthenticationError
from image_digest.keychain.login import login_command
from tests.hardening.scripted import (
    ScriptedRegistry,
    assert_names,
    distribution_error,
    json_response,
)

CANARY = "canary-pw-7f3a9c"
MANIFEST = "/v2/app/manifests/v1"
KEY_WORDS = "does not exist, or your credentials cannot see it"


def assert_no_canary(error: pytest.ExceptionInfo[AuthenticationError]) -> None:
    text = "".join(traceback.format_exception(error.value))
    assert CANARY not in text
    assert base64.b64encode(f"alice:{CANARY}".encode()).decode() not in text


def test_token_server_refusing_a_wrong_password_names_source_and_fix(token_registry, make_resolver):
    ref = f"{token_registry.host}/t/never-pushed:v1"
    resolver = make_resolver(credentials={token_registry.host: ("alice", CANARY)})
    token_registry.token_server.reset()

    with pytest.raises(AuthenticationError) as error:
        resolver.resolve(ref)

    message = assert_names(error, ref, token_registry.host)
    assert KEY_WORDS in message
    assert "repository t/never-pushed" in message
    assert f"explicit credentials for {token_registry.host}" in message
    assert "UNAUTHORIZED: authentication required" in message  # the token server's words
    assert message.endswith(f"run: docker login {token_registry.host}")
    assert_no_canary(error)
    assert resolver.request_count() == 2  # the ping and one token request
    assert len(token_registry.token_server.token_requests()) == 1


def test_anonymous_on_a_basic_registry_says_anonymous_and_where_it_looked(
    basic_registry, make_resolver, isolated_credentials
):
    ref = f"{basic_registry.host}/t/never-pushed:v1"
    resolver = make_resolver()

    with pytest.raises(AuthenticationError) as error:
        resolver.resolve(ref)

    message = assert_names(error, ref, basic_registry.host)
    assert KEY_WORDS in message
    assert f"none (anonymous): no credentials were found for {basic_registry.host}" in message
    assert f"docker config {isolated_credentials / 'config.json'}" in message
    assert "UNAUTHORIZED: authentication required" in message  # read by one GET
    # The ping, the HEAD (not sent again: the same Basic credentials would be refused
    # again), and one GET for the registry's error text.
    assert resolver.request_count() == 3


def _jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class HubLikeRegistry:
    """Bearer auth whose token server grants `"access": []` for a repository the caller may
    not see (as Docker Hub does), and whose registry then answers 401, with an error body on
    GET only."""

    def __init__(self, fake: ScriptedRegistry):
        challenge = f'Bearer realm="{fake.url("/token")}",service="hub"'
        self.challenge = {"WWW-Authenticate": challenge}
        self.tokens = 0
        fake.always("GET", "/v2/", Response("", 401, self.challenge))
        fake.always("GET", "/token", self.token)
        fake.always("HEAD", MANIFEST, Response("", 401, self.challenge))
        denied = distribution_error("UNAUTHORIZED", "authentication required")
        fake.always("GET", MANIFEST, json_response(json.loads(denied), 401, self.challenge))

    def token(self, request: Request) -> Response:
        self.tokens += 1
        return json_response({"token": _jwt({"sub": "alice", "access": []}), "expires_in": 300})


def test_empty_access_token_is_not_fetched_twice(fake, make_resolver):
    hub = HubLikeRegistry(fake)
    resolver = make_resolver(credentials={fake.host: ("alice", CANARY)})

    with pytest.raises(AuthenticationError) as error:
        resolver.resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert KEY_WORDS in message
    assert "it said 'UNAUTHORIZED: authentication required'" in message
    assert f"explicit credentials for {fake.host}" in message
    assert_no_canary(error)
    assert hub.tokens == 1
    assert len(fake.seen("HEAD", MANIFEST)) == 1
    assert len(fake.seen("GET", MANIFEST)) == 1
    assert resolver.request_count() == 4  # ping, token, HEAD, one GET for the error text


def test_403_text_comes_from_one_get_and_names_the_docker_config_entry(
    fake, make_resolver, isolated_credentials: Path
):
    auth = base64.b64encode(f"alice:{CANARY}".encode()).decode()
    config = isolated_credentials / "config.json"
    config.write_text(json.dumps({"auths": {f"https://{fake.host}/v1/": {"auth": auth}}}))
    fake.always("GET", "/v2/", Response("", 401, {"WWW-Authenticate": 'Basic realm="r"'}))
    fake.always("HEAD", MANIFEST, Response("", 403))
    body = distribution_error("DENIED", "requested access to the resource is denied")
    fake.always("GET", MANIFEST, Response(body, 403, {"Content-Type": "application/json"}))
    resolver = make_resolver()

    with pytest.raises(AuthenticationError) as error:
        resolver.resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert "HTTP 403" in message
    assert KEY_WORDS in message
    assert "DENIED: requested access to the resource is denied" in message
    assert f"docker config {config}, auths 'https://{fake.host}/v1/'" in message
    assert f"docker login {fake.host}" in message
    assert_no_canary(error)
    assert len(fake.seen("HEAD", MANIFEST)) == 1
    assert len(fake.seen("GET", MANIFEST)) == 1
    assert resolver.request_count() == 3  # ping, HEAD, one GET


def test_a_403_body_is_read_capped_and_shortened(fake, make_resolver):
    fake.open_ping()
    fake.always("HEAD", MANIFEST, Response("", 403))
    huge = distribution_error("DENIED", "x" * 100_000)
    fake.always("GET", MANIFEST, Response(huge, 403, {"Content-Type": "application/json"}))

    with pytest.raises(AuthenticationError) as error:
        make_resolver().resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert KEY_WORDS in message
    assert "DENIED" not in message  # over the 64 KiB cap: not read at all
    assert len(message) < 1000


@pytest.mark.parametrize(
    ("registry", "command"),
    [
        ("registry.example.com:5000", "docker login registry.example.com:5000"),
        ("docker.io", "docker login docker.io"),
        ("ghcr.io", "docker login ghcr.io"),
        ("gcr.io", "gcloud auth configure-docker gcr.io"),
        ("eu.gcr.io", "gcloud auth configure-docker eu.gcr.io"),
        ("europe-west1-docker.pkg.dev", "gcloud auth configure-docker europe-west1-docker.pkg.dev"),
        (
            "123456789012.dkr.ecr.eu-west-3.amazonaws.com",
            "aws ecr get-login-password --region eu-west-3 | docker login --username AWS "
            "--password-stdin 123456789012.dkr.ecr.eu-west-3.amazonaws.com",
        ),
        ("myteam.azurecr.io", "az acr login --name myteam"),
        ("azurecr.io.example.com", "docker login azurecr.io.example.com"),
    ],
)
def test_login_command_by_host(registry, command):
    assert login_command(registry) == command
