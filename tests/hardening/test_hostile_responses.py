"""Generated hostile responses (hypothesis): any status line, headers and body a peer can send.

For every generated answer to the manifest requests, resolving either returns a digest the
server actually vouched for (its valid Docker-Content-Digest, or the sha256 of a body it
served) or raises a `DigestError` naming the reference and the registry, within the time
bound. Nothing else escapes, and no tag-based result is ever returned.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from image_digest import DigestError, Resolver
from tests.hardening.conftest import BOUNDED
from tests.support.fault_server import FaultConnection, FaultServer, RawRequest
from tests.support.images import OCI_INDEX, OCI_MANIFEST, build_image

IMAGE = build_image("hardening: hostile responses")
VALID_DIGEST = IMAGE.digest

latin1 = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)
digests = st.one_of(
    st.just(VALID_DIGEST),
    st.just("sha256:" + hashlib.sha256(b"{}").hexdigest()),
    st.text("0123456789abcdefABCDEF:sha", max_size=80),
    latin1,
)
header_values = {
    "Content-Type": st.one_of(
        st.sampled_from([OCI_MANIFEST, OCI_INDEX, "application/json", "text/html", ""]), latin1
    ),
    "Docker-Content-Digest": digests,
    "Content-Length": st.one_of(
        st.integers(-5, 10_000_000).map(str), st.sampled_from(["", "1, 2", "abc", "1e3"])
    ),
    "Location": st.one_of(
        st.sampled_from(["/v2/app/manifests/v1", "/v2/", "ftp://x/y", "http://[::1", "\xff"]),
        latin1,
    ),
    "WWW-Authenticate": st.one_of(
        st.sampled_from(
            [
                'Bearer realm="http://127.0.0.1:1/token"',
                'Bearer realm="ftp://x/token"',
                "Basic",
                "Negotiate",
                'Bearer realm=""',
            ]
        ),
        latin1,
    ),
    "Retry-After": st.one_of(st.integers(-10, 100_000).map(str), latin1),
    "Transfer-Encoding": st.sampled_from(["chunked", "gzip", "identity", "bogus"]),
    "Content-Encoding": st.sampled_from(["gzip", "deflate", "br", "zstd", "bogus"]),
}
bodies = st.one_of(
    st.just(IMAGE.manifest),
    st.just(IMAGE.manifest[:-10]),
    st.just(b"{}"),
    st.binary(max_size=300),
    st.just(b"[" * 5000),
)


@st.composite
def raw_response(draw: st.DrawFn) -> bytes:
    code = draw(st.sampled_from([200, 200, 200, 202, 204, 301, 302, 307, 308, 400, 401, 403]))
    code = draw(st.one_of(st.just(code), st.sampled_from([404, 405, 429, 500, 503, 999, 100])))
    status_line = draw(
        st.one_of(
            st.just(f"HTTP/1.1 {code} Reason"),
            st.just(f"HTTP/1.0 {code}"),
            latin1.map(lambda text: f"HTTP/1.1 {text}"),
        )
    )
    names = draw(st.lists(st.sampled_from(sorted(header_values)), max_size=6, unique=True))
    headers = [(name, draw(header_values[name])) for name in names]
    headers += draw(st.lists(st.tuples(latin1, latin1), max_size=2))
    body = draw(bodies)
    lines = [status_line] + [f"{name}: {value}" for name, value in headers]
    head = "\r\n".join(line.replace("\r", "").replace("\n", "") for line in lines)
    return head.encode("latin-1") + b"\r\n\r\n" + body


@dataclass
class Hostile:
    """One server for all examples; each example sets the answer it gives."""

    server: FaultServer
    answer: bytes = b""


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    holder: list[Hostile] = []

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if request.path == "/v2/":
            connection.respond(200, {"Content-Type": "application/json"}, b"{}")
            return
        connection.send(holder[0].answer)
        connection.close()

    with FaultServer(script) as server:
        holder.append(Hostile(server))
        yield holder[0]


@settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answer=raw_response(), platform=st.sampled_from([None, "linux/amd64"]))
def test_any_response_gives_a_vouched_digest_or_a_digest_error(
    hostile: Hostile, waits: list[float], answer: bytes, platform: str | None
) -> None:
    hostile.answer = answer
    host = hostile.server.host
    ref = f"{host}/app:v1"
    started = time.monotonic()
    try:
        with Resolver(**{**BOUNDED, "total_timeout": 2.0}) as resolver:
            resolved = resolver.resolve(ref, platform=platform)
    except DigestError as error:
        message = str(error)
        assert ref in message and host in message, message
        assert "\n" not in message
    else:
        head, _, body = answer.partition(b"\r\n\r\n")
        headers = [line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line]
        vouched = {
            "sha256:" + hashlib.sha256(part).hexdigest() for part in (body, *_dechunked(body))
        }
        vouched |= {
            value.strip().decode("latin-1")
            for name, value in headers
            if name.strip().lower() == b"docker-content-digest"
        }
        # With a platform, an index's child is vouched for by the index the server served.
        assert resolved.digest in vouched or platform is not None, (resolved, answer[:300])
        assert resolved.repo_digest == f"{host}/app@{resolved.digest}"
    assert time.monotonic() - started < 4


def _dechunked(body: bytes) -> list[bytes]:
    """The body as a chunked decoder would give it, when it is chunked."""
    out, rest = b"", body
    try:
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return [out]
            out, rest = out + rest[:size], rest[size + 2 :]
    except ValueError:
        return []
    return [out]


token_values = st.one_of(
    st.sampled_from(
        ['"tok-1"', '""', "42", "null", "true", '["a"]', '"a\\r\\nX: y"', '"t\\u00e9"']
    ),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40).map(
        lambda text: '"' + text.replace("\\", "").replace('"', "") + '"'
    ),
)
expiries = st.sampled_from(["300", "-1", "0", "NaN", "Infinity", "1e400", '"abc"', "true", "null"])


@st.composite
def token_response(draw: st.DrawFn) -> bytes:
    code = draw(st.sampled_from([200, 200, 200, 201, 302, 400, 401, 403, 429, 500]))
    field = draw(st.sampled_from(["token", "access_token", "other"]))
    body = draw(
        st.one_of(
            st.just(f'{{"{field}": {draw(token_values)}, "expires_in": {draw(expiries)}}}'),
            st.text(max_size=100),
            st.just("[" * 3000),
        )
    ).encode("utf-8", "surrogatepass")
    names = draw(st.lists(st.sampled_from(sorted(header_values)), max_size=3, unique=True))
    headers = [f"{name}: {draw(header_values[name])}" for name in names]
    head = "\r\n".join(
        [f"HTTP/1.1 {code} X", *(h.replace("\r", "").replace("\n", "") for h in headers)]
    )
    return head.encode("latin-1") + b"\r\n\r\n" + body


SECRET = "pw-hostile-token-canary"


@dataclass
class TokenHostile:
    server: FaultServer
    answer: bytes = b""


@pytest.fixture
def token_hostile() -> Iterator[TokenHostile]:
    holder: list[TokenHostile] = []

    def script(request: RawRequest, connection: FaultConnection) -> None:
        realm = f"http://{holder[0].server.host}/token"
        challenge = {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'}
        if request.path == "/v2/":
            connection.respond(401, challenge)
        elif request.path.startswith("/token"):
            connection.send(holder[0].answer)
            connection.close()
        elif request.headers.get("authorization", "").startswith("Bearer "):
            headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": VALID_DIGEST}
            connection.respond(200, headers, IMAGE.manifest, head=request.method == "HEAD")
        else:
            connection.respond(401, challenge)

    with FaultServer(script) as server:
        holder.append(TokenHostile(server))
        yield holder[0]


@settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answer=token_response())
def test_any_token_response_gives_the_digest_or_a_digest_error(
    token_hostile: TokenHostile, waits: list[float], answer: bytes
) -> None:
    token_hostile.answer = answer
    host = token_hostile.server.host
    ref = f"{host}/app:v1"
    started = time.monotonic()
    credentials = {host: ("alice", SECRET)}
    try:
        with Resolver(**{**BOUNDED, "total_timeout": 2.0}, credentials=credentials) as resolver:
            resolved = resolver.resolve(ref)
    except DigestError as error:
        message = str(error)
        assert ref in message and host in message, message
        assert "\n" not in message and SECRET not in repr(error)
    else:
        assert resolved.digest == VALID_DIGEST
    assert time.monotonic() - started < 4
