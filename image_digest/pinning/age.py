"""Durations and timestamps for `min_age`: how old is a digest, and is its `created` believable?

Pure functions, no I/O, no clock of their own: callers pass `now`, so tests inject time
instead of sleeping. Times in lock files and messages are UTC, to the second, `...Z`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from image_digest.errors import InvalidOptionError, quoted

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+)([smhdw])")
#: Reproducible builds stamp 1970-01-01 (SOURCE_DATE_EPOCH=0) or Go's zero time 0001-01-01;
#: anything before this says nothing about when the image was built.
PLAUSIBLE_SINCE = datetime(1980, 1, 1, tzinfo=UTC)


def parse_duration(value: str | timedelta, *, option: str = "min_age") -> timedelta:
    """`30m`, `6h`, `2d`, `1w` (or combined, `1d12h`), or a `timedelta`, as a `timedelta`."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise InvalidOptionError(f"{option} must not be negative, got {value}")
        return value
    if not isinstance(value, str):
        raise TypeError(
            f"{option} takes a duration such as '6h' or a datetime.timedelta, not {value!r}"
        )
    text = value.strip().lower()
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise InvalidOptionError(
            f"{option} {quoted(value, 60)} is not a duration: write a number and a unit, "
            "s, m, h, d or w (e.g. 30m, 6h, 2d, 1w, or 1d12h)"
        )
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """`2d6h`, `30m`, `0s`: the inverse of `parse_duration`, for messages."""
    seconds = int(value.total_seconds())
    out = ""
    for unit in "wdhms":
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            out += f"{count}{unit}"
    return out or "0s"


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 time (as image configs and lock files write it), or None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())  # nanoseconds -> microseconds
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def plausible_created(value: object, now: datetime) -> datetime | None:
    """The config's `created` if it can be when the image was built: not in the future, not
    a reproducible-build placeholder (1970, 0001). Else None: use when the lock first saw it."""
    created = parse_time(value)
    if created is None or created > now or created < PLAUSIBLE_SINCE:
        return None
    return created


def stamp(moment: datetime) -> str:
    """`2026-03-01T12:00:00Z`: the lock file's time format."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def utc_now() -> datetime:
    return datetime.now(UTC)
