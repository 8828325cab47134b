"""The pinning modes and the environment variables that choose them."""

from __future__ import annotations

import os
from typing import Literal

Mode = Literal["resolve", "locked", "fallback"]
MODES: tuple[Mode, ...] = ("resolve", "locked", "fallback")
MODE_ENV = "IMAGE_DIGEST_MODE"
LOCK_ENV = "IMAGE_DIGEST_LOCK"


def parse_mode(mode: str | None) -> Mode:
    """`mode`, else `IMAGE_DIGEST_MODE`, else `resolve`; a ValueError naming where it came from."""
    value = mode if mode is not None else os.environ.get(MODE_ENV) or "resolve"
    for known in MODES:
        if value == known:
            return known
    source = "mode" if mode is not None else f"environment variable {MODE_ENV}"
    raise ValueError(f"{source} is {value!r}, which is not a mode; use one of: {', '.join(MODES)}")
