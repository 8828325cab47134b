"""README's table of covered types is the catalog's, so the docs cannot drift from the code."""

from __future__ import annotations

from tests.support.docs import ROOT, catalog_table


def test_readme_lists_exactly_the_catalog() -> None:
    assert catalog_table() in (ROOT / "README.md").read_text()
