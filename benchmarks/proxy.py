"""A loopback HTTP/1.1 reverse proxy that delays every request and counts it.

It models a registry across a network: each request waits `delay` seconds (one round trip)
before it is forwarded, and the proxy records every request, so a benchmark can report what
each contender *sent*, independent of what the contender says about itself.

Standard library only, so it also runs as its own process
(`python benchmarks/proxy.py --upstream 127.0.0.1:5000 --delay 0.025`), which keeps its CPU
work off the benchmarked interpreter's GIL. The control paths under `/__proxy__/` (stats,
reset) are neither delayed nor counted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, Protocol
from urllib.parse import urlsplit

DEFAULT_DELAY = 0.025
CONTROL_PREFIX = "/__proxy__/"
NON_HTTP = "non-HTTP (TLS try)"
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_MAX_HEAD = 65_536
_IDLE_TIMEOUT = 60.0


class Seen(NamedTuple):
    """One request: what it was, when it arrived, when its answer went back and its status.

    Times are `time.monotonic()` (CLOCK_MONOTONIC, comparable across processes on one host).
    A request still in flight (or whose forwarding failed) has `answered` NaN and status 0.
    """

    method: str
    target: str
    arrived: float
    answered: float = math.nan
    status: int = 0


@dataclass
class ProxyStats:
    """What went through the proxy: every request, plus connections opened.

    `non_http` counts connections that did not start with an HTTP request (e.g. a client
    trying TLS first on a plain-HTTP port); each cost the client a delayed round trip too.
    """

    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    non_http: int = 0

    @property
    def total(self) -> int:
        return len(self.requests) + self.non_http

    def kinds(self) -> Counter[str]:
        """Requests by what they are for: ping, token, HEAD/GET manifest, other, non-HTTP."""
        kinds = Counter(request_kind(r.method, r.target) for r in self.requests)
        if self.non_http:
            kinds[NON_HTTP] = self.non_http
        return kinds

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": [list(r) for r in self.requests],
            "connections": self.connections,
            "non_http": self.non_http,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProxyStats:
        return cls(
            [
                Seen(str(m), str(t), float(a), float(b), int(c))
                for m, t, a, b, c in data["requests"]
            ],
            int(data["connections"]),
            int(data["non_http"]),
        )

    def __add__(self, other: ProxyStats) -> ProxyStats:
        return ProxyStats(
            self.requests + other.requests,
            self.connections + other.connections,
            self.non_http + other.non_http,
        )


def request_kind(method: str, target: str) -> str:
    """`ping` (/v2/), `token`, `HEAD manifest`, `GET manifest` or `METHOD other`.

    `target` may be absolute (`http://host/v2/`), as clients send it to a forward proxy.
    """
    path = urlsplit(target).path if "://" in target else target.split("?", 1)[0]
    if path.rstrip("/") == "/v2":
        return "ping"
    if path.endswith("/token"):
        return "token"
    if path.startswith("/v2/") and "/manifests/" in path:
        return f"{method} manifest"
    return f"{method} other"


class Proxy(Protocol):
    """What benchmarks need from a proxy, in-process or in its own process."""

    @property
    def host(self) -> str: ...

    def stats(self) -> ProxyStats: ...

    def reset(self) -> None: ...

    def set_delay(self, seconds: float) -> None: ...

    def close(self) -> None: ...


class LatencyProxy:
    """The proxy, serving from threads of this process (one thread per client connection)."""

    def __init__(
        self,
        upstream: str,
        *,
        delay: float = DEFAULT_DELAY,
        listen: tuple[str, int] = ("127.0.0.1", 0),
    ):
        self.upstream = upstream
        self.delay = delay
        self._stats = ProxyStats()
        self._lock = threading.Lock()
        self._clients: set[socket.socket] = set()
        handler = type("_BoundHandler", (_Handler,), {"proxy": self})
        self._server = _Server(listen, handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="latency-proxy", daemon=True
        )
        self._thread.start()

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, to put in image references instead of the upstream's."""
        address, port = self._server.server_address[:2]
        return f"{address!s}:{port}"

    def stats(self) -> ProxyStats:
        with self._lock:
            return ProxyStats(
                list(self._stats.requests), self._stats.connections, self._stats.non_http
            )

    def reset(self) -> None:
        with self._lock:
            self._stats = ProxyStats()

    def set_delay(self, seconds: float) -> None:
        self.delay = seconds

    def close(self) -> None:
        """Stop accepting, and end kept-alive client connections so their threads finish."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def __enter__(self) -> LatencyProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- called from handler threads ---------------------------------------------------------

    def _arrived(self, seen: Seen, first_on_connection: bool) -> Callable[[Seen], None]:
        """Count a request as it arrives (so a client that has its answer sees it counted);
        the returned function fills in its answer later."""
        with self._lock:
            stats = self._stats
            index = len(stats.requests)
            stats.requests.append(seen)
            stats.connections += first_on_connection

        def answered(final: Seen) -> None:
            with self._lock:
                stats.requests[index] = final

        return answered

    def _count_non_http(self) -> None:
        with self._lock:
            self._stats.non_http += 1
            self._stats.connections += 1


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _Handler(socketserver.BaseRequestHandler):
    proxy: LatencyProxy

    def handle(self) -> None:
        sock: socket.socket = self.request
        with self.proxy._lock:
            self.proxy._clients.add(sock)
        try:
            self._serve(sock)
        finally:
            with self.proxy._lock:
                self.proxy._clients.discard(sock)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(_IDLE_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if not first or not first.isalpha():
            # Not HTTP (a TLS ClientHello, say): the client still paid a round trip to learn it.
            self.proxy._count_non_http()
            time.sleep(self.proxy.delay)
            return
        reader = sock.makefile("rb")
        upstream: http.client.HTTPConnection | None = None
        served = 0
        try:
            while True:
                request = _read_request(reader)
                if request is None:
                    return
                method, target, version, headers, body = request
                if target.startswith(CONTROL_PREFIX):
                    sock.sendall(self._control(target))
                    continue
                seen = Seen(method, target, time.monotonic())
                answered = self.proxy._arrived(seen, first_on_connection=served == 0)
                served += 1
                time.sleep(self.proxy.delay)
                upstream, status, reply = self._forward(upstream, method, target, headers, body)
                answered(seen._replace(answered=time.monotonic(), status=status))
                sock.sendall(reply)
                if _wants_close(version, headers):
                    return
        except (OSError, http.client.HTTPException, ValueError):
            return
        finally:
            if upstream is not None:
                upstream.close()
            reader.close()

    def _forward(
        self,
        upstream: http.client.HTTPConnection | None,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> tuple[http.client.HTTPConnection, int, bytes]:
        """Send upstream (reconnecting once if the kept-alive connection went away)."""
        for attempt in (1, 2):
            if upstream is None:
                host, _, port = self.proxy.upstream.rpartition(":")
                upstream = http.client.HTTPConnection(host, int(port), timeout=_IDLE_TIMEOUT)
            try:
                upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        upstream.putheader(name, value)
                upstream.endheaders(body or None)
                response = upstream.getresponse()
                payload = response.read()
                return upstream, response.status, _reply(method, response, payload)
            except (OSError, http.client.HTTPException):
                upstream.close()
                upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _control(self, target: str) -> bytes:
        if target.startswith(CONTROL_PREFIX + "reset"):
            self.proxy.reset()
            payload = b"{}"
        elif target.startswith(CONTROL_PREFIX + "delay/"):
            self.proxy.set_delay(float(target.rsplit("/", 1)[1]))
            payload = b"{}"
        else:
            payload = json.dumps(self.proxy.stats().to_json()).encode()
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )


def _read_request(
    reader: BinaryIO,
) -> tuple[str, str, str, list[tuple[str, str]], bytes] | None:
    line = reader.readline(_MAX_HEAD)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        raise ValueError("malformed request line")
    method, target, version = parts
    headers: list[tuple[str, str]] = []
    size = len(line)
    while True:
        raw = reader.readline(_MAX_HEAD)
        size += len(raw)
        if size > _MAX_HEAD or not raw:
            raise ValueError("request head too large or cut off")
        if raw in (b"\r\n", b"\n"):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    length = next((int(v) for n, v in headers if n.lower() == "content-length"), 0)
    if any(n.lower() == "transfer-encoding" for n, _ in headers):
        raise ValueError("chunked request bodies are not supported")
    body = reader.read(length) if length else b""
    return method, target, version, headers, body


def _reply(method: str, response: http.client.HTTPResponse, payload: bytes) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {response.reason}"]
    has_body = method != "HEAD" and response.status not in (204, 304)
    for name, value in response.getheaders():
        lowered = name.lower()
        if lowered in _HOP_BY_HOP or (has_body and lowered == "content-length"):
            continue
        lines.append(f"{name}: {value}")
    if has_body:
        lines.append(f"Content-Length: {len(payload)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (payload if has_body else b"")


def _wants_close(version: str, headers: list[tuple[str, str]]) -> bool:
    connection = ",".join(v for n, v in headers if n.lower() == "connection").lower()
    if version == "HTTP/1.0":
        return "keep-alive" not in connection
    return "close" in connection


class ProxyProcess:
    """The same proxy in a child process; stats and reset go over its control paths."""

    def __init__(self, upstream: str, *, delay: float = DEFAULT_DELAY):
        self.upstream = upstream
        self.delay = delay
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__)), "--upstream", upstream, "--delay", str(delay)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("listening "):
            self._process.kill()
            raise RuntimeError(f"latency proxy did not start (said {line!r})")
        self._host = line.split(" ", 1)[1]

    @property
    def host(self) -> str:
        return self._host

    def stats(self) -> ProxyStats:
        return ProxyStats.from_json(json.loads(self._control("stats")))

    def reset(self) -> None:
        self._control("reset")

    def set_delay(self, seconds: float) -> None:
        self.delay = seconds
        self._control(f"delay/{seconds!r}")

    def _control(self, what: str) -> bytes:
        url = f"http://{self._host}{CONTROL_PREFIX}{what}"
        with urllib.request.urlopen(url, timeout=10) as response:
            body: bytes = response.read()
            return body

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> ProxyProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> None:
    """Serve until terminated; the first stdout line is `listening HOST:PORT`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--delay", type=float, default=DEFAULT_DELAY, help="seconds per request")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    proxy = LatencyProxy(args.upstream, delay=args.delay, listen=("127.0.0.1", args.port))
    print(f"listening {proxy.host}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


if __name__ == "__main__":
    main()
