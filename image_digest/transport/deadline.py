"""A monotonic time budget shared by every request, retry and wait of one resolution.

Socket timeouts bound each read, not a whole response: a peer that sends one header byte every
second never trips a 30 s read timeout, and neither does a body that trickles. So a `Deadline`
is also enforced on the wire: every connection that sends a request on its behalf is `watch`ed,
and when the time runs out one shared watchdog thread shuts those sockets down, which ends any
blocked read at once (the caller then sees a connection error and reports the time bound).

`close()` (or leaving `with deadline:`) releases the connections; a deadline that is never
closed only costs the watchdog a no-op when it expires (idle pooled connections it still
marks are shut, and the pool reconnects on next use).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
import weakref
from typing import Protocol


class Watchable(Protocol):
    """A connection a deadline can cut: it remembers its current owner, and can abort."""

    deadline: Deadline | None

    def abort(self) -> None: ...


class Deadline:
    """`seconds` from now, or sooner when the deadline it is `within` (a batch's) ends first.

    `bound` says which limit it is, for messages: "the total time bound of 30 s (total_timeout)"
    or the batch's own.
    """

    def __init__(self, seconds: float, *, within: Deadline | None = None, bound: str = ""):
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self.bound = bound or f"the total time bound of {seconds:g} s (total_timeout)"
        if within is not None and within._end < self._end:
            self._end = within._end
            self.bound = within.bound
        self._watched: weakref.WeakSet[Watchable] = weakref.WeakSet()
        self._scheduled = False
        self._closed = False

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def watch(self, connection: Watchable) -> None:
        """Cut `connection` when this deadline passes, unless it is working for another
        deadline by then (connections are pooled and reused)."""
        with _lock:
            connection.deadline = self
            self._watched.add(connection)
            if not self._scheduled and not self._closed:
                self._scheduled = True
                _watchdog.schedule(self._end, self)

    def close(self) -> None:
        """The resolution is over: its connections are no longer cut when time runs out."""
        with _lock:
            self._closed = True
            for connection in list(self._watched):
                if connection.deadline is self:
                    connection.deadline = None
            self._watched.clear()

    def _expire(self) -> None:
        with _lock:
            if self._closed:
                return
            for connection in list(self._watched):
                if connection.deadline is self:
                    connection.deadline = None
                    connection.abort()
            self._watched.clear()

    def __enter__(self) -> Deadline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def shutdown_socket(sock: object) -> None:
    """Wake every thread blocked on `sock` (plain, TLS, or TLS-in-TLS), ignoring errors."""
    raw = sock if isinstance(sock, socket.socket) else getattr(sock, "socket", None)
    if isinstance(raw, socket.socket):
        # socket.socket.shutdown, not SSLSocket.shutdown: no TLS state is touched from this
        # thread; the blocked reader just sees end-of-stream.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(raw, socket.SHUT_RDWR)


# One lock orders `watch` (a connection changing owner) against `_expire` (cutting it), so a
# connection already reused by a newer resolution is never cut for an older one.
_lock = threading.Lock()
#: The watchdog's heap is purged of closed deadlines when it grows to this many entries.
_PURGE_AT = 1024


class _Watchdog:
    """One daemon thread that expires deadlines in time order."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Deadline]] = []
        self._counter = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self._limit = _PURGE_AT

    def schedule(self, end: float, deadline: Deadline) -> None:
        with self._wakeup:
            if len(self._queue) >= self._limit:
                self._purge()
            heapq.heappush(self._queue, (end, next(self._counter), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="image-digest-deadline", daemon=True
                )
                self._thread.start()
            self._wakeup.notify()

    def _purge(self) -> None:
        """Drop deadlines closed before their end (most are: a lookup takes milliseconds, its
        bound is seconds), so the heap holds what is still running, not every lookup of the
        last `total_timeout` seconds. Amortized: the next purge waits for twice as many."""
        self._queue = [item for item in self._queue if not item[2]._closed]
        heapq.heapify(self._queue)
        self._limit = max(_PURGE_AT, 2 * len(self._queue))

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._queue or self._queue[0][0] > time.monotonic():
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._wakeup.wait(timeout)
                _, _, deadline = heapq.heappop(self._queue)
            deadline._expire()


_watchdog = _Watchdog()
