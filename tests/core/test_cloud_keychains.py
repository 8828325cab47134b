"""The cloud keychains against local stand-ins of their APIs and real docker-registries.

ECR: boto3 with the standard credential chain asks a local `GetAuthorizationToken` endpoint
(`AWS_ENDPOINT_URL_ECR`), and the token's password opens a basic-auth docker-registry whose
htpasswd user is `AWS`. ACR: an Entra token is exchanged at the registry's `/oauth2/exchange`
and the refresh token buys a JWT the token-auth docker-registry verifies. GHCR: a GitHub token
from the environment opens a basic-auth registry. The registries are reached under their
cloud names through an `Edge` used as the HTTP proxy (plain HTTP: `insecure_registries`).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError

from image_digest import AuthenticationError, Resolver
from image_digest.keychain import (
    AzureKeychain,
    DockerConfigKeychain,
    EcrKeychain,
    MultiKeychain,
)
from tests.support.cloud import ECR_PUBLIC_TARGET, ECR_TARGET, AcrTokenService, EcrApi, EcrCall
from tests.support.edge import Edge, forward
from tests.support.images import build_image
from tests.support.registry import RegistryServer, make_htpasswd, require_tools
from tests.support.token_server import TokenServer

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000"
ECR_PUBLIC = "public.ecr.aws:5000"
ACR = "myregistry.azurecr.io:5000"
GHCR = "ghcr.io"
AWS_KEY = "AKIDLOCALTEST"
ECR_PASSWORD = "ecr-password-1"
ENTRA_TOKEN = "entra-access-token-for-acr"
GITHUB_TOKEN = "ghp_localtesttoken"
HOUR = 3600.0


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class EntraCredential:
    """What azure-identity's credentials offer (`get_token`), with a fixed token and clock."""

    def __init__(self, clock: Clock, lifetime: float = HOUR):
        self.clock, self.lifetime, self.calls = clock, lifetime, 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        assert scopes == ("https://containerregistry.azure.net/.default",)
        self.calls += 1
        return AccessToken(ENTRA_TOKEN, int(self.clock() + self.lifetime))


class AcrRealm(TokenServer):
    """Signs tokens for the ACR stand-in; its realm is the registry's own `/oauth2/token`."""

    @property
    def realm(self) -> str:
        return f"http://{ACR}/oauth2/token"


@dataclass
class Cloud:
    edge: Edge
    ecr_api: EcrApi
    ecr: RegistryServer
    ghcr: RegistryServer
    acr: RegistryServer
    acr_tokens: AcrTokenService


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    require_tools()
    signer = AcrRealm(issuer="acr-stand-in")
    ecr = RegistryServer("basic", username="AWS", password=ECR_PASSWORD).start()
    ghcr = RegistryServer("basic", username="x-access-token", password=GITHUB_TOKEN).start()
    acr = RegistryServer("token", username="admin", password="admin-pw", token_server=signer)
    acr.SERVICE = "myregistry.azurecr.io"  # type: ignore[misc]  # ACR's service is its name
    acr_tokens = AcrTokenService(signer, acr.SERVICE, ENTRA_TOKEN, ("admin", "admin-pw"))
    ecr_api = EcrApi(AWS_KEY, ECR_PASSWORD)
    acr_upstream = None

    def acr_route(request: Any) -> Any:
        if request.path.startswith("/oauth2/"):
            return acr_tokens(request)
        assert acr_upstream is not None
        return acr_upstream(request)

    routes = {
        ECR.split(":")[0]: forward(ecr.url),
        ECR_PUBLIC.split(":")[0]: forward(ecr.url),
        GHCR: forward(ghcr.url),
        ACR.split(":")[0]: acr_route,
        "127.0.0.1": ecr_api,
    }
    with Edge(routes) as edge, pytest.MonkeyPatch.context() as env:
        env.setenv("HTTP_PROXY", f"http://127.0.0.1:{edge.port}")
        env.setenv("NO_PROXY", "127.0.0.1,localhost")
        acr.start()
        acr_upstream = forward(acr.url)
        yield Cloud(edge, ecr_api, ecr, ghcr, acr, acr_tokens)
    for server in (ecr, ghcr, acr):
        server.close()
    signer.stop()


