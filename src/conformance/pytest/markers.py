"""Which tests are conformance checks: those with a ``conformance_<category>`` marker."""

from __future__ import annotations

import pytest

from conformance.summaries import CATEGORIES

__all__ = ["PREFIX", "category_of", "is_check", "marker"]


PREFIX = "conformance_"


_CATEGORY = pytest.StashKey[str | None]()


def marker(category: str) -> str:
    """The marker of a category: ``shape`` -> ``conformance_shape``."""
    return PREFIX + category


def category_of(item: pytest.Item) -> str | None:
    """The conformance category of a test, or None for any other test (cached)."""
    found = item.stash.get(_CATEGORY, "")
    if found == "":
        names = {m.name for m in item.iter_markers()}
        found = next((c for c in CATEGORIES if marker(c) in names), None)
        item.stash[_CATEGORY] = found
    return found


def is_check(item: pytest.Item) -> bool:
    return category_of(item) is not None
