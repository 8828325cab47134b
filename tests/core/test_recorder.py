"""Concurrent callers' pins go into the lock file together (group commit), each caller
returning once its own pins are written, and failing when the write that carried them failed."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import pytest

from image_digest import LockError, LockFile
from image_digest.pinning.lockfile import LockPin
from image_digest.pinning.recorder import Recorder

CALLERS = 40


def pin(n: int) -> LockPin:
    return LockPin(f"docker.io/library/app{n}:v1", None, f"sha256:{n:064x}", None)


class CountingLock(LockFile):
    """A real lock file whose first write waits until every other caller has queued."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes = 0
        self.queued = threading.Event()

    def record(self, pins: Iterable[LockPin | tuple[str, str | None, str, str | None]]) -> bool:
        self.writes += 1
        if self.writes == 1:
            assert self.queued.wait(30)
        return super().record(pins)


def run_callers(recorder: Recorder, lock: CountingLock) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = [None] * CALLERS

    def call(n: int) -> None:
        try:
            recorder.record([pin(n)])
        except BaseException as exc:
            outcomes[n] = exc

    first = threading.Thread(target=call, args=(0,))
    first.start()
    others = [threading.Thread(target=call, args=(n,)) for n in range(1, CALLERS)]
    for thread in others:
        thread.start()
    while recorder._queued < CALLERS:  # every caller is waiting on the first write
        threading.Event().wait(0.01)
    lock.queued.set()
    for thread in [first, *others]:
        thread.join(30)
    return outcomes


def test_concurrent_callers_share_writes_and_every_pin_lands(tmp_path: Path) -> None:
    lock = CountingLock(tmp_path / "image-digest.lock")
    outcomes = run_callers(Recorder(lock), lock)

    assert outcomes == [None] * CALLERS
    assert lock.writes == 2  # the first caller's pin, then everyone who queued meanwhile
    digests = {e.digest for e in LockFile(tmp_path / "image-digest.lock").entries()}
    assert digests == {pin(n).digest for n in range(CALLERS)}


def test_a_failed_write_fails_every_caller_whose_pins_it_carried(tmp_path: Path) -> None:
    lock = CountingLock(tmp_path / "missing" / "image-digest.lock")
    outcomes = run_callers(Recorder(lock), lock)

    assert all(isinstance(outcome, LockError) for outcome in outcomes), outcomes
    with pytest.raises(LockError):  # and a later caller tries again, and fails alike
        Recorder(lock).record([pin(99)])
