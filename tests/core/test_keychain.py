"""Where credentials come from: credential helpers, docker config, explicit values, Google ADC."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from image_digest import AuthenticationError, Resolver
from image_digest.keychain import Basic, DockerConfigKeychain, GoogleKeychain
from tests.support.images import build_image
from tests.support.registry import RegistryServer, make_htpasswd, require_tools

HELPER = """#!{python}
import json, sys
server = sys.stdin.read().strip()
known = json.loads({known!r})
if server not in known:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = known[server]
print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
"""


def install_helper(bin_dir: Path, name: str, known: dict[str, tuple[str, str]]) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / f"docker-credential-{name}"
    script.write_text(HELPER.format(python=sys.executable, known=json.dumps(known)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def docker_home(tmp_path, monkeypatch):
    """An empty DOCKER_CONFIG directory and a bin directory first on PATH."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def write_config(home: Path, config: dict) -> None:
    (home / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("where", ["credHelpers", "credsStore"])
def test_credential_helper_logs_in(basic_registry, unique_repo, docker_home, where):
    pushed = basic_registry.push(unique_repo, "v1", build_image(f"helper {where}"))
    install_helper(
        docker_home / "bin", "test", {basic_registry.host: ("alice", basic_registry.password)}
    )
    config = (
        {"credHelpers": {basic_registry.host: "test"}}
        if where == "credHelpers"
        else {"credsStore": "test"}
    )
    write_config(docker_home, config)

    assert Resolver().resolve(f"{basic_registry.host}/{unique_repo}:v1").digest == pushed


#: A helper whose store is a JSON file the test rewrites (as `docker login` would), and
#: which logs each run.
STORE_HELPER = """#!{python}
import json, sys
server = sys.stdin.read().strip()
with open({runs!r}, "a") as runs:
    runs.write(server + "\\n")
with open({store!r}) as store:
    known = json.load(store)
if server not in known:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = known[server]
print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
"""


def install_store(home: Path, known: dict[str, tuple[str, str]]) -> tuple[Path, Path]:
    """`credsStore: store` backed by a JSON file; (the file, the log of helper runs)."""
    store, runs, bin_dir = home / "store.json", home / "runs.log", home / "bin"
    store.write_text(json.dumps(known))
    runs.touch()
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "docker-credential-store"
    script.write_text(STORE_HELPER.format(python=sys.executable, runs=str(runs), store=str(store)))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    write_config(home, {"credsStore": "store"})
    return store, runs


def test_a_credential_helper_runs_once_per_registry(basic_registry, unique_repo, docker_home):
    """Concurrent lookups of ten tags share one helper run, and later lookups reuse it."""
    _, runs = install_store(docker_home, {basic_registry.host: ("alice", basic_registry.password)})
    pushed = {
        basic_registry.reference(unique_repo, tag): basic_registry.push(
            unique_repo, tag, build_image(f"helper once {tag}")
        )
        for tag in (f"t{n}" for n in range(10))
    }
    with Resolver() as resolver:
        resolved = resolver.resolve_many(pushed)
        resolver.resolve(basic_registry.reference(unique_repo, "t0"))
    assert {ref: image.digest for ref, image in resolved.items()} == pushed
    assert runs.read_text().splitlines() == [basic_registry.host]


def test_a_refused_helper_credential_is_asked_for_once_more(unique_repo, docker_home):
    """A password changed during a run (and stored again by `docker login`) is picked up
    after the registry's 401; once the helper has answered the same after a refusal, it is
    not run again for that registry."""
    require_tools()
    with RegistryServer("basic", username="alice", password="first-password") as registry:
        refs = {
            tag: registry.reference(unique_repo, tag)
            for tag in ("before", "after", "wrong", "still-wrong", "once-more")
        }
        for tag in refs:
            registry.push(unique_repo, tag, build_image(f"rotation {tag}"))
        store, runs = install_store(docker_home, {registry.host: ("alice", "first-password")})
        with Resolver() as resolver:
            resolver.resolve(refs["before"])
            (registry.root / "htpasswd").write_text(make_htpasswd("alice", "second-password"))
            registry.stop()
            registry.start()
            store.write_text(json.dumps({registry.host: ["alice", "second-password"]}))
            resolver.resolve(refs["after"])
            assert len(runs.read_text().splitlines()) == 2

            store.write_text(json.dumps({registry.host: ["alice", "not-the-password"]}))
            (registry.root / "htpasswd").write_text(make_htpasswd("alice", "third-password"))
            registry.stop()
            registry.start()
            for tag in ("wrong", "still-wrong", "once-more"):
                with pytest.raises(AuthenticationError) as error:
                    resolver.resolve(refs[tag])
                assert "not-the-password" not in str(error.value)
        # wrong: the new answer is tried; still-wrong: asked again, same answer; then no more.
        assert len(runs.read_text().splitlines()) == 4


def test_helper_without_an_entry_means_anonymous(basic_registry, unique_repo, docker_home):
    basic_registry.push(unique_repo, "v1", build_image("helper none"))
    install_helper(docker_home / "bin", "test", {})
    write_config(docker_home, {"credsStore": "test"})

    with pytest.raises(AuthenticationError) as error:
        Resolver().resolve(f"{basic_registry.host}/{unique_repo}:v1")
    assert "no credentials were found" in str(error.value)


def test_missing_helper_is_named(basic_registry, unique_repo, docker_home):
    write_config(docker_home, {"credHelpers": {basic_registry.host: "absent"}})
    with pytest.raises(AuthenticationError) as error:
        Resolver().resolve(f"{basic_registry.host}/{unique_repo}:v1")
    assert "docker-credential-absent" in str(error.value)
    assert "PATH" in str(error.value)


def test_explicit_credentials_win_over_docker_config(basic_registry, unique_repo, docker_home):
    pushed = basic_registry.push(unique_repo, "v1", build_image("explicit wins"))
    wrong = base64.b64encode(b"alice:not-it").decode()
    write_config(docker_home, {"auths": {basic_registry.host: {"auth": wrong}}})
    ref = f"{basic_registry.host}/{unique_repo}:v1"

    with pytest.raises(AuthenticationError):
        Resolver().resolve(ref)
    explicit = Resolver(credentials={basic_registry.host: ("alice", basic_registry.password)})
    assert explicit.resolve(ref).digest == pushed


def test_docker_hub_keys_of_every_spelling(docker_home):
    auth = base64.b64encode(b"hubuser:hubpass").decode()
    write_config(docker_home, {"auths": {"https://index.docker.io/v1/": {"auth": auth}}})
    keychain = DockerConfigKeychain()
    for name in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        assert keychain.credentials_for(name) == Basic("hubuser", "hubpass")
    assert keychain.credentials_for("ghcr.io") is None


def test_google_adc_becomes_oauth2accesstoken(httpserver, tmp_path, monkeypatch):
    """A service-account ADC file whose token endpoint is a local server: the real exchange."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    adc = tmp_path / "adc.json"
    adc.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "private_key_id": "k1",
                "private_key": pem,
                "client_email": "deployer@p.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": httpserver.url_for("/token"),
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    httpserver.expect_oneshot_request("/token", method="POST").respond_with_json(
        {"access_token": "ya29.local-test", "expires_in": 3600, "token_type": "Bearer"}
    )

    keychain = GoogleKeychain()
    for registry in ("gcr.io", "eu.gcr.io", "europe-west1-docker.pkg.dev"):
        assert keychain.credentials_for(registry) == Basic("oauth2accesstoken", "ya29.local-test")
    assert keychain.credentials_for("docker.io") is None
    assert keychain.credentials_for("pkg.dev.example.com") is None
    assert len(httpserver.log) == 1  # one exchange, reused while the token is valid
