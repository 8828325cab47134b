"""`min_age`: is a tag's new digest old enough to deploy, and what to say when it is not.

A fresh push can be a broken build that upstream will replace within the hour; `min_age`
keeps the locked digest until the new one has existed for that long. The age comes from the
image config's `created`, or, when that is missing or not believable (in the future, or a
reproducible build's 1970/0001 placeholder), from when the lock first saw the digest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from image_digest.pinning.age import format_duration, parse_time, plausible_created, stamp


@dataclass(frozen=True)
class Age:
    """When a digest counts as born, and how we know."""

    born: datetime
    basis: str

    def eligible_at(self, min_age: timedelta) -> datetime:
        return self.born + min_age

    def young(self, now: datetime, min_age: timedelta) -> bool:
        return now < self.eligible_at(min_age)


def age_of(created: str | None, now: datetime, first_seen: Callable[[], str | None]) -> Age:
    """The age of a digest: its `created`, else `first_seen()` (called only then, since it may
    write the lock), else now (never seen before, nowhere to remember it)."""
    born = plausible_created(created, now)
    if born is not None:
        return Age(born, f"created {stamp(born)}")
    why = f"its created time {created!r} is not plausible" if created else "it has no created time"
    seen = parse_time(first_seen())
    if seen is not None:
        return Age(seen, f"first seen {stamp(seen)}; {why}")
    return Age(now, f"first seen now; {why}")


def held_message(
    text: str, new: str, old: str, lock: object, age: Age, min_age: timedelta, now: datetime
) -> str:
    """The warning when the locked digest is kept: which digest waits, and until when."""
    eligible = age.eligible_at(min_age)
    return (
        f"min_age {format_duration(min_age)}: {text} now points at {new} ({age.basis}), younger "
        f"than {format_duration(min_age)}, so the locked digest {old} from lock file {lock} is "
        f"used; {new} becomes eligible at {stamp(eligible)} (in "
        f"{format_duration(eligible - now)}). To take it now: lower min_age (--min-age) or "
        "run without it"
    )


def unheld_message(
    text: str, new: str, why: str, age: Age, min_age: timedelta, now: datetime
) -> str:
    """The warning when a young digest is used because there is nothing to hold on to."""
    return (
        f"min_age {format_duration(min_age)}: {text} points at {new} ({age.basis}), younger "
        f"than {format_duration(min_age)} (eligible at {stamp(age.eligible_at(min_age))}), "
        f"but {why}, so there is no older digest to hold on to: using {new}"
    )
