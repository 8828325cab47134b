"""Read a streamed response body without trusting its size or its pace."""

from __future__ import annotations

import requests

from image_digest.transport.deadline import Deadline

CHUNK_SIZE = 65_536


class BodyTooLargeError(Exception):
    """The body passed `cap`; `size` is how much had arrived by then."""

    def __init__(self, size: int):
        super().__init__(f"body of at least {size} bytes")
        self.size = size


def read_capped(response: requests.Response, cap: int, deadline: Deadline | None = None) -> bytes:
    """The whole body, or `BodyTooLargeError` past `cap` bytes, or `TimeoutError` once
    `deadline` has passed; connection errors propagate as requests raises them."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK_SIZE):
        size += len(chunk)
        if size > cap:
            raise BodyTooLargeError(size)
        if deadline is not None and deadline.expired():
            raise TimeoutError("the deadline passed while reading the body")
        chunks.append(chunk)
    return b"".join(chunks)
