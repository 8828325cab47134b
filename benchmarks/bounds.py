"""Bounded work and the cost of recording: wall times the tests must not assert.

    .venv/bin/python -m benchmarks.bounds            # every case, about a minute
    .venv/bin/python -m benchmarks.bounds --refs 40  # fewer references per batch

- trickle: N references (distinct repositories) against a registry that answers `/v2/` and then
  trickles every manifest forever, `total_timeout=5`: a batch ends at its own bound.
- dead ping: N references against a registry that resets every connection: one ping (and its
  retries) fails them all, instead of each reference trying it in turn.
- record: 1,000 sequential `LockFile.record` calls of new pins into one lock, then the same
  1,000 pins again (unchanged: the file is not touched).
- record concurrently: the same 1,000 new pins recorded one call each by 16 threads through the
  pinning policy's `Recorder` (a Pulumi program pins its resources in parallel).
- cached: `resolve_many([ref])` 1,000 times on a pair already resolved (no thread pool).

Prints one markdown table; run it from the repository root. With `PYTHONPATH` pointing at
another checkout it measures that one (options it lacks are left out).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from image_digest import LockFile, Resolver
from image_digest.pinning.lockfile import LockPin
from tests.support.fault_server import FaultConnection, FaultServer, RawRequest
from tests.support.images import OCI_MANIFEST, build_image


def trickling(request: RawRequest, connection: FaultConnection) -> None:
    if request.path == "/v2/":
        connection.respond(200, {"Content-Type": "application/json"}, b"{}")
        return
    connection.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    connection.trickle(itertools.repeat(b"X-Slow: 1\r\n"), interval=0.05)


def dead(request: RawRequest, connection: FaultConnection) -> None:
    connection.reset()


def batch(script: Callable[[RawRequest, FaultConnection], None], refs: int) -> tuple[float, int]:
    """Wall seconds of one `resolve_each` and the requests the server saw."""
    with FaultServer(script) as server, Resolver(credentials={}, total_timeout=5) as resolver:
        names = [f"{server.host}/app{n}:v1" for n in range(refs)]
        start = time.perf_counter()
        resolver.resolve_each(names)
        return time.perf_counter() - start, len(server.requests)


def record(pins: int) -> tuple[float, float]:
    """Seconds for `pins` sequential records of new pins, then of the same pins again."""
    with tempfile.TemporaryDirectory() as directory:
        lock = LockFile(Path(directory) / "image-digest.lock")
        digests = [f"sha256:{n:064x}" for n in range(pins)]
        new = [LockPin(f"docker.io/library/app{n}:v1", None, digests[n], None) for n in range(pins)]
        start = time.perf_counter()
        for pin in new:
            lock.record([pin])
        first = time.perf_counter() - start
        start = time.perf_counter()
        for pin in new:
            lock.record([pin])
        return first, time.perf_counter() - start


def record_concurrently(pins: int, threads: int = 16) -> float:
    """Seconds for `pins` new pins recorded one call each from `threads` threads."""
    from concurrent.futures import ThreadPoolExecutor

    from image_digest.pinning.recorder import Recorder

    with tempfile.TemporaryDirectory() as directory:
        recorder = Recorder(LockFile(Path(directory) / "image-digest.lock"))
        new = [
            LockPin(f"docker.io/library/app{n}:v1", None, f"sha256:{n:064x}", None)
            for n in range(pins)
        ]
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda pin: recorder.record([pin]), new))
        return time.perf_counter() - start


def cached(calls: int) -> float:
    """Seconds per `resolve_many([ref])` on a pair this resolver already resolved."""
    image = build_image("bench cached")
    headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": image.digest}

    def script(request: RawRequest, connection: FaultConnection) -> None:
        if request.path == "/v2/":
            connection.respond(200, {"Content-Type": "application/json"}, b"{}")
        else:
            connection.respond(200, headers, image.manifest, head=request.method == "HEAD")

    with FaultServer(script) as server, Resolver(credentials={}) as resolver:
        ref = f"{server.host}/app:v1"
        resolver.resolve_many([ref])
        start = time.perf_counter()
        for _ in range(calls):
            resolver.resolve_many([ref])
        return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--refs", type=int, default=160)
    parser.add_argument("--pins", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    wall, requests = batch(trickling, args.refs)
    rows.append((f"trickle, {args.refs} refs, total_timeout=5", f"{wall:.1f} s", requests))
    wall, requests = batch(dead, args.refs)
    rows.append((f"dead ping, {args.refs} refs, total_timeout=5", f"{wall:.2f} s", requests))
    first, again = record(args.pins)
    rows.append((f"record {args.pins} new pins, one call each", f"{first:.1f} s", "-"))
    rows.append((f"record the same {args.pins} pins again", f"{again:.2f} s", "-"))
    try:
        together = record_concurrently(args.pins)
        rows.append((f"record {args.pins} new pins from 16 threads", f"{together:.1f} s", "-"))
    except ImportError:
        pass  # a checkout without the Recorder
    per_call = cached(1000)
    rows.append(("resolve_many([ref]) on a cached pair", f"{per_call * 1e6:.0f} us/call", "-"))
    print("| case | wall | requests at the server |")
    print("| --- | ---: | ---: |")
    for case, wall_text, count in rows:
        print(f"| {case} | {wall_text} | {count} |")


if __name__ == "__main__":
    main()
