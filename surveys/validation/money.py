"""Amounts of money that fit our columns: Numeric(14, 2)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from surveys.validation.errors import problem

# Numeric(14, 2): twelve digits before the point.
MAX_MONEY = Decimal("999999999999.99")
CENT = Decimal("0.01")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def _money_reader(*, round_to_cents: bool):
    def read(value: Any) -> Decimal | None:
        if value is None or value == "":
            return None
        amount = _decimal(value)
        if amount is None:
            raise problem('must be a decimal number, like "129.90"')
        if amount < 0:
            raise problem("must not be negative")
        if amount > MAX_MONEY:
            raise problem(f"must be at most {MAX_MONEY}")
        # A JSON number is a binary float, never exact (0.1 + 0.2 arrives as
        # 0.30000000000000004): it is read to the nearest cent. A string says
        # exactly what it means, so more than two decimals there is a mistake.
        exact = not round_to_cents and not isinstance(value, float)
        if exact and amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
            raise problem("must have at most 2 decimal places")
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    return read


def _decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON number or a plain decimal string ("129.90")."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not DECIMAL.match(text):
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # str() of a float is its shortest form: 129.9, not 129.900000000000005684…
        text = str(value)
    else:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


_MONEY_SCHEMA = {
    "oneOf": [
        {"type": "string", "pattern": r"^\s*\d{1,12}(\.\d{1,2})?\s*$"},
        {"type": "number", "minimum": 0, "maximum": float(MAX_MONEY)},
        {"type": "null"},
    ],
    "description": "A non-negative amount. A string keeps it exact and has at most two "
    "decimals; a JSON number is read to the nearest cent.",
}
Money = Annotated[
    Decimal | None,
    BeforeValidator(_money_reader(round_to_cents=False)),
    WithJsonSchema(_MONEY_SCHEMA),
]
# Providers send what their shop computed; rounding to cents beats refusing the order.
RoundedMoney = Annotated[
    Decimal | None,
    BeforeValidator(_money_reader(round_to_cents=True)),
    WithJsonSchema(_MONEY_SCHEMA),
]
