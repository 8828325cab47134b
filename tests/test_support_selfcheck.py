"""Proof that the shared test infrastructure (tests/support, tests/conftest.py) is sound.

Everything here checks the fixtures against independent observers (plain ``requests``,
``skopeo``, hashlib), never against the library under test, so a failure here means the
infrastructure, not the library, is broken.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Callable

import jwt
import pytest
import requests

from tests.support.images import (
    ACCEPT_ALL,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    LAYER_FILE_NAME,
    OCI_EMPTY,
    OCI_INDEX,
    OCI_MANIFEST,
    Image,
    Index,
    build_artifact,
    build_image,
    build_index,
    sha256_digest,
)
from tests.support.push import PushError, parse_challenge, push
from tests.support.registry import RegistryServer, RegistryStartError
from tests.support.token_server import TokenServer

# --- Builders -------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[str], Image | Index]] = {
    "oci-image": lambda content: build_image(content, labels={"k": "v"}),
    "docker-image": lambda content: build_image(content, media="docker"),
    "oci-index": lambda content: build_index(
        [
            build_image(content),
            build_image(content, architecture="arm64", variant="v8"),
        ]
    ),
    "docker-list": lambda content: build_index(
        [
            build_image(content, media="docker"),
            build_image(content, architecture="arm64", variant="v8", media="docker"),
        ],
        media="docker",
    ),
    "oci-artifact": lambda content: build_artifact(content),
}
MEDIA_TYPES = {
    "oci-image": OCI_MANIFEST,
    "docker-image": DOCKER_MANIFEST,
    "oci-index": OCI_INDEX,
    "docker-list": DOCKER_MANIFEST_LIST,
    "oci-artifact": OCI_MANIFEST,
}
KINDS = list(BUILDERS)


@pytest.mark.parametrize("kind", KINDS)
def test_building_twice_gives_identical_bytes(kind: str) -> None:
    first, second = BUILDERS[kind]("same"), BUILDERS[kind]("same")
    assert first == second
    assert first.manifest == second.manifest
    assert first.digest == sha256_digest(first.manifest)
    assert first.media_type == MEDIA_TYPES[kind]
    assert json.loads(first.manifest)["mediaType"] == first.media_type
    assert BUILDERS[kind]("other").digest != first.digest
    for digest, data in first.blobs.items():
        assert sha256_digest(data) == digest


def test_image_layer_and_config_are_fixed_and_platform_aware() -> None:
    image = build_image("hello", labels={"a": "1"}, architecture="arm64", variant="v8")
    assert image.platform == "linux/arm64/v8"
    assert build_image("hello").platform == "linux/amd64"
    config = json.loads(image.blobs[image.config_digest])
    assert config["architecture"] == "arm64"
    assert config["variant"] == "v8"
    assert config["config"]["Labels"] == {"a": "1"}
    (layer_digest,) = set(image.blobs) - {image.config_digest}
    tar_bytes = gzip.decompress(image.blobs[layer_digest])
    assert config["rootfs"]["diff_ids"] == [sha256_digest(tar_bytes)]
    assert image.blobs[layer_digest][4:8] == b"\0\0\0\0"  # gzip mtime
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as archive:
        (member,) = archive.getmembers()
        assert (member.name, member.mtime, member.uid) == (LAYER_FILE_NAME, 0, 0)
        extracted = archive.extractfile(member)
        assert extracted is not None and extracted.read() == b"hello"
    assert build_image("hello", labels={"a": "2"}).digest != build_image("hello").digest


def test_index_entries_carry_child_platforms() -> None:
    index = BUILDERS["oci-index"]("x")
    assert isinstance(index, Index)
    platforms = [entry["platform"] for entry in json.loads(index.manifest)["manifests"]]
    assert platforms == [
        {"os": "linux", "architecture": "amd64"},
        {"os": "linux", "architecture": "arm64", "variant": "v8"},
    ]
    assert index.child("linux/arm64/v8").platform == "linux/arm64/v8"


def test_artifact_has_artifact_type_and_empty_config() -> None:
    artifact = build_artifact("payload", "application/vnd.example.sbom.v1")
    manifest = json.loads(artifact.manifest)
    assert manifest["artifactType"] == "application/vnd.example.sbom.v1"
    assert manifest["config"]["mediaType"] == OCI_EMPTY
    assert artifact.blobs[artifact.config_digest] == b"{}"


# --- Plain registry: push, fetch back, skopeo agreement ---------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_pushed_digest_matches_registry_and_skopeo(
    kind: str, registry: RegistryServer, unique_repo: str
) -> None:
    artifact = BUILDERS[kind](unique_repo)
    assert registry.push(unique_repo, "v1", artifact) == artifact.digest

    url = f"{registry.url}/v2/{unique_repo}/manifests/v1"
    head = requests.head(url, headers={"Accept": ACCEPT_ALL}, timeout=10)
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == artifact.digest
    got = requests.get(url, headers={"Accept": ACCEPT_ALL}, timeout=10)
    assert got.content == artifact.manifest
    assert got.headers["Content-Type"] == artifact.media_type

    raw = registry.skopeo_raw(unique_repo, "v1")
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == artifact.digest

    if isinstance(artifact, Index):
        for child in artifact.children:
            assert registry.head_digest(unique_repo, child.digest) == child.digest


def test_push_is_idempotent_and_skips_existing_blobs(
    registry: RegistryServer, unique_repo: str
) -> None:
    image = build_image(unique_repo)
    assert registry.push(unique_repo, "a", image) == registry.push(unique_repo, "b", image)
    assert registry.head_digest(unique_repo, "b") == image.digest


def test_registry_accept_quirks(registry: RegistryServer, unique_repo: str) -> None:
    """docker-registry 2.8 hides OCI types from clients that do not Accept them."""
    oci, docker = build_image(unique_repo), build_image(unique_repo, media="docker")
    oci_index = build_index([oci])
    registry.push(unique_repo, "oci", oci)
    registry.push(unique_repo, "docker", docker)
    registry.push(unique_repo, "index", oci_index)

    def status(tag: str, accept: str | None) -> int:
        headers = {"Accept": accept} if accept else {}
        url = f"{registry.url}/v2/{unique_repo}/manifests/{tag}"
        return requests.get(url, headers=headers, timeout=10).status_code

    assert status("oci", None) == 404  # "OCI manifest found, but accept header does not..."
    assert status("index", OCI_MANIFEST) == 404  # "OCI index found, but accept header ..."
    assert status("docker", None) == 400  # tries a schema1 down-conversion and fails
    assert status("docker", DOCKER_MANIFEST) == 200


def test_registry_restarts_on_same_port_and_storage(unique_repo: str) -> None:
    image = build_image(unique_repo)
    with RegistryServer() as server:
        server.push(unique_repo, "v1", image)
        host = server.host
        server.stop()
        assert not server.running
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{server.url}/v2/", timeout=2)
        server.start()
        assert server.host == host
        assert server.head_digest(unique_repo, "v1") == image.digest


def test_start_failure_includes_log_tail(registry: RegistryServer) -> None:
    clash = RegistryServer()
    clash.port = registry.port  # pretend a restart onto a port that is taken
    try:
        with pytest.raises(RegistryStartError, match="address already in use"):
            clash.start()
    finally:
        clash.close()


def test_unique_repo_is_a_valid_distinct_name(
    unique_repo: str, make_image: Callable[..., Image]
) -> None:
    component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    assert re.fullmatch(rf"{component}(?:/{component})*", unique_repo)
    assert make_image().digest != make_image().digest


# --- Basic auth ------------------------------------------------------------------------------


def test_basic_registry_refuses_anonymous_and_accepts_alice(
    basic_registry: RegistryServer, unique_repo: str
) -> None:
    ping = requests.get(f"{basic_registry.url}/v2/", timeout=10)
    assert ping.status_code == 401
    assert parse_challenge(ping.headers["WWW-Authenticate"])[0] == "basic"
    wrong = requests.get(f"{basic_registry.url}/v2/", auth=("alice", "wrong"), timeout=10)
    assert wrong.status_code == 401
    assert basic_registry.username == "alice"
    right = requests.get(f"{basic_registry.url}/v2/", auth=basic_registry.credentials, timeout=10)
    assert right.status_code == 200

    image = build_image(unique_repo, media="docker")
    with pytest.raises(PushError, match="401"):
        basic_registry.push(unique_repo, "v1", image, anonymous=True)
    assert basic_registry.push(unique_repo, "v1", image) == image.digest
    assert basic_registry.head_digest(unique_repo, "v1") == image.digest
    assert sha256_digest(basic_registry.skopeo_raw(unique_repo, "v1")) == image.digest
    with pytest.raises(AssertionError, match="skopeo"):
        basic_registry.skopeo_raw(unique_repo, "v1", anonymous=True)


# --- Token auth ------------------------------------------------------------------------------


def _token(server: TokenServer, *scopes: str, auth: tuple[str, str] | None = None) -> str:
    response = requests.get(
        server.realm,
        params={"service": RegistryServer.SERVICE, "scope": list(scopes)},
        auth=auth,
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["token"])


def _head(registry: RegistryServer, repo: str, tag: str, token: str) -> requests.Response:
    return requests.head(
        f"{registry.url}/v2/{repo}/manifests/{tag}",
        headers={"Accept": ACCEPT_ALL, "Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_token_registry_pull_anonymous_push_with_credentials(
    token_registry: RegistryServer, registry: RegistryServer, unique_repo: str
) -> None:
    ping = requests.get(f"{token_registry.url}/v2/", timeout=10)
    scheme, params = parse_challenge(ping.headers["WWW-Authenticate"])
    assert (ping.status_code, scheme, params["realm"]) == (
        401,
        "bearer",
        token_registry.token_server.realm if token_registry.token_server else None,
    )

    image = build_image(unique_repo)
    with pytest.raises(PushError, match="401"):
        token_registry.push(unique_repo, "v1", image, anonymous=True)
    assert token_registry.push(unique_repo, "v1", image) == image.digest

    assert token_registry.head_digest(unique_repo, "v1", anonymous=True) == image.digest
    raw = token_registry.skopeo_raw(unique_repo, "v1", anonymous=True)
    assert sha256_digest(raw) == image.digest

    # A push by skopeo (a Go client) through the token flow, preserving the digest.
    index = BUILDERS["oci-index"](unique_repo + "-copy")
    registry.push(unique_repo, "src", index)
    token_registry.skopeo(
        "--insecure-policy",
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--dest-creds={}:{}".format(*(token_registry.credentials or ("", ""))),
        f"docker://{registry.reference(unique_repo, 'src')}",
        f"docker://{token_registry.reference(unique_repo, 'copied')}",
    )
    assert token_registry.head_digest(unique_repo, "copied", anonymous=True) == index.digest


def test_token_server_grants_several_repositories_in_one_token(
    token_registry: RegistryServer, unique_repo: str
) -> None:
    tokens = token_registry.token_server
    assert tokens is not None
    repos = [f"{unique_repo}-a", f"{unique_repo}-b"]
    image = build_image(unique_repo)
    for repo in repos:
        token_registry.push(repo, "v1", image)

    before = len(tokens.token_requests())
    token = _token(tokens, *(f"repository:{repo}:pull" for repo in repos))
    assert len(tokens.token_requests()) == before + 1
    for repo in repos:
        response = _head(token_registry, repo, "v1", token)
        assert response.status_code == 200
        assert response.headers["Docker-Content-Digest"] == image.digest
    assert _head(token_registry, f"{unique_repo}-c", "v1", token).status_code == 401


def test_registry_rejects_tokens_from_an_untrusted_signer(
    token_registry: RegistryServer, unique_repo: str
) -> None:
    token_registry.push(unique_repo, "v1", build_image(unique_repo))
    with TokenServer() as stranger:
        token = _token(stranger, f"repository:{unique_repo}:pull")
    assert _head(token_registry, unique_repo, "v1", token).status_code == 401


def test_token_server_options_and_claims() -> None:
    scopes = ["repository:one:pull,push", "repository:two:pull"]
    with TokenServer(multi_scope=False, expires_in=60, field="both") as server:
        response = requests.get(
            server.realm,
            params={"service": "svc", "scope": scopes},
            auth=(server.username, server.password),
            timeout=10,
        )
        body = response.json()
        assert body["token"] == body["access_token"]
        assert body["expires_in"] == 60
        header = jwt.get_unverified_header(body["token"])
        assert header["alg"] == "RS256"
        assert "x5c" in header and "kid" not in header
        claims = jwt.decode(
            body["token"], server.public_key_pem(), algorithms=["RS256"], audience="svc"
        )
        assert claims["iss"] == server.issuer
        assert claims["sub"] == server.username
        assert claims["exp"] - claims["iat"] == 60
        assert claims["access"] == [
            {"type": "repository", "name": "one", "actions": ["pull", "push"]}
        ]

        anonymous = requests.get(server.realm, params={"scope": scopes[0]}, timeout=10)
        anonymous_claims = jwt.decode(
            anonymous.json()["access_token"], options={"verify_signature": False}
        )
        assert anonymous_claims["access"][0]["actions"] == ["pull"]
        bad = requests.get(server.realm, params={"scope": scopes[0]}, auth=("a", "b"), timeout=10)
        assert bad.status_code == 401
        assert [request.query.get("scope") for request in server.token_requests()] == [
            scopes,
            [scopes[0]],
            [scopes[0]],
        ]

    with TokenServer(allow_anonymous=False, field="access_token") as strict:
        assert requests.get(strict.realm, timeout=10).status_code == 401
        ok = requests.get(strict.realm, auth=(strict.username, strict.password), timeout=10)
        assert set(ok.json()) == {"access_token", "expires_in", "issued_at"}


def test_push_helper_follows_token_challenge_with_a_given_session(
    token_registry: RegistryServer, unique_repo: str
) -> None:
    session = requests.Session()
    image = build_artifact(unique_repo)
    digest = push(
        token_registry.url,
        unique_repo,
        "v1",
        image,
        session=session,
        auth=token_registry.credentials,
    )
    assert digest == image.digest
