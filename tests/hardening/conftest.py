"""Fixtures of the hardening suite: scripted servers, bounded resolvers, recorded waits.

Every resolver built here has small connect/read/total time bounds, and the transport's
`time.sleep` is replaced by a recorder, so Retry-After and backoff are asserted, not waited
for. No test in this directory sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

import image_digest.transport.http as http_module
from image_digest import Resolver
from tests.hardening.scripted import ScriptedRegistry, TlsMaterial, make_tls_material

#: Small bounds for every scripted case: a hang costs at most about a second.
BOUNDED: dict[str, Any] = {
    "connect_timeout": 0.5,
    "read_timeout": 0.5,
    "total_timeout": 3.0,
    "retries": 2,
    "backoff_factor": 0.1,
    "backoff_jitter": 0.0,
}


@pytest.fixture(autouse=True)
def isolated_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test may read the developer's docker config or Google credentials."""
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-adc.json"))
    monkeypatch.delenv("IMAGE_DIGEST_MODE", raising=False)
    monkeypatch.delenv("IMAGE_DIGEST_LOCK", raising=False)
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    return config_dir


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the transport asked for (Retry-After, backoff), instead of sleeping."""
    recorded: list[float] = []
    monkeypatch.setattr(http_module, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


@pytest.fixture
def make_resolver(waits: list[float]) -> Iterator[Callable[..., Resolver]]:
    """``make_resolver(**overrides)``: a Resolver with the small bounds above."""
    made: list[Resolver] = []

    def make(**overrides: Any) -> Resolver:
        resolver = Resolver(**{**BOUNDED, **overrides})
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        resolver.close()


def _server(ssl_context: Any = None) -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=ssl_context, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture(scope="session")
def _first_server() -> Iterator[HTTPServer]:
    yield from _server()


@pytest.fixture(scope="session")
def _second_server() -> Iterator[HTTPServer]:
    yield from _server()


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    return make_tls_material(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def _tls_server(tls_material: TlsMaterial) -> Iterator[HTTPServer]:
    yield from _server(tls_material.server_context())


@pytest.fixture
def fake(_first_server: HTTPServer) -> Iterator[ScriptedRegistry]:
    """A scripted plain-HTTP registry at ``127.0.0.1:PORT``."""
    _first_server.clear()
    yield ScriptedRegistry(_first_server)
    _first_server.clear()


@pytest.fixture
def elsewhere(_second_server: HTTPServer) -> Iterator[ScriptedRegistry]:
    """A second server, addressed as ``localhost:PORT``: another host to redirect to."""
    _second_server.clear()
    yield ScriptedRegistry(_second_server, name=f"localhost:{_second_server.port}")
    _second_server.clear()


@pytest.fixture
def tls_fake(_tls_server: HTTPServer) -> Iterator[ScriptedRegistry]:
    """A scripted HTTPS registry with a self-signed certificate, at ``localhost:PORT``.

    Loopback hosts default to plain HTTP, so resolvers name it in ``secure_registries``.
    """
    _tls_server.clear()
    yield ScriptedRegistry(_tls_server, name=f"localhost:{_tls_server.port}")
    _tls_server.clear()
