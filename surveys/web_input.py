"""Numbers read from a query string or a loose form field: page numbers and ids.

`request.args.get("page", type=int)` takes "99999999999999999999", "-5" and "²"
apart from what a page can use, and such a number reached an OFFSET or an id column
the database cannot compare it with (a 500). These helpers read only ASCII digits,
within bounds, and give the page's fallback for anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from surveys.validation.numbers import MAX_DATABASE_ID

# Past any real list (fifty rows a page), and small enough that its OFFSET fits anywhere.
MAX_PAGE = 1_000_000
_DIGITS = re.compile(r"[0-9]+")


def page_number(args: Mapping[str, str], name: str = "page") -> int:
    """The page asked for: 1 when absent or not a positive whole number, at most MAX_PAGE.

    A number past the last page is the list's to bring back to its last page
    (surveys.services.paging), as only the list knows how many rows it has.
    """
    text = args.get(name) or ""
    if not _DIGITS.fullmatch(text):
        return 1
    # Longer than MAX_PAGE's digits is past it; int() of thousands of digits is refused.
    if len(text.lstrip("0")) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(max(int(text), 1), MAX_PAGE)


def database_id(text: str | None) -> int | None:
    """The id these ASCII digits name, or None when they name no row that can exist."""
    if text is None or not _DIGITS.fullmatch(text) or len(text) > len(str(MAX_DATABASE_ID)):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_DATABASE_ID else None
