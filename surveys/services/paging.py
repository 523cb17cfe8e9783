"""Paged lists of the admin pages: which page to show of how many rows."""

from __future__ import annotations


def shown_page(asked: int, *, total: int, per_page: int) -> int:
    """The page to show: the one asked for, but at least the first and at most the last."""
    last = max(1, -(-total // per_page))
    return min(max(asked, 1), last)
