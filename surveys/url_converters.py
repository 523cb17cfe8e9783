"""The URL converters of every route: a path argument no row can have matches no route (404).

Registered on the app before any blueprint, so each `<int:…>`, `<name>` and `<path:…>`
of every route uses them without being written differently.

Each states what it takes in its regex, not in `to_python`: werkzeug answers 405
rather than 404 when a value that the regex took is refused and another rule with
the same path takes other methods (`GET /s/<token>` beside `POST /s/<token>`).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

from surveys.validation import MAX_DATABASE_ID

# Control characters (C0, DEL, C1): a NUL cannot even be compared on PostgreSQL, and
# no name, key or token we store holds one.
_CONTROL = r"\x00-\x1f\x7f-\x9f"


def digits_at_most(limit: int) -> str:
    """A regex of the decimal numbers from 0 to `limit`, in ASCII digits, unsigned."""
    text = str(limit)
    alternatives = [f"[0-9]{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    # As many digits as the limit: the same leading digits, then a smaller one, then any.
    for position, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - position - 1
            alternatives.append(f"{text[:position]}[0-{int(digit) - 1}][0-9]{{{rest}}}")
    alternatives.append(text)
    return "(?:" + "|".join(alternatives) + ")"


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>`: an id an `integer` column can hold.

    A larger number (2^31, 2^63, 10^20…) would reach the database as a value the
    column cannot be compared with, and the driver refuses it: a 500 for what is only
    an address with nothing at it. werkzeug's \\d would also take other scripts' digits.
    """

    regex = digits_at_most(MAX_DATABASE_ID)

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DATABASE_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        self.regex = digits_at_most(self.max)


class PathSegmentConverter(UnicodeConverter):
    """`<name>` and `<string:…>`: one segment without control characters."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        # werkzeug's regex is "[^/]" with the length bounds after it.
        self.regex = self.regex.replace("[^/]", f"[^/{_CONTROL}]", 1)


class PathTailConverter(PathConverter):
    """`<path:…>`: the rest of the path, without control characters."""

    regex = f"[^/{_CONTROL}][^{_CONTROL}]*?"


def register(app: Flask) -> None:
    """Use these converters for every route added from now on."""
    app.url_map.converters.update(
        int=DatabaseIdConverter,
        default=PathSegmentConverter,
        string=PathSegmentConverter,
        path=PathTailConverter,
    )
