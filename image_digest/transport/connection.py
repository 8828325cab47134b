"""HTTP connections that the current `Deadline` can cut, and the requests adapter that uses them.

`RegistryTransport` sends every request inside `enforcing(deadline)`; each connection that
sends a request meanwhile (the first one and every redirect) is watched by that deadline, for
as long as it works for it: while the response headers arrive and while the caller reads the
body. Proxies from the environment keep working (HTTP CONNECT proxies are covered too; SOCKS
proxies fall back to the per-read timeouts only).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection

from image_digest.transport.deadline import Deadline, shutdown_socket

_current: ContextVar[Deadline | None] = ContextVar("image_digest_deadline", default=None)


@contextlib.contextmanager
def enforcing(deadline: Deadline) -> Iterator[None]:
    """Connections that send a request in this block are cut when `deadline` passes."""
    token = _current.set(deadline)
    try:
        yield
    finally:
        _current.reset(token)


class _Watched:
    """Registers the connection with the current deadline before each request it sends."""

    sock: Any
    deadline: Deadline | None = None

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline = _current.get()
        if deadline is not None:
            deadline.watch(self)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def abort(self) -> None:
        shutdown_socket(self.sock)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


def _use_watched_pools(manager: PoolManager) -> None:
    manager.pool_classes_by_scheme = dict(_POOLS)


class DeadlineAdapter(HTTPAdapter):
    """`HTTPAdapter` whose connections (direct or through an HTTP proxy) are watched."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_watched_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):
            _use_watched_pools(manager)
        return manager
