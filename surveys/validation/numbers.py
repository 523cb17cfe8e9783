"""Whole numbers as JSON writes them, and ids that fit a database `integer`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from surveys.validation.errors import problem

# PostgreSQL's `integer`, the type of every id column: a larger id names nothing.
MAX_DATABASE_ID = 2**31 - 1


def as_whole_number(value: Any) -> int | None:
    """A JSON integer as an int, or None: not a boolean, not a string.

    `2.0` counts: JSON Schema calls any number without a fraction an integer, and some
    JSON writers (Python's among them) write whole floats that way.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def WholeNumber(minimum: int, maximum: int) -> Any:  # noqa: N802
    """A JSON integer (not a boolean, not a string) between the bounds, inclusive."""

    def read(value: Any) -> int:
        number = as_whole_number(value)
        if number is None or not minimum <= number <= maximum:
            raise problem(f"must be a whole number from {minimum} to {maximum}")
        return number

    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return Annotated[int, BeforeValidator(read), WithJsonSchema(schema)]


DatabaseId = WholeNumber(1, MAX_DATABASE_ID)
