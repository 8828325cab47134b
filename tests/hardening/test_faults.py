"""The fault matrix: a registry that misbehaves never yields a wrong pin, a hang, or a raw error.

Each case scripts a local server (pytest-httpserver for HTTP-level faults, `FaultServer` for
socket-level ones) and asserts one of two outcomes: the right digest (never the tag), or the
right `DigestError` subclass with a one-line message naming the reference and the registry.
Every resolver has small time bounds (see conftest.BOUNDED) and the transport's sleeps are
recorded instead of slept, so waits are asserted rather than waited for.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import repeat

import pytest
from werkzeug import Request, Response

from image_digest import (
    AuthenticationError,
    DigestMismatchError,
    PlatformNotFoundError,
    RegistryError,
    TagNotFoundError,
)
from tests.hardening.scripted import (
    ScriptedRegistry,
    TlsMaterial,
    assert_names,
    assert_pinned,
    distribution_error,
    json_response,
)
from tests.support.fault_server import FaultConnection, FaultServer, RawRequest, Script
from tests.support.images import OCI_INDEX, OCI_MANIFEST, build_image, build_index, sha256_digest

IMAGE = build_image("hardening: fault matrix")
BODY = IMAGE.manifest
DIGEST = IMAGE.digest
MANIFEST = "/v2/app/manifests/v1"
NESTED = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError, not ValueError
Resolve = Callable[..., object]


def bearer_challenge(fake: ScriptedRegistry) -> Response:
    return status(401, {"WWW-Authenticate": f'Bearer realm="{fake.url("/token")}"'})


def status(code: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Response:
    return Response(body, code, headers or {})


# == 429, 5xx and the retry policy ==============================================================


def test_429_with_retry_after_seconds_is_honoured_then_succeeds(fake, make_resolver, waits):
    fake.open_ping()
    fake.then("HEAD", MANIFEST, status(429, {"Retry-After": "7"}))
    digest = fake.serve(BODY)

    resolved = make_resolver(total_timeout=30).resolve(fake.ref())

    assert_pinned(resolved, fake.ref(), digest)
    assert waits == [7]


def test_429_with_retry_after_http_date_is_honoured_then_succeeds(fake, make_resolver, waits):
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=6), usegmt=True)
    fake.open_ping()
    fake.then("HEAD", MANIFEST, status(429, {"Retry-After": when}))
    digest = fake.serve(BODY)

    resolved = make_resolver(total_timeout=30).resolve(fake.ref())

    assert_pinned(resolved, fake.ref(), digest)
    [wait] = waits
    assert 3 <= wait <= 6


def test_429_without_retry_after_backs_off_then_succeeds(fake, make_resolver, waits):
    fake.open_ping()
    fake.then("HEAD", MANIFEST, status(429), status(429))
    digest = fake.serve(BODY)

    resolved = make_resolver(backoff_factor=0.5).resolve(fake.ref())

    assert_pinned(resolved, fake.ref(), digest)
    assert waits == [0, 1.0]  # urllib3: no wait after the first failure, then exponential


@pytest.mark.parametrize(
    "value", ["soon", "-5", "1.5", "", "Wed, 31 Feb 2024 99:99:99 GMT", "Mon, 01 Jan 99999"]
)
def test_malformed_retry_after_falls_back_to_backoff(fake, make_resolver, waits, value):
    fake.open_ping()
    fake.then("HEAD", MANIFEST, status(429, {"Retry-After": value}))
    digest = fake.serve(BODY)

    assert_pinned(make_resolver().resolve(fake.ref()), fake.ref(), digest)
    assert len(waits) == 1 and 0 <= waits[0] <= 30


def test_retry_after_beyond_the_total_bound_fails_at_once(fake, make_resolver, waits):
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(429, {"Retry-After": "3600"}))

    with pytest.raises(RegistryError) as error:
        make_resolver(total_timeout=3).resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert "total time bound of 3 s" in message
    assert waits == []


def test_persistent_429_gives_up_after_the_retries(fake, make_resolver):
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(429, body=distribution_error("TOOMANYREQUESTS", "slow")))

    with pytest.raises(RegistryError) as error:
        make_resolver(retries=2).resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert error.value.status == 429 and "429" in message
    assert len(fake.seen("HEAD", MANIFEST)) == 3


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_5xx_then_success_recovers(fake, make_resolver, waits, code):
    fake.open_ping()
    fake.then("HEAD", MANIFEST, status(code), status(code))
    digest = fake.serve(BODY)

    resolved = make_resolver(retries=2).resolve(fake.ref())

    assert_pinned(resolved, fake.ref(), digest)
    assert len(waits) == 2


@pytest.mark.parametrize("code", [500, 502, 503, 504])
def test_persistent_5xx_is_a_registry_error_with_the_status(fake, make_resolver, code):
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(405))
    body = distribution_error("UNAVAILABLE", "try later")
    fake.always("GET", MANIFEST, status(code, {"Content-Type": "application/json"}, body))

    with pytest.raises(RegistryError) as error:
        make_resolver(retries=1).resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert error.value.status == code and f"HTTP {code}" in message
    assert "UNAVAILABLE: try later" in message
    assert len(fake.seen("GET", MANIFEST)) == 2


# == Connections ================================================================================


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_is_retried_then_reported(make_resolver, waits):
    host = f"127.0.0.1:{_unused_port()}"
    ref = f"{host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver(retries=2).resolve(ref)

    message = assert_names(error, ref, host)
    assert "refused" in message
    assert len(waits) == 2


def test_unknown_host_names_the_host(make_resolver):
    host = "no-such-registry.invalid"
    ref = f"{host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver(retries=0).resolve(ref)

    message = assert_names(error, ref, host)
    assert "resolve" in message.lower() or "dns" in message.lower()


def _ping_ok(request: RawRequest, connection: FaultConnection) -> bool:
    if request.path == "/v2/":
        connection.respond(200, {"Content-Type": "application/json"}, b"{}")
        return True
    return False


def _manifest_headers(body: bytes = BODY, **extra: str) -> dict[str, str]:
    return {
        "Content-Type": OCI_MANIFEST,
        "Docker-Content-Digest": sha256_digest(body),
        "Content-Length": str(len(body)),
        **extra,
    }


@pytest.fixture
def fault_server() -> Iterator[
    Callable[[Callable[[RawRequest, FaultConnection], None]], FaultServer]
]:
    servers: list[FaultServer] = []

    def start(script: Script) -> FaultServer:
        server = FaultServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _head_refused_then(get: Script) -> Script:
    """Ping OK, HEAD 405 (so the client must GET), then `get` scripts the GET."""

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if _ping_ok(request, connection):
            return
        if request.method == "HEAD":
            connection.respond(405, head=True)
            return
        get(request, connection)

    return script


def test_reset_in_the_middle_of_the_body(fault_server, make_resolver):
    def get(request: RawRequest, connection: FaultConnection) -> None:
        connection.send(connection.head_bytes(200, _manifest_headers()) + BODY[: len(BODY) // 2])
        connection.reset()

    server = fault_server(_head_refused_then(get))
    ref = f"{server.host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(ref)

    assert_names(error, ref, server.host)


def test_reset_before_the_answer_is_retried_and_recovers(fault_server, make_resolver):
    heads: list[int] = []

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if _ping_ok(request, connection):
            return
        heads.append(1)
        if len(heads) == 1:
            connection.reset()
            return
        connection.respond(200, _manifest_headers(), head=True)

    server = fault_server(script)
    ref = f"{server.host}/app:v1"

    assert_pinned(make_resolver().resolve(ref), ref, DIGEST)
    assert len(heads) == 2


def test_read_timeout_is_retried_then_reported(fault_server, make_resolver):
    def script(request: RawRequest, connection: FaultConnection) -> None:
        if not _ping_ok(request, connection):
            connection.hold()

    server = fault_server(script)
    ref = f"{server.host}/app:v1"
    started = time.monotonic()

    with pytest.raises(RegistryError) as error:
        make_resolver(read_timeout=0.2, retries=1).resolve(ref)

    message = assert_names(error, ref, server.host)
    assert "read_timeout" in message or "timed out" in message
    assert len(server.paths("HEAD")) == 2
    assert time.monotonic() - started < 2


def test_read_timeout_then_success_recovers(fault_server, make_resolver):
    heads: list[int] = []

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if _ping_ok(request, connection):
            return
        heads.append(1)
        if len(heads) == 1:
            connection.hold()
        connection.respond(200, _manifest_headers(), head=True)

    server = fault_server(script)
    ref = f"{server.host}/app:v1"

    assert_pinned(make_resolver(read_timeout=0.2).resolve(ref), ref, DIGEST)


def test_headers_trickled_forever_hit_the_total_time_bound(fault_server, make_resolver):
    """Each byte arrives well within read_timeout, so only the total bound can end this."""

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if _ping_ok(request, connection):
            return
        connection.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        connection.trickle(repeat(b"a", 400), interval=0.02)  # 8 s, far beyond the bound

    server = fault_server(script)
    ref = f"{server.host}/app:v1"
    started = time.monotonic()

    with pytest.raises(RegistryError) as error:
        make_resolver(read_timeout=0.5, total_timeout=1.0).resolve(ref)

    elapsed = time.monotonic() - started
    message = assert_names(error, ref, server.host)
    assert "total time bound of 1 s" in message
    assert elapsed < 2.5, elapsed


def test_tls_handshake_trickled_forever_hits_the_total_time_bound(make_resolver):
    """A peer that answers the ClientHello one byte at a time, forever. (Python bounds a whole
    handshake by the socket timeout, which the transport never sets past the deadline.)"""

    def greet(connection: FaultConnection) -> None:
        # A TLS handshake record (16 KB) holding a ServerHello of 12 KB, then its body, slowly.
        connection.send(b"\x16\x03\x03\x40\x00" + b"\x02\x00\x30\x00")
        connection.trickle(repeat(b"\x00", 400), interval=0.02)

    with FaultServer(lambda request, connection: None, greet=greet) as server:
        host = f"localhost:{server.port}"
        ref = f"{host}/app:v1"
        started = time.monotonic()

        with pytest.raises(RegistryError) as error:
            make_resolver(
                secure_registries=[host], read_timeout=0.5, connect_timeout=0.5, total_timeout=1.0
            ).resolve(ref)

    assert_names(error, ref, host)
    assert time.monotonic() - started < 2.5


def test_body_trickled_forever_hits_the_total_time_bound(fault_server, make_resolver):
    def get(request: RawRequest, connection: FaultConnection) -> None:
        headers = _manifest_headers(**{"Content-Length": "100000"})
        connection.send(connection.head_bytes(200, headers))
        connection.trickle(repeat(b" ", 400), interval=0.02)

    server = fault_server(_head_refused_then(get))
    ref = f"{server.host}/app:v1"
    started = time.monotonic()

    with pytest.raises(RegistryError) as error:
        make_resolver(read_timeout=0.5, total_timeout=1.0).resolve(ref)

    message = assert_names(error, ref, server.host)
    assert "total time bound of 1 s" in message
    assert time.monotonic() - started < 2.5


def test_truncated_body_with_content_length(fault_server, make_resolver):
    def get(request: RawRequest, connection: FaultConnection) -> None:
        connection.send(connection.head_bytes(200, _manifest_headers()) + BODY[:-40])
        connection.close()

    server = fault_server(_head_refused_then(get))
    ref = f"{server.host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(ref)

    assert_names(error, ref, server.host)


def test_deeply_nested_manifest_without_digest_header(fake, make_resolver):
    fake.open_ping()
    fake.serve(NESTED, digest_header=None)

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert "not a JSON object" in assert_names(error, fake.ref(), fake.host)


@pytest.mark.parametrize("body", [b"{}", b'{"errors": []}', b'{"ok": true}'])
def test_redirect_to_json_that_is_no_manifest_is_never_pinned(fake, make_resolver, body):
    """Found by test_hostile_responses: a manifest request redirected to /v2/ got `{}` pinned."""
    for method in ("HEAD", "GET"):
        fake.always(method, "/v2/", Response(body, 200, {"Content-Type": "application/json"}))
        fake.always(method, MANIFEST, status(301, {"Location": "/v2/"}))

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert "not a manifest" in assert_names(error, fake.ref(), fake.host)


def test_truncated_body_without_length_or_digest_is_never_pinned(fault_server, make_resolver):
    """A close-delimited body cut short looks complete; hashing it would pin a wrong digest."""

    def get(request: RawRequest, connection: FaultConnection) -> None:
        headers = {"Content-Type": OCI_MANIFEST, "Connection": "close"}
        connection.send(connection.head_bytes(200, headers) + BODY[:-40])
        connection.close()

    server = fault_server(_head_refused_then(get))
    ref = f"{server.host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(ref)

    assert_names(error, ref, server.host)
    assert sha256_digest(BODY[:-40]) not in str(error.value)


# == Sizes ======================================================================================


def test_declared_manifest_over_4_mib_is_refused_before_reading(fault_server, make_resolver):
    def get(request: RawRequest, connection: FaultConnection) -> None:
        headers = _manifest_headers(**{"Content-Length": str(5 * 1024 * 1024)})
        connection.send(connection.head_bytes(200, headers))
        connection.hold()

    server = fault_server(_head_refused_then(get))
    ref = f"{server.host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(ref)

    message = assert_names(error, ref, server.host)
    assert "4194304-byte limit (max_manifest_bytes)" in message


def test_streamed_manifest_over_4_mib_is_cut_off(fault_server, make_resolver):
    chunk = b"x" * 65_536

    def get(request: RawRequest, connection: FaultConnection) -> None:
        headers = {"Content-Type": OCI_MANIFEST, "Transfer-Encoding": "chunked"}
        connection.send(connection.head_bytes(200, headers))
        for _ in range(80):  # 5 MiB
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")

    server = fault_server(_head_refused_then(get))
    ref = f"{server.host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(ref)

    assert "max_manifest_bytes" in assert_names(error, ref, server.host)


def test_gzip_bomb_is_capped_after_decompression(fake, make_resolver):
    bomb = gzip.compress(b" " * (16 * 1024 * 1024))
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(405))
    headers = {"Content-Type": OCI_MANIFEST, "Content-Encoding": "gzip"}
    fake.always("GET", MANIFEST, status(200, headers, bomb))

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert "max_manifest_bytes" in assert_names(error, fake.ref(), fake.host)


def test_conflicting_content_lengths_are_a_registry_error(fault_server, make_resolver):
    def get(request: RawRequest, connection: FaultConnection) -> None:
        headers = _manifest_headers(**{"Content-Length": f"{len(BODY)}, {len(BODY) + 1}"})
        connection.send(connection.head_bytes(200, headers) + BODY)

    server = fault_server(_head_refused_then(get))
    ref = f"{server.host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(ref)

    assert_names(error, ref, server.host)


# == Content and digests ========================================================================


@pytest.mark.parametrize(
    "garbage",
    [b"<html>not an index</html>", b'{"manifests": "nope"}', b"[]", NESTED],
    ids=["html", "manifests-not-a-list", "array", "deeply-nested"],
)
def test_invalid_json_where_an_index_is_needed(fake, make_resolver, garbage):
    fake.open_ping()
    fake.serve(garbage, media_type=OCI_INDEX)

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref(), platform="linux/amd64")

    assert "not valid index JSON" in assert_names(error, fake.ref(), fake.host)


def test_index_entry_with_a_malformed_digest(fake, make_resolver):
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": "sha256:not-hex",
                    "size": 1,
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()
    fake.open_ping()
    fake.serve(index, media_type=OCI_INDEX)

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref(), platform="linux/amd64")

    assert "malformed digest" in assert_names(error, fake.ref(), fake.host)


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_unexpected_content_type_is_refused(fake, make_resolver, method):
    fake.open_ping()
    if method == "GET":
        fake.always("HEAD", MANIFEST, status(405))
    fake.serve(b"<html>login</html>", media_type="text/html", methods=(method,))

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert "text/html" in assert_names(error, fake.ref(), fake.host)


def test_missing_digest_header_falls_back_to_get_and_sha256(fake, make_resolver):
    fake.open_ping()
    digest = fake.serve(BODY, digest_header=None)

    resolved = make_resolver().resolve(fake.ref())

    assert_pinned(resolved, fake.ref(), digest)
    assert len(fake.seen("GET", MANIFEST)) == 1


@pytest.mark.parametrize(
    "header",
    [
        "sha256:" + "g" * 64,
        "sha256:" + "a" * 63,
        "SHA256:" + "A" * 64,
        "md5:" + "a" * 32,
        "a" * 64,
        "sha256:" + "a" * 64 + " trailing",
    ],
)
def test_malformed_digest_header_is_a_registry_error(fake, make_resolver, header):
    fake.open_ping()
    fake.serve(BODY, digest_header=header)

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert "malformed Docker-Content-Digest" in assert_names(error, fake.ref(), fake.host)


def test_header_digest_differing_from_the_body_is_a_mismatch(fake, make_resolver):
    other = build_image("hardening: something else")
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(405))
    fake.serve(BODY, digest_header=other.digest, methods=("GET",))

    with pytest.raises(DigestMismatchError) as error:
        make_resolver().resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert DIGEST in message and other.digest in message


@pytest.mark.parametrize("code", [404, 405])
def test_head_refused_while_get_works(fake, make_resolver, code):
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(code))
    digest = fake.serve(BODY, methods=("GET",))

    assert_pinned(make_resolver().resolve(fake.ref()), fake.ref(), digest)


def test_not_found_with_a_truncated_error_body(fault_server, make_resolver):
    def script(request: RawRequest, connection: FaultConnection) -> None:
        if _ping_ok(request, connection):
            return
        if "/tags/list" in request.path:
            connection.respond(200, {"Content-Type": "application/json"}, b'{"tags":[]}')
            return
        error = distribution_error("MANIFEST_UNKNOWN", "manifest unknown")
        headers = {"Content-Type": "application/json", "Content-Length": str(len(error))}
        head = connection.head_bytes(404, headers)
        if request.method == "HEAD":
            connection.send(head)
            return
        connection.send(head + error[:10])
        connection.close()

    server = fault_server(script)
    ref = f"{server.host}/app:v1"

    with pytest.raises(TagNotFoundError) as error:
        make_resolver().resolve(ref)

    assert_names(error, ref, server.host)


# == Authentication =============================================================================


class BearerRegistry:
    """Bearer auth on a scripted registry: /token issues tok-1, tok-2, ...; the manifest
    accepts only tokens in `valid` (tests revoke them to simulate expiry or rotation)."""

    def __init__(self, fake: ScriptedRegistry, *, accept: bool = True):
        self.fake = fake
        self.accept = accept
        self.realm = fake.url("/token")
        self.issued: list[str] = []
        self.valid: set[str] = set()
        challenge = f'Bearer realm="{self.realm}",service="scripted"'
        self.challenge = {"WWW-Authenticate": challenge}
        fake.always("GET", "/v2/", status(401, self.challenge))
        fake.always("GET", "/token", self.token)
        for method in ("HEAD", "GET"):
            fake.always(method, MANIFEST, self.manifest)

    def token(self, request: Request) -> Response:
        token = f"tok-{len(self.issued) + 1}"
        self.issued.append(token)
        self.valid.add(token)
        return json_response({"token": token, "expires_in": 300})

    def manifest(self, request: Request) -> Response:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if not self.accept or scheme != "Bearer" or token not in self.valid:
            return status(401, self.challenge)
        return Response(BODY, 200, _manifest_headers())


def test_token_that_later_gets_401_is_renewed_once(fake, make_resolver):
    bearer = BearerRegistry(fake)
    resolver = make_resolver()
    assert_pinned(resolver.resolve(fake.ref()), fake.ref(), DIGEST)

    bearer.valid.clear()  # the registry revokes tok-1
    resolver.clear_cache()

    assert_pinned(resolver.resolve(fake.ref()), fake.ref(), DIGEST)
    assert bearer.issued == ["tok-1", "tok-2"]


def test_token_rejected_even_after_renewal_fails_after_one_retry(fake, make_resolver):
    bearer = BearerRegistry(fake, accept=False)

    with pytest.raises(AuthenticationError) as error:
        make_resolver().resolve(fake.ref())

    assert "401" in assert_names(error, fake.ref(), fake.host)
    assert bearer.issued == ["tok-1", "tok-2"]
    assert len(fake.seen("HEAD", MANIFEST)) == 2


@pytest.mark.parametrize(
    "header",
    ["", "!!! not a challenge", "Negotiate", 'Digest realm="x", nonce="y"', "Bearer,,,=,"],
)
def test_malformed_or_unknown_www_authenticate(fake, make_resolver, header):
    fake.always("GET", "/v2/", status(401, {"WWW-Authenticate": header} if header else {}))

    with pytest.raises(AuthenticationError) as error:
        make_resolver().resolve(fake.ref())

    assert_names(error, fake.ref(), fake.host)


def test_bearer_challenge_without_realm(fake, make_resolver):
    fake.always("GET", "/v2/", status(401, {"WWW-Authenticate": 'Bearer service="x"'}))

    with pytest.raises(AuthenticationError) as error:
        make_resolver().resolve(fake.ref())

    assert "realm" in assert_names(error, fake.ref(), fake.host)


def test_token_endpoint_failing_then_working_recovers(fake, make_resolver):
    bearer = BearerRegistry(fake)
    fake.then("GET", "/token", status(503), status(502))

    assert_pinned(make_resolver().resolve(fake.ref()), fake.ref(), DIGEST)
    assert bearer.issued == ["tok-1"]


def test_token_endpoint_failing_persistently(fake, make_resolver):
    fake.always(
        "GET", "/v2/", status(401, {"WWW-Authenticate": f'Bearer realm="{fake.url("/token")}"'})
    )
    fake.always("GET", "/token", status(500, body=b"token service down"))

    with pytest.raises(RegistryError) as error:
        make_resolver(retries=1).resolve(fake.ref())

    message = assert_names(error, fake.ref(), fake.host)
    assert "token server" in message and "500" in message


@pytest.mark.parametrize(
    "body",
    [
        b"<html>sign in</html>",
        b"[]",
        b"{}",
        b'{"token": ""}',
        b'{"token": 42}',
        b'{"access": "x"}',
        b'{"token": ' + b"[" * 100_000,
    ],
    ids=["html", "array", "empty", "empty-token", "number", "other-field", "deeply-nested"],
)
def test_token_endpoint_without_a_usable_token(fake, make_resolver, body):
    fake.always(
        "GET", "/v2/", status(401, {"WWW-Authenticate": f'Bearer realm="{fake.url("/token")}"'})
    )
    fake.always("GET", "/token", status(200, {"Content-Type": "application/json"}, body))

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert "no token" in assert_names(error, fake.ref(), fake.host)


@pytest.mark.parametrize("token", ["a\r\nX-Injected: 1", "tok en", "tok\x00en", "tök€n"])
def test_token_that_cannot_be_a_header_value_is_refused(fake, make_resolver, token):
    fake.always(
        "GET", "/v2/", status(401, {"WWW-Authenticate": f'Bearer realm="{fake.url("/token")}"'})
    )
    fake.always("GET", "/token", json_response({"token": token}))
    fake.always("HEAD", MANIFEST, status(500))

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert_names(error, fake.ref(), fake.host)
    assert fake.seen("HEAD", MANIFEST) == []


def test_bearer_realm_over_plain_http_for_an_https_registry_is_refused(
    tls_fake, fake, tls_material: TlsMaterial, make_resolver
):
    realm = fake.url("/token")
    tls_fake.always("GET", "/v2/", status(401, {"WWW-Authenticate": f'Bearer realm="{realm}"'}))
    fake.always("GET", "/token", json_response({"token": "never"}))
    resolver = make_resolver(
        secure_registries=[tls_fake.host], ca_bundle=str(tls_material.cert_path)
    )

    with pytest.raises(AuthenticationError) as error:
        resolver.resolve(tls_fake.ref())

    assert "plain HTTP" in assert_names(error, tls_fake.ref(), tls_fake.host)
    assert fake.seen() == []


# == Redirects ==================================================================================


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_redirect_to_another_host_never_forwards_credentials(
    fake, elsewhere, make_resolver, scheme
):
    if scheme == "basic":
        fake.always("GET", "/v2/", status(401, {"WWW-Authenticate": 'Basic realm="r"'}))
        resolver = make_resolver(credentials={fake.host: ("alice", "s3cret-password")})
    else:
        realm = fake.url("/token")
        fake.always("GET", "/v2/", status(401, {"WWW-Authenticate": f'Bearer realm="{realm}"'}))
        fake.always("GET", "/token", json_response({"token": "s3cret-token"}))
        resolver = make_resolver()
    target = elsewhere.url("/storage/manifest")
    for method in ("HEAD", "GET"):
        fake.always(method, MANIFEST, status(307, {"Location": target}))
        elsewhere.always(method, "/storage/manifest", Response(BODY, 200, _manifest_headers()))

    assert_pinned(resolver.resolve(fake.ref()), fake.ref(), DIGEST)

    assert fake.seen("HEAD", MANIFEST)[0].headers.get("Authorization")
    assert elsewhere.seen(), "the redirect was not followed"
    assert all("Authorization" not in request.headers for request in elsewhere.seen())


def test_redirect_target_challenge_never_gets_our_credentials(fake, elsewhere, make_resolver):
    fake.always("GET", "/v2/", status(401, {"WWW-Authenticate": 'Basic realm="r"'}))
    fake.always("HEAD", MANIFEST, status(307, {"Location": elsewhere.url("/trap")}))
    evil_realm = elsewhere.url("/token")
    elsewhere.always(
        "HEAD", "/trap", status(401, {"WWW-Authenticate": f'Bearer realm="{evil_realm}"'})
    )
    elsewhere.always("GET", "/token", json_response({"token": "stolen"}))
    resolver = make_resolver(credentials={fake.host: ("alice", "s3cret-password")})

    with pytest.raises(AuthenticationError) as error:
        resolver.resolve(fake.ref())

    assert_names(error, fake.ref(), fake.host)
    assert elsewhere.seen("GET", "/token") == []
    assert all("Authorization" not in request.headers for request in elsewhere.seen())


def test_redirect_loop_is_cut_off(fake, make_resolver):
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(302, {"Location": "/v2/app/manifests/loop"}))
    fake.always("HEAD", "/v2/app/manifests/loop", status(302, {"Location": MANIFEST}))

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert "redirected too many times" in assert_names(error, fake.ref(), fake.host)


@pytest.mark.parametrize(
    "location", ["ftp://elsewhere.example/manifest", "http://[::1/x", "\xff\xfe"]
)
def test_unusable_redirect_location_is_a_registry_error(fake, make_resolver, location):
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(302, {"Location": location}))

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(fake.ref())

    assert_names(error, fake.ref(), fake.host)


def test_redirect_from_https_to_plain_http_is_refused(
    tls_fake, elsewhere, tls_material: TlsMaterial, make_resolver
):
    tls_fake.open_ping()
    tls_fake.always("HEAD", MANIFEST, status(307, {"Location": elsewhere.url("/plain")}))
    elsewhere.always("HEAD", "/plain", Response(BODY, 200, _manifest_headers()))
    resolver = make_resolver(
        secure_registries=[tls_fake.host], ca_bundle=str(tls_material.cert_path)
    )

    with pytest.raises(RegistryError) as error:
        resolver.resolve(tls_fake.ref())

    assert "plain HTTP" in assert_names(error, tls_fake.ref(), tls_fake.host)
    assert elsewhere.seen() == []


# == TLS ========================================================================================


def test_self_signed_certificate_names_the_ca_option(tls_fake, make_resolver):
    tls_fake.open_ping()
    tls_fake.serve(BODY)

    with pytest.raises(RegistryError) as error:
        make_resolver(secure_registries=[tls_fake.host]).resolve(tls_fake.ref())

    message = assert_names(error, tls_fake.ref(), tls_fake.host)
    assert "ca_bundle" in message and "--ca-bundle" in message


def test_self_signed_certificate_with_its_ca_bundle_resolves(
    tls_fake, tls_material: TlsMaterial, make_resolver
):
    tls_fake.open_ping()
    digest = tls_fake.serve(BODY)
    resolver = make_resolver(
        secure_registries=[tls_fake.host], ca_bundle=str(tls_material.cert_path)
    )

    assert_pinned(resolver.resolve(tls_fake.ref()), tls_fake.ref(), digest)
    assert tls_fake.seen("HEAD", MANIFEST)


def test_index_platform_selection_still_works_through_faults(fake, make_resolver, waits):
    """A sanity case: 503 on the index GET, then the right child for the platform."""
    arm = build_image("hardening arm", architecture="arm64", variant="v8")
    index = build_index([IMAGE, arm])
    fake.open_ping()
    fake.then("GET", f"/v2/app/manifests/{index.digest}", status(503))
    fake.serve(index.manifest, media_type=OCI_INDEX)

    resolved = make_resolver().resolve(fake.ref(), platform="linux/arm64")

    assert resolved.digest == arm.digest and resolved.platform == "linux/arm64"
    assert waits == [0]


def test_redirect_with_an_endless_body_is_followed_without_reading_it(fault_server, make_resolver):
    """requests reads a redirect's whole body before following it: uncapped, unbounded."""

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if _ping_ok(request, connection):
            return
        if request.method == "HEAD":
            connection.respond(405, head=True)
        elif request.path == MANIFEST:
            headers = {"Location": "/v2/app/manifests/real", "Transfer-Encoding": "chunked"}
            connection.send(connection.head_bytes(302, headers))
            connection.trickle(repeat(b"1000\r\n" + b"x" * 4096 + b"\r\n", 400), interval=0.02)
        else:
            connection.respond(200, _manifest_headers(), BODY)

    server = fault_server(script)
    ref = f"{server.host}/app:v1"
    started = time.monotonic()

    assert_pinned(make_resolver(total_timeout=2).resolve(ref), ref, DIGEST)
    assert time.monotonic() - started < 1


