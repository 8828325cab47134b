"""Retry policy: urllib3's `Retry` decides what is retryable and how long to back off.

We drive it from our own loop (instead of mounting it on the adapter) so that every wait is
checked against the resolution's `Deadline` and a huge `Retry-After` cannot stall a deploy.
"""

from __future__ import annotations

from urllib3.util.retry import Retry

from image_digest.transport.options import TransportOptions

# 500 too: registries (Docker Hub, GCR) answer it for transient backend failures, and every
# request we make is a read.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "HEAD", "POST"})


def retry_policy(options: TransportOptions) -> Retry:
    return Retry(
        total=options.retries,
        connect=None,
        read=None,
        redirect=False,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=RETRY_METHODS,
        backoff_factor=options.backoff_factor,
        backoff_max=options.backoff_max,
        backoff_jitter=options.backoff_jitter,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
