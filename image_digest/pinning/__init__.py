"""Pinning policy over the read-only lookup: modes, lock file, fallback, `min_age`, recording.

The one place allowed to write a lock: readers (`check`, `exists`, `audit --suggest`) use
`image_digest.lookup.Lookup` alone and never reach this package.
"""

from image_digest.pinning.modes import LOCK_ENV, MODE_ENV, MODES, Mode, parse_mode
from image_digest.pinning.policy import Pin, PinningPolicy

__all__ = ["LOCK_ENV", "MODES", "MODE_ENV", "Mode", "Pin", "PinningPolicy", "parse_mode"]