# == Text the registry controls never reaches a terminal raw ====================================

ESCAPES = "\x1b[2J\x1b[31mFAKE\r\nimage-digest: ok\x07"


def _assert_one_printable_line(message: str) -> None:
    assert message.isprintable(), repr(message)


def test_registry_error_text_with_terminal_escapes_is_escaped(fake, make_resolver):
    fake.open_ping()
    fake.always("HEAD", MANIFEST, status(405))
    body = distribution_error("DENIED" + ESCAPES, "no" + ESCAPES)
    fake.always("GET", MANIFEST, status(403, {"Content-Type": "application/json"}, body))

    with pytest.raises(AuthenticationError) as error:
        make_resolver().resolve(fake.ref())

    _assert_one_printable_line(assert_names(error, fake.ref(), fake.host))
    assert "\\x1b[2J" in str(error.value)


def test_index_platforms_with_terminal_escapes_are_escaped(fake, make_resolver):
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": DIGEST,
                    "size": len(BODY),
                    "platform": {"os": "linux" + ESCAPES, "architecture": "amd64"},
                }
            ],
        }
    ).encode()
    fake.open_ping()
    fake.serve(index, media_type=OCI_INDEX)

    with pytest.raises(PlatformNotFoundError) as error:
        make_resolver().resolve(fake.ref(), platform="linux/amd64")

    _assert_one_printable_line(assert_names(error, fake.ref(), fake.host))


def test_headers_with_control_characters_are_escaped(fault_server, make_resolver):
    def script(request: RawRequest, connection: FaultConnection) -> None:
        if _ping_ok(request, connection):
            return
        headers = {"Content-Type": "text/html\x1b[2J\x07", "Docker-Content-Digest": DIGEST}
        connection.respond(200, headers, BODY, head=request.method == "HEAD")

    server = fault_server(script)
    ref = f"{server.host}/app:v1"

    with pytest.raises(RegistryError) as error:
        make_resolver().resolve(ref)

    _assert_one_printable_line(assert_names(error, ref, server.host))
