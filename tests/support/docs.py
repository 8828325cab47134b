"""Code blocks of the project's Markdown files, so tests run the docs exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def code_blocks(markdown: str | Path, language: str = "python") -> list[str]:
    """Every fenced block of `language` in `markdown` (a path relative to the repository)."""
    text = (ROOT / markdown).read_text()
    return [body for lang, body in _FENCE.findall(text) if lang == language]


def code_block(markdown: str | Path, needle: str, language: str = "python") -> str:
    """The one block of `language` in `markdown` that contains `needle`."""
    (block,) = [body for body in code_blocks(markdown, language) if needle in body]
    return block
