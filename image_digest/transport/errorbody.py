"""The registry's own words from an error response: the first `errors[]` entry of an OCI
distribution error body (or a token server's `details`), read under a size cap."""

from __future__ import annotations

import json

import requests
from urllib3.exceptions import HTTPError

from image_digest.transport.body import BodyTooLargeError, read_capped
from image_digest.transport.deadline import Deadline

MAX_ERROR_BODY = 65_536


def error_body(
    response: requests.Response, deadline: Deadline | None = None
) -> tuple[str | None, str]:
    """The first `(code, message)` of the body, or `(None, "")`; untrimmed and unredacted:
    the caller removes credentials before it shortens (a cut could split a secret)."""
    try:
        raw = read_capped(response, MAX_ERROR_BODY, deadline)
        value = json.loads(raw) if raw else None
    except (
        BodyTooLargeError,
        TimeoutError,
        ValueError,
        RecursionError,
        requests.RequestException,
        OSError,
        HTTPError,
    ):
        return None, ""
    if not isinstance(value, dict):
        return None, ""
    errors = value.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, dict) and isinstance(first.get("code"), str):
        message = first.get("message")
        return first["code"], message if isinstance(message, str) else ""
    details = value.get("details")  # Docker Hub's token server: {"details": "..."}
    if isinstance(details, str) and details:
        return "", details
    return None, ""
