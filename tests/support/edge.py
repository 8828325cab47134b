"""One HTTP(S) front for many registry host names, routed by the Host header.

Each route is a werkzeug handler: `forward(base_url)` relays to a real local server (a
docker-registry, a token server), or a handler answers itself (an emulated cloud API). Every
request is recorded with its host and status, so tests count round trips at the wire.
Plain HTTP serves as a forward proxy target (`HTTP_PROXY`, absolute request URIs); with
`tls=(cert, key)` it serves HTTPS for all its names on one port (one certificate naming them).
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from werkzeug import Request, Response
from werkzeug.serving import make_server

Handler = Callable[[Request], Response]

_RELAYED_REQUEST = ("authorization", "accept", "content-type")
_RELAYED_RESPONSE = (
    "content-type",
    "docker-content-digest",
    "www-authenticate",
    "retry-after",
    "location",
)


@dataclass(frozen=True)
class Hit:
    host: str
    method: str
    path: str
    status: int


def host_of(request: Request) -> str:
    """The Host header without its port."""
    return (request.host or "").rsplit(":", 1)[0] if "]" not in (request.host or "") else ""


def forward(base_url: str, prefix: str = "") -> Handler:
    """A handler relaying to `base_url`, with `prefix` put before the repository name."""
    session = requests.Session()
    session.trust_env = False

    def relay(request: Request) -> Response:
        path = request.path
        if prefix and path.startswith("/v2/") and path != "/v2/":
            path = f"/v2/{prefix}/{path[4:]}"
        query = request.query_string.decode()
        headers = {k: v for k, v in request.headers.items() if k.lower() in _RELAYED_REQUEST}
        answer = session.request(
            request.method,
            f"{base_url}{path}" + (f"?{query}" if query else ""),
            headers=headers,
            data=request.get_data(),
            allow_redirects=False,
            timeout=30,
        )
        relayed = {k: v for k, v in answer.headers.items() if k.lower() in _RELAYED_RESPONSE}
        response = Response(answer.content, answer.status_code, relayed)
        if request.method == "HEAD" and "Content-Length" in answer.headers:
            response.headers["Content-Length"] = answer.headers["Content-Length"]
        return response

    return relay


class Edge:
    """A threaded werkzeug server dispatching on the Host header (see the module doc)."""

    def __init__(
        self,
        routes: dict[str, Handler],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
    ):
        self.routes = routes
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        context = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
        self._server = make_server(host, port, self._app, threaded=True, ssl_context=context)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> Edge:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Edge:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def count(self, *hosts: str, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for hit in self.hits if hit.host in hosts and method in (None, hit.method))

    def reset(self) -> None:
        with self._lock:
            self.hits.clear()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        host = host_of(request)
        handler = self.routes.get(host)
        if handler is None:
            response = Response(f"no route for {host!r}", 502)
        else:
            try:
                response = handler(request)
            except Exception as exc:  # a broken emulation shows as a 500 naming the error
                response = Response(f"{type(exc).__name__}: {exc}", 500)
        with self._lock:
            self.hits.append(Hit(host, request.method, request.path, response.status_code))
        return response(environ, start_response)
