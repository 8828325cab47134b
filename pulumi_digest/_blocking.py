"""Run the core's blocking HTTP off the event loop, on threads of our own.

Pulumi calls transforms and `apply` callbacks on the program's event loop, and it parks its
own RegisterResource RPCs on the loop's default executor while the engine waits for those
callbacks. Blocking the loop would serialize the program; borrowing the default executor
could deadlock it. A dedicated pool avoids both.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

#: Concurrent resolutions across all resources of one program (each may fan out further).
MAX_WORKERS = 32

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=MAX_WORKERS, thread_name_prefix="pulumi-digest"
            )
        return _executor


async def run_blocking(fn: Callable[..., T], /, *args: object) -> T:
    """Await `fn(*args)` run on the pulumi-digest pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), functools.partial(fn, *args))
