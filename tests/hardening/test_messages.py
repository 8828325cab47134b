"""The usual mistakes, each from a real peer, with the exact message a user reads.

- a web server that is not a registry (Python's own `http.server`, answering 404 pages);
- a host name that does not resolve (`.invalid` never does, RFC 2606): one attempt, no retry;
- a port nothing listens on (connection refused), an address with no route (the limited
  broadcast address, which TCP never reaches).

The CLI cases run the real entry point as a subprocess; the retried ones (refused, no route)
run in this process with the transport's waits recorded, not slept.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from image_digest import NotARegistryError, RegistryError

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "image_digest", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Served requests are not the test's output."""


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    """`127.0.0.1:PORT`: a plain web server with an empty site, so every path is its 404 page."""
    (tmp_path / "site").mkdir()
    handler = functools.partial(Quiet, directory=str(tmp_path / "site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_web_server_that_is_not_a_registry_is_named_as_such(web_server):
    done = run_cli("resolve", f"{web_server}/team/app")

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"image-digest: error: {web_server} is not a container registry: it has no registry "
        f"API (GET http://{web_server}/v2/ answered HTTP 404 without a "
        "Docker-Distribution-API-Version header, and so did the request for "
        f"{web_server}/team/app); check the host name in the reference\n"
    )


def test_the_api_raises_not_a_registry(make_resolver, web_server):
    with pytest.raises(NotARegistryError) as caught:
        make_resolver().resolve(f"{web_server}/team/app:1.0")

    assert caught.value.registry == web_server
    assert "is not a container registry" in str(caught.value)


def test_a_host_name_that_does_not_resolve_is_tried_once():
    done = run_cli("resolve", "registry.nosuch.invalid/team/app:1.0")

    assert done.returncode == 1
    assert done.stderr == (
        "image-digest: error: registry registry.nosuch.invalid is unreachable while "
        "resolving registry.nosuch.invalid/team/app:1.0: host name does not resolve: no DNS "
        "record for registry.nosuch.invalid (1 attempt to https://registry.nosuch.invalid)\n"
    )


def test_a_host_name_that_does_not_resolve_waits_for_nothing(make_resolver, waits):
    with pytest.raises(RegistryError, match=r"host name does not resolve.*\(1 attempt to "):
        make_resolver(retries=4).resolve("registry.nosuch.invalid/team/app:1.0")

    assert waits == []


def test_connection_refused_says_so(make_resolver, waits, closed_port):
    with pytest.raises(RegistryError) as caught:
        make_resolver(retries=2).resolve(f"127.0.0.1:{closed_port}/team/app:1.0")

    assert str(caught.value) == (
        f"registry 127.0.0.1:{closed_port} is unreachable while resolving "
        f"127.0.0.1:{closed_port}/team/app:1.0: connection refused: nothing listens at "
        f"127.0.0.1:{closed_port} (3 attempts to http://127.0.0.1:{closed_port})"
    )
    assert len(waits) == 2  # refused may be a registry restarting: it is retried


def test_no_route_says_network_unreachable(make_resolver, waits):
    with pytest.raises(RegistryError) as caught:
        make_resolver(retries=1).resolve("255.255.255.255:5000/team/app:1.0")

    assert str(caught.value) == (
        "registry 255.255.255.255:5000 is unreachable while resolving "
        "255.255.255.255:5000/team/app:1.0: network unreachable: no route to 255.255.255.255 "
        "(2 attempts to https://255.255.255.255:5000)"
    )
