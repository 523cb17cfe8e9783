"""The `<int:…>` converter of every route: an id no `integer` column can hold matches no route.

Registered on the app before any blueprint, so each `<int:…>` of every route uses it
without being written differently.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from surveys.validation.numbers import MAX_DATABASE_ID


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

    The bound is stated in the regex, not only checked in `to_python`: werkzeug answers
    405 rather than 404 when a value the regex took is refused and another rule with the
    same path takes other methods.
    """

    regex = digits_at_most(MAX_DATABASE_ID)

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DATABASE_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        self.regex = digits_at_most(self.max)


def register(app: Flask) -> None:
    """Use the converter for every route added from now on."""
    app.url_map.converters["int"] = DatabaseIdConverter
