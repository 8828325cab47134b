"""The deadline watchdog: what it cuts, what it leaves alone.

No test sleeps: a "clock" deadline that expires after the one under test tells us the
watchdog has already dealt with it (it expires deadlines in time order, on one thread).
"""

from __future__ import annotations

import threading

from image_digest.transport.deadline import Deadline
from tests.hardening.scripted import assert_pinned
from tests.support.fault_server import FaultConnection, FaultServer, RawRequest
from tests.support.images import OCI_MANIFEST, build_image


class FakeConnection:
    """A `Watchable` that records aborts."""

    def __init__(self) -> None:
        self.deadline: Deadline | None = None
        self.aborted = threading.Event()
        self.aborts = 0

    def abort(self) -> None:
        self.aborts += 1
        self.aborted.set()


def wait_past(seconds: float) -> None:
    """Return once the watchdog has expired every deadline ending within `seconds`."""
    clock, tick = Deadline(seconds), FakeConnection()
    clock.watch(tick)
    assert tick.aborted.wait(5), "the watchdog never fired"


def test_an_expired_deadline_cuts_its_connections_once():
    connections = [FakeConnection(), FakeConnection()]
    deadline = Deadline(0.05)
    for connection in connections:
        deadline.watch(connection)

    wait_past(0.1)

    assert [c.aborts for c in connections] == [1, 1]
    assert all(c.deadline is None for c in connections)


def test_a_closed_deadline_cuts_nothing():
    connection = FakeConnection()
    with Deadline(0.05) as deadline:
        deadline.watch(connection)

    wait_past(0.1)

    assert connection.aborts == 0 and connection.deadline is None


def test_a_connection_reused_by_a_newer_deadline_is_not_cut_for_the_older_one():
    connection = FakeConnection()
    older, newer = Deadline(0.05), Deadline(60)
    older.watch(connection)
    newer.watch(connection)  # the pool handed it to the next resolution

    wait_past(0.1)

    assert connection.aborts == 0 and connection.deadline is newer
    newer.close()


def test_watching_after_expiry_cuts_at_once():
    deadline = Deadline(0)
    connection = FakeConnection()

    deadline.watch(connection)

    assert connection.aborted.wait(5)


def test_many_deadlines_share_one_watchdog_thread():
    deadlines = [Deadline(30) for _ in range(50)]
    for deadline in deadlines:
        deadline.watch(FakeConnection())

    watchdogs = [t for t in threading.enumerate() if t.name == "image-digest-deadline"]
    assert len(watchdogs) == 1
    for deadline in deadlines:
        deadline.close()


def test_kept_alive_connection_survives_the_end_of_the_resolution_that_opened_it(
    make_resolver,
):
    """Closing each resolution's deadline keeps pooled connections usable afterwards."""
    image = build_image("hardening: keep-alive")
    headers = {
        "Content-Type": OCI_MANIFEST,
        "Docker-Content-Digest": image.digest,
        "Content-Length": str(len(image.manifest)),
    }

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if request.path == "/v2/":
            connection.respond(200, {"Content-Type": "application/json"}, b"{}")
        else:
            connection.respond(200, headers, image.manifest, head=request.method == "HEAD")

    with FaultServer(script) as server:
        resolver = make_resolver(total_timeout=0.2)
        ref = f"{server.host}/app:v1"
        assert_pinned(resolver.resolve(ref), ref, image.digest)

        wait_past(0.3)  # the first resolution's deadline has passed
        resolver.clear_cache()
        assert_pinned(resolver.resolve(ref), ref, image.digest)

    assert server.connections == 1


def test_closed_deadlines_do_not_pile_up_on_the_watchdog():
    """Thousands of lookups, each closed long before its bound, leave no heap behind them."""
    from image_digest.transport.deadline import _PURGE_AT, _watchdog

    for _ in range(5 * _PURGE_AT):
        with Deadline(600) as deadline:
            deadline.watch(FakeConnection())
    assert len(_watchdog._queue) <= 2 * _PURGE_AT
