"""Which values should be resolved at all: the filter every stack-wide rewrite applies."""

from __future__ import annotations

from collections.abc import Iterable

from image_digest.errors import InvalidReferenceError
from image_digest.fields.recognize import classified


def needs_resolution(value: object, skip_prefixes: Iterable[str] = ()) -> bool:
    """False for non-strings, references that already carry a digest, skipped prefixes, and
    values that are no container image at all (`image_digest.fields.recognize`: image IDs, VM
    images).

    A prefix matches the reference as written or its canonical form, so `docker.io/library/`
    skips `nginx:1.25`. Invalid references return True, so resolving them raises a clear error
    instead of silently deploying them by tag.
    """
    if not isinstance(value, str):
        return False
    prefixes = tuple(skip_prefixes)
    if prefixes and value.startswith(prefixes):
        return False
    reference = classified(value)
    if isinstance(reference, str):  # no container image at all: an image ID, a VM image
        return False
    if isinstance(reference, InvalidReferenceError):
        return True
    if reference.digest is not None:
        return False
    return not (prefixes and str(reference).startswith(prefixes))
