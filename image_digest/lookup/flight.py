"""One computation per key, shared by every thread that asks for it meanwhile, then kept.

Identical lookups in flight at the same time share one request, and an answer is kept for the
owner's lifetime (a program run), so every resource sees the same digest for the same tag. A
failure is handed to the threads that waited for it and then forgotten: the next caller tries
again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """A thread-safe memo of `key -> value` whose misses run once."""

    def __init__(self) -> None:
        self._futures: dict[Hashable, Future[T]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if not owner:
            return future.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._futures.pop(key, None)
            future.set_exception(exc)
            raise
        future.set_result(value)
        return value

    def known(self, key: Hashable) -> bool:
        """Whether `key`'s answer is already here (no work, no waiting)."""
        with self._lock:
            future = self._futures.get(key)
        return future is not None and future.done() and future.exception() is None

    def clear(self) -> None:
        with self._lock:
            self._futures.clear()
