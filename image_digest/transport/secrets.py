"""The credentials a transport holds, so they can be scrubbed from anything a peer echoes.

A hostile registry can put the Authorization header it received into an error body or a
header; every message built from its answers passes through `redact`, and every error that
leaves a resolution through `scrub`.
"""

from __future__ import annotations

import threading

from image_digest.errors import DigestError, RegistryError

REDACTED = "[REDACTED]"


class Secrets:
    """A thread-safe set of secret strings (passwords, Basic blobs, tokens)."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        with self._lock:
            self._values.update(v for v in values if v)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced.

        Longest first: a token may embed another secret (a refresh token, a Basic blob), and
        replacing the shorter one first would leave the rest of the token in place.
        """
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for secret in values:
            text = text.replace(secret, REDACTED)
        return text

    def scrub(self, error: DigestError) -> DigestError:
        """`error`, with every credential we hold removed from its message, code and notes,
        and from those of the exceptions chained to it. A context raised `from None` is
        dropped: it was hidden on purpose, and may quote what the registry sent."""
        pending: list[BaseException | None] = [error]
        seen: set[int] = set()
        while pending:
            current = pending.pop()
            if current is None or id(current) in seen:
                continue
            seen.add(id(current))
            if current.__suppress_context__:
                current.__context__ = None
            current.args = tuple(self.redact(a) if isinstance(a, str) else a for a in current.args)
            notes = getattr(current, "__notes__", None)
            if isinstance(notes, list):
                notes[:] = [self.redact(n) if isinstance(n, str) else n for n in notes]
            if isinstance(current, RegistryError) and current.code:
                current.code = self.redact(current.code)
            pending += [current.__cause__, current.__context__]
        return error
