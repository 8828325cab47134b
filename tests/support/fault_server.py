"""A raw TCP "registry" for faults a well-behaved HTTP server cannot produce.

``FaultServer(script)`` listens on 127.0.0.1 and hands every HTTP request it reads to
``script(request, connection)``. The script answers through the ``FaultConnection``: a normal
response, raw bytes, a truncated body, a TCP reset, a trickle that never ends, or silence.
After the script returns, the server reads the next request on the same connection unless the
script closed it, so keep-alive clients behave as they would against a real server.

Nothing here sleeps on the test's thread: trickles and silences run on the server's own
threads and end as soon as the client goes away or the server stops.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

_MAX_HEAD = 65_536


@dataclass(frozen=True)
class RawRequest:
    """One request as the server read it (header names lowercased)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    connection_number: int = 0


class ConnectionGone(Exception):
    """The client closed or reset the connection, or the server is stopping."""


class FaultConnection:
    """The server side of one accepted TCP connection."""

    def __init__(self, sock: socket.socket, stopping: threading.Event, number: int):
        self.sock = sock
        self.number = number
        self.closed = False
        self._stopping = stopping
        self._buffer = b""

    # -- answering ---------------------------------------------------------------------------

    def respond(
        self,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        *,
        head: bool = False,
    ) -> None:
        """A complete, well-formed response (no body on the wire for HEAD)."""
        all_headers = {"Content-Length": str(len(body)), **(headers or {})}
        self.send(self.head_bytes(status, all_headers) + (b"" if head else body))

    @staticmethod
    def head_bytes(status: int, headers: Mapping[str, str]) -> bytes:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "X"
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise ConnectionGone from exc

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), as a crashing proxy or a middlebox would."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self) -> None:
        """A clean close (FIN): the client sees end-of-stream."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()

    def trickle(self, chunks: Iterable[bytes], interval: float = 0.02) -> None:
        """Send each chunk `interval` seconds apart until the chunks, the client or the
        server run out; an endless iterable trickles until the client gives up."""
        for chunk in chunks:
            self.send(chunk)
            if self._stopping.wait(interval):
                raise ConnectionGone
            if self._peer_gone():
                raise ConnectionGone

    def hold(self) -> None:
        """Say nothing until the client hangs up or the server stops."""
        while not self._stopping.is_set():
            if self._peer_gone(timeout=0.02):
                raise ConnectionGone
        raise ConnectionGone

    # -- reading -----------------------------------------------------------------------------

    def read_request(self) -> RawRequest | None:
        """The next request, or None when the client closed the connection."""
        while b"\r\n\r\n" not in self._buffer:
            data = self._recv()
            if not data:
                return None
            self._buffer += data
            if len(self._buffer) > _MAX_HEAD:
                return None
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = [*request_line.split(" "), "", ""][:3]
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(self._buffer) < length:
            data = self._recv()
            if not data:
                return None
            self._buffer += data
        self._buffer = self._buffer[length:]
        return RawRequest(method, path, headers, self.number)

    def _recv(self) -> bytes:
        while not self._stopping.is_set():
            readable, _, _ = select.select([self.sock], [], [], 0.05)
            if readable:
                try:
                    return self.sock.recv(65_536)
                except OSError:
                    return b""
        return b""

    def _peer_gone(self, timeout: float = 0.0) -> bool:
        try:
            readable, _, _ = select.select([self.sock], [], [], timeout)
            if not readable:
                return False
            return self.sock.recv(65_536, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


Script = Callable[[RawRequest, FaultConnection], None]


class FaultServer:
    """Threaded raw server on 127.0.0.1; ``.host`` is ``127.0.0.1:PORT``.

    ``requests`` records every request read, across connections; ``connections`` counts
    accepted TCP connections. ``greet``, if given, runs on each connection before any request
    is read (for peers that misbehave before HTTP starts, e.g. during a TLS handshake).
    """

    def __init__(self, script: Script, *, greet: Callable[[FaultConnection], None] | None = None):
        self.script = script
        self.greet = greet
        self.requests: list[RawRequest] = []
        self.connections = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._open: list[FaultConnection] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="fault-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FaultServer:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=5)
        with self._lock:
            connections, threads = list(self._open), list(self._threads)
        for connection in connections:
            connection.close()
        for thread in threads:
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def paths(self, method: str | None = None) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if method is None or r.method == method]

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                connection = FaultConnection(sock, self._stopping, self.connections)
                self._open.append(connection)
                thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, connection: FaultConnection) -> None:
        try:
            if self.greet is not None:
                self.greet(connection)
            while not connection.closed:
                request = connection.read_request()
                if request is None:
                    break
                with self._lock:
                    self.requests.append(request)
                self.script(request, connection)
        except ConnectionGone:
            pass
        finally:
            connection.close()
