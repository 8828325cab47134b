"""Run one piece of work per reference, concurrently, under one deadline for the whole batch.

Each reference keeps its own bound (`total_timeout`), but a batch of many against a registry
that trickles bytes would otherwise take `references / workers` times that: the batch's own
deadline (`batch_timeout`) cuts whatever is still running when it ends, and references not yet
started fail at once. Work that needs no network (answers already cached, digests given in the
reference, a lock read) runs inline, without a thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from image_digest.errors import DigestError
from image_digest.names.reference import Reference
from image_digest.transport.deadline import Deadline

T = TypeVar("T")
Work = Callable[[Reference, Deadline], T]
Prefetch = Callable[[ThreadPoolExecutor, list[Reference], Deadline], None]


def batch_deadline(seconds: float) -> Deadline:
    """The deadline a batch's references run `within`."""
    return Deadline(seconds, bound=f"the batch's time bound of {seconds:g} s (batch_timeout)")


def run_batch(
    work: Work[T],
    references: Iterable[Reference],
    *,
    remote: Collection[Reference],
    seconds: float,
    max_workers: int,
    prefetch: Prefetch | None = None,
) -> dict[Reference, T | DigestError]:
    """`work(reference, batch)` for each reference; a `DigestError` is returned, not raised.
    Only `remote` references (those that will ask a registry) go to a thread pool."""
    references = list(references)
    results: dict[Reference, T | DigestError] = {}
    with batch_deadline(seconds) as batch:
        pooled = [r for r in references if r in remote]
        for reference in references:
            if reference not in remote:
                results[reference] = _attempt(work, reference, batch)
        if not pooled:
            return results
        workers = min(max_workers, len(pooled))
        with ThreadPoolExecutor(workers, thread_name_prefix="image-digest") as pool:
            if prefetch is not None:
                prefetch(pool, pooled, batch)
            futures = {r: pool.submit(_attempt, work, r, batch) for r in pooled}
            for reference, future in futures.items():
                results[reference] = future.result()
    return results


def _attempt(work: Work[T], reference: Reference, batch: Deadline) -> T | DigestError:
    try:
        return work(reference, batch)
    except DigestError as exc:
        return exc
