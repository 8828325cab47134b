"""`Recorder`: the pins of concurrent callers written together, each caller returning once its
own pins are in the file.

Every write of a lock file rewrites it whole and fsyncs it and its directory, so recording N
pins one write each costs N times the file. A caller that arrives while a write is under way
queues its pins; the next write takes everything queued (group commit). A caller alone pays one
write, as before; a thousand concurrent ones (a Pulumi program pinning its resources in
parallel) pay a handful. A failed write fails every caller whose pins were in it.
"""

from __future__ import annotations

import threading

from image_digest.pinning.lockfile import LockFile, LockPin


class Recorder:
    """Writes pins into one lock file, coalescing concurrent callers; thread-safe."""

    def __init__(self, lock: LockFile):
        self.lock = lock
        self._queue: list[LockPin] = []
        self._queued = 0  # tickets handed out
        self._settled = 0  # every ticket up to this one is written (or failed)
        self._failures: list[tuple[int, int, BaseException]] = []
        self._writing = False
        self._changed = threading.Condition()

    def record(self, pins: list[LockPin]) -> None:
        """Return once `pins` are in the file; raise what the write that carried them raised."""
        if not pins:
            return
        with self._changed:
            self._queue.extend(pins)
            self._queued += 1
            ticket = self._queued
            while self._settled < ticket and self._writing:
                self._changed.wait()
            if self._settled >= ticket:
                for first, last, error in self._failures:
                    if first <= ticket <= last:
                        raise error
                return
            self._writing = True
            batch, self._queue = self._queue, []
            first, last = self._settled + 1, self._queued
        try:
            self.lock.record(batch)
        except BaseException as error:
            with self._changed:
                self._failures.append((first, last, error))
                self._settle(last)
            raise
        with self._changed:
            self._settle(last)

    def _settle(self, last: int) -> None:
        self._settled = last
        self._writing = False
        self._changed.notify_all()
