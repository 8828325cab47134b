"""Faults in front of a real docker-registry: a proxy that fails some requests, forwards the rest.

The scripted cases (test_faults.py) cover what a real registry will not produce; here the
registry's real answers (its challenges, tokens, manifests and digests) go through transient
failures, and the result must still be exactly the digest that was pushed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from image_digest import AuthenticationError
from tests.hardening.scripted import assert_names, assert_pinned
from tests.support.fault_server import FaultConnection, FaultServer, RawRequest
from tests.support.images import build_image, build_index
from tests.support.registry import RegistryServer

_RELAYED = ("content-type", "docker-content-digest", "www-authenticate", "location")
Fault = Callable[[RawRequest, FaultConnection], bool]


def faulty_proxy(upstream: str, fault: Fault) -> FaultServer:
    """Relays every request to `upstream` unless `fault` handled it (returned True)."""
    session = requests.Session()

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if fault(request, connection):
            return
        headers = {k: v for k, v in request.headers.items() if k in ("authorization", "accept")}
        answer = session.request(
            request.method,
            f"{upstream}{request.path}",
            headers=headers,
            timeout=10,
            allow_redirects=False,
        )
        relayed = {k: v for k, v in answer.headers.items() if k.lower() in _RELAYED}
        connection.respond(
            answer.status_code, relayed, answer.content, head=request.method == "HEAD"
        )

    return FaultServer(script)


def fail_first(kinds: dict[tuple[str, str], list[str]]) -> Fault:
    """`{(method, path prefix): ["reset", "503", ...]}`: the first matching requests fail so."""
    pending = {key: list(faults) for key, faults in kinds.items()}

    def fault(request: RawRequest, connection: FaultConnection) -> bool:
        for (method, prefix), faults in pending.items():
            if request.method == method and request.path.startswith(prefix) and faults:
                kind = faults.pop(0)
                if kind == "reset":
                    connection.reset()
                else:
                    connection.respond(int(kind), {"Retry-After": "1"} if kind == "429" else {})
                return True
        return False

    return fault


@pytest.fixture
def proxy() -> Iterator[Callable[[RegistryServer, Fault], FaultServer]]:
    started: list[FaultServer] = []

    def start(registry: RegistryServer, fault: Fault) -> FaultServer:
        server = faulty_proxy(registry.url, fault).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_basic_auth_registry_through_resets_and_503s(
    basic_registry, unique_repo, proxy, make_resolver, waits
):
    pushed = basic_registry.push(unique_repo, "v1", build_image("real: basic through faults"))
    server = proxy(
        basic_registry,
        fail_first({("GET", "/v2/"): ["503"], ("HEAD", "/v2/t/"): ["reset", "502", "429"]}),
    )
    ref = f"{server.host}/{unique_repo}:v1"

    resolver = make_resolver(retries=4, credentials={server.host: basic_registry.credentials})

    assert_pinned(resolver.resolve(ref), ref, pushed)
    assert waits[-1] == 1  # the 429's Retry-After


def test_token_registry_index_and_platform_through_503s_and_resets(
    token_registry, unique_repo, proxy, make_resolver, waits
):
    arm = build_image("real: arm", architecture="arm64", variant="v8")
    index = build_index([build_image("real: amd"), arm])
    token_registry.push(unique_repo, "multi", index)
    server = proxy(
        token_registry,
        fail_first(
            {
                ("HEAD", "/v2/t/"): ["503"],
                ("GET", f"/v2/{unique_repo}/manifests/sha256:"): ["reset"],
            }
        ),
    )
    ref = f"{server.host}/{unique_repo}:multi"

    resolver = make_resolver(retries=3)

    assert_pinned(resolver.resolve(ref), ref, index.digest)
    assert resolver.resolve(ref, platform="linux/arm64").digest == arm.digest


def test_wrong_credentials_through_the_proxy_fail_once_not_forever(
    basic_registry, unique_repo, proxy, make_resolver
):
    basic_registry.push(unique_repo, "v1", build_image("real: wrong password"))
    server = proxy(basic_registry, fail_first({}))
    ref = f"{server.host}/{unique_repo}:v1"
    resolver = make_resolver(credentials={server.host: ("alice", "not-the-password")})

    with pytest.raises(AuthenticationError) as error:
        resolver.resolve(ref)

    message = assert_names(error, ref, server.host)
    assert "does not exist, or your credentials cannot see it" in message
    assert f"explicit credentials for {server.host}" in message
    assert "UNAUTHORIZED: authentication required" in message  # the registry's own words
    assert f"docker login {server.host}" in message
    assert "not-the-password" not in repr(error.value)
    assert len(server.paths("HEAD")) == 1  # no retry: the same Basic credentials would fail again
    assert server.paths("GET").count(f"/v2/{unique_repo}/manifests/v1") == 1  # its error text