@pytest.fixture
def env(cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AWS credentials in the environment, the stand-in's endpoints, an empty docker config."""
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text("{}")
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{cloud.edge.port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local-secret-key")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    endpoint = f"http://127.0.0.1:{cloud.edge.port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR_PUBLIC", endpoint)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "IMAGE_DIGEST_NO_GITHUB_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    cloud.ecr_api.calls.clear()
    cloud.edge.reset()
    return docker


def _push(registry: RegistryServer, repo: str, tag: str = "v1") -> str:
    return registry.push(repo, tag, build_image(f"{repo}:{tag}"))


# -- ECR -----------------------------------------------------------------------------------------


def test_ecr_token_from_the_aws_chain_opens_a_private_registry(cloud, env, unique_repo):
    pushed = _push(cloud.ecr, unique_repo)
    with Resolver(insecure_registries=[ECR]) as resolver:
        assert resolver.resolve(f"{ECR}/{unique_repo}:v1").digest == pushed
        assert resolver.resolve(f"{ECR}/{unique_repo}:v1").digest == pushed
    assert cloud.ecr_api.calls == [EcrCall(ECR_TARGET, "us-east-1", "ecr")]


def test_ecr_public_asks_ecr_public_in_us_east_1(cloud, env, unique_repo):
    pushed = _push(cloud.ecr, unique_repo)
    with Resolver(insecure_registries=[ECR_PUBLIC]) as resolver:
        assert resolver.resolve(f"{ECR_PUBLIC}/{unique_repo}:v1").digest == pushed
    assert cloud.ecr_api.calls == [EcrCall(ECR_PUBLIC_TARGET, "us-east-1", "ecr-public")]


def test_a_long_run_renews_the_ecr_token_before_hour_12(cloud, env, unique_repo, tmp_path):
    """The stand-in's tokens last 12 hours by the same clock; the registry is restarted with
    the second token's password, so only a renewed token can open it after hour 12."""
    clock = Clock()
    cloud.ecr_api.clock = clock
    registry = RegistryServer("basic", username="AWS", password=ECR_PASSWORD).start()
    cloud.edge.routes[ECR.split(":")[0]] = forward(registry.url)
    keychain = MultiKeychain([DockerConfigKeychain(), EcrKeychain(clock=clock)])
    digests = {tag: _push(registry, unique_repo, tag) for tag in ("h0", "h11", "h12", "h13")}
    try:
        with Resolver(keychain=keychain, insecure_registries=[ECR]) as resolver:

            def resolve(tag: str) -> str:
                return resolver.resolve(f"{ECR}/{unique_repo}:{tag}").digest

            assert resolve("h0") == digests["h0"]
            clock.now += 11 * HOUR
            assert resolve("h11") == digests["h11"]
            assert len(cloud.ecr_api.calls) == 1  # still the first token

            cloud.ecr_api.password = "ecr-password-2"
            (registry.root / "htpasswd").write_text(make_htpasswd("AWS", "ecr-password-2"))
            registry.stop()
            registry.start()
            clock.now += 45 * 60  # 11:45, inside the last half hour of the first token
            assert resolve("h12") == digests["h12"]
            assert len(cloud.ecr_api.calls) == 2
            clock.now += HOUR  # 12:45: the first token has expired, the second has not
            assert resolve("h13") == digests["h13"]
            assert len(cloud.ecr_api.calls) == 2
    finally:
        cloud.ecr_api.clock, cloud.ecr_api.password = time.time, ECR_PASSWORD
        cloud.edge.routes[ECR.split(":")[0]] = forward(cloud.ecr.url)
        registry.close()


def test_without_aws_credentials_ecr_is_anonymous_and_the_error_says_so(
    cloud, env, unique_repo, monkeypatch, caplog
):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    _push(cloud.ecr, unique_repo)
    caplog.set_level(logging.DEBUG, logger="image_digest")
    with Resolver(insecure_registries=[ECR]) as resolver, pytest.raises(AuthenticationError) as e:
        resolver.resolve(f"{ECR}/{unique_repo}:v1")
    message = str(e.value)
    assert "none (anonymous)" in message and "AWS credentials via boto3" in message
    assert "aws ecr get-login-password --region us-east-1" in message
    assert "no ECR token from ecr in us-east-1 (NoCredentialsError)" in caplog.text
    assert cloud.ecr_api.calls == []


def test_the_docker_config_comes_before_the_aws_chain(cloud, env, unique_repo):
    pushed = _push(cloud.ecr, unique_repo)
    auth = base64.b64encode(f"AWS:{ECR_PASSWORD}".encode()).decode()
    (env / "config.json").write_text(json.dumps({"auths": {ECR: {"auth": auth}}}))
    with Resolver(insecure_registries=[ECR]) as resolver:
        assert resolver.resolve(f"{ECR}/{unique_repo}:v1").digest == pushed
    assert cloud.ecr_api.calls == []


def test_without_boto3_ecr_is_anonymous(cloud, env, unique_repo, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if not installed
    caplog.set_level(logging.DEBUG, logger="image_digest")
    assert EcrKeychain().credentials_for(ECR) is None
    assert "boto3 is not installed (image-digest[aws])" in caplog.text


#: Docker Desktop's `credsStore`: a real helper that logs each run and knows no ECR host.
COUNTING_STORE = """#!{python}
import sys
with open({runs!r}, "a") as runs:
    runs.write(sys.stdin.read().strip() + "\\n")
print("credentials not found in native keychain")
sys.exit(1)
"""


def _counting_store(home: Path, config: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `credsStore` helper on PATH that records each run; the file of its runs."""
    runs, bin_dir = home / "store-runs.log", home / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker-credential-desktop"
    script.write_text(COUNTING_STORE.format(python=sys.executable, runs=str(runs)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    (config / "config.json").write_text(json.dumps({"credsStore": "desktop"}))
    runs.touch()
    return runs


def test_a_credential_store_runs_once_beside_a_short_lived_ecr_token(
    cloud, env, unique_repo, tmp_path, monkeypatch
):
    """Docker Desktop's store is asked once per registry, not before each use of the
    12-hour ECR token, and ten concurrent lookups share that one run."""
    runs = _counting_store(tmp_path, env, monkeypatch)
    tags = [f"t{n}" for n in range(10)]
    pushed = {f"{ECR}/{unique_repo}:{tag}": _push(cloud.ecr, unique_repo, tag) for tag in tags}
    with Resolver(insecure_registries=[ECR]) as resolver:
        resolved = resolver.resolve_many(pushed)
        again = resolver.resolve(f"{ECR}/{unique_repo}:t0")
    assert {ref: image.digest for ref, image in resolved.items()} == pushed
    assert again.digest == pushed[f"{ECR}/{unique_repo}:t0"]
    assert runs.read_text().splitlines() == [ECR]
    assert len(cloud.ecr_api.calls) == 1


def test_a_failed_ecr_fetch_is_retried_after_a_backoff(cloud, env, unique_repo, monkeypatch):
    """No AWS credentials at first: anonymous (refused); once they exist and the backoff has
    passed, the same resolver gets a token."""
    pushed = _push(cloud.ecr, unique_repo)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    clock = Clock()
    monkeypatch.setattr(cloud.ecr_api, "clock", clock)  # its tokens' expiry, by our clock
    keychain = MultiKeychain([DockerConfigKeychain(), EcrKeychain(clock=clock)])
    ref = f"{ECR}/{unique_repo}:v1"
    with Resolver(keychain=keychain, insecure_registries=[ECR]) as resolver:
        with pytest.raises(AuthenticationError):
            resolver.resolve(ref)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_KEY)
        with pytest.raises(AuthenticationError):
            resolver.resolve(ref)  # within the backoff: AWS is not asked again
        assert cloud.ecr_api.calls == []
        clock.now += 60
        assert resolver.resolve(ref).digest == pushed
    assert len(cloud.ecr_api.calls) == 1


# -- ACR -----------------------------------------------------------------------------------------


def _acr_keychain(credential: Any, clock: Clock) -> MultiKeychain:
    return MultiKeychain([DockerConfigKeychain(), AzureKeychain(credential, clock=clock)])


def test_acr_exchanges_the_entra_token_once_and_renews_it(cloud, env, unique_repo):
    pushed = {tag: _push(cloud.acr, f"{unique_repo}-{tag}", "v1") for tag in ("a", "b", "c")}
    clock = Clock()
    entra = EntraCredential(clock)
    cloud.acr_tokens.exchanges.clear()
    with Resolver(keychain=_acr_keychain(entra, clock), insecure_registries=[ACR]) as resolver:
        assert resolver.resolve(f"{ACR}/{unique_repo}-a:v1").digest == pushed["a"]
        assert resolver.resolve(f"{ACR}/{unique_repo}-b:v1").digest == pushed["b"]
        assert (entra.calls, len(cloud.acr_tokens.exchanges)) == (1, 1)
        clock.now += 56 * 60  # within 5 minutes of the Entra token's expiry: a new repository
        assert resolver.resolve(f"{ACR}/{unique_repo}-c:v1").digest == pushed["c"]
        assert (entra.calls, len(cloud.acr_tokens.exchanges)) == (2, 2)
    assert cloud.acr_tokens.exchanges[0] == {
        "grant_type": "access_token",
        "service": "myregistry.azurecr.io",
    }


def test_acr_identitytoken_in_the_docker_config_keeps_working(cloud, env, unique_repo):
    pushed = _push(cloud.acr, unique_repo)
    cloud.acr_tokens.grant_refresh_token("refresh-from-az-acr-login")
    config = {"auths": {ACR: {"identitytoken": "refresh-from-az-acr-login"}}}
    (env / "config.json").write_text(json.dumps(config))
    entra = EntraCredential(Clock())
    with Resolver(keychain=_acr_keychain(entra, Clock()), insecure_registries=[ACR]) as resolver:
        assert resolver.resolve(f"{ACR}/{unique_repo}:v1").digest == pushed
    assert entra.calls == 0


def test_a_refused_entra_token_names_the_azure_source(cloud, env, unique_repo):
    _push(cloud.acr, unique_repo)

    class Stranger(EntraCredential):
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("an-entra-token-acr-refuses", int(self.clock() + HOUR))

    keychain = _acr_keychain(Stranger(Clock()), Clock())
    with (
        Resolver(keychain=keychain, insecure_registries=[ACR]) as resolver,
        pytest.raises(AuthenticationError) as error,
    ):
        resolver.resolve(f"{ACR}/{unique_repo}:v1")
    message = str(error.value)
    assert "HTTP 401" in message and "an-entra-token-acr-refuses" not in message
    assert "credentials used: Azure Stranger (Entra token exchanged at" in message
    assert "az acr login --name myregistry" in message


class FlakyEntra(EntraCredential):
    """An Entra credential whose calls numbered in `failing` fail (Entra throttled or down)."""

    def __init__(self, clock: Clock, failing: set[int]):
        super().__init__(clock)
        self.failing = failing

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self.calls + 1 in self.failing:
            self.calls += 1
            raise ClientAuthenticationError("Entra is unreachable")
        return super().get_token(*scopes, **kwargs)


def test_a_failed_entra_renewal_is_retried_not_anonymous_for_good(cloud, env, unique_repo):
    pushed = {tag: _push(cloud.acr, f"{unique_repo}-{tag}") for tag in ("a", "b", "c")}
    clock = Clock()
    entra = FlakyEntra(clock, failing={2})
    with Resolver(keychain=_acr_keychain(entra, clock), insecure_registries=[ACR]) as resolver:

        def resolve(tag: str) -> str:
            return resolver.resolve(f"{ACR}/{unique_repo}-{tag}:v1").digest

        assert resolve("a") == pushed["a"]
        clock.now += 56 * 60  # renewal due; it fails, the token in hand is still valid
        assert resolve("b") == pushed["b"]
        assert entra.calls == 2
        clock.now += 5 * 60  # the first token has expired; the retry is due and succeeds
        assert resolve("c") == pushed["c"]
        assert entra.calls == 3


def test_a_failed_first_entra_token_is_retried_after_a_backoff(cloud, env, unique_repo):
    pushed = _push(cloud.acr, unique_repo)
    clock = Clock()
    entra = FlakyEntra(clock, failing={1})
    ref = f"{ACR}/{unique_repo}:v1"
    with Resolver(keychain=_acr_keychain(entra, clock), insecure_registries=[ACR]) as resolver:
        with pytest.raises(AuthenticationError) as error:
            resolver.resolve(ref)
        assert "none (anonymous)" in str(error.value)
        with pytest.raises(AuthenticationError):
            resolver.resolve(ref)  # within the backoff: Entra is not asked again
        assert entra.calls == 1
        clock.now += 60
        assert resolver.resolve(ref).digest == pushed
        assert entra.calls == 2


# -- GHCR ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "GH_TOKEN"])
def test_a_github_token_in_the_environment_opens_ghcr(
    cloud, env, unique_repo, monkeypatch, variable
):
    pushed = _push(cloud.ghcr, unique_repo)
    monkeypatch.setenv(variable, GITHUB_TOKEN)
    with Resolver(insecure_registries=[GHCR]) as resolver:
        assert resolver.resolve(f"{GHCR}/{unique_repo}:v1").digest == pushed


def test_image_digest_no_github_token_keeps_the_token_away(cloud, env, unique_repo, monkeypatch):
    _push(cloud.ghcr, unique_repo)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("IMAGE_DIGEST_NO_GITHUB_TOKEN", "1")
    with Resolver(insecure_registries=[GHCR]) as resolver, pytest.raises(AuthenticationError) as e:
        resolver.resolve(f"{GHCR}/{unique_repo}:v1")
    assert "none (anonymous)" in str(e.value) and GITHUB_TOKEN not in str(e.value)


def test_a_refused_github_token_names_its_variable(cloud, env, unique_repo, monkeypatch):
    _push(cloud.ghcr, unique_repo)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_revoked")
    with Resolver(insecure_registries=[GHCR]) as resolver, pytest.raises(AuthenticationError) as e:
        resolver.resolve(f"{GHCR}/{unique_repo}:v1")
    assert "credentials used: the GITHUB_TOKEN environment variable for ghcr.io" in str(e.value)
    assert "ghp_revoked" not in str(e.value)
