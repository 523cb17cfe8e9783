"""Purchases by a custom property's value, in SQL both databases run.

PostgreSQL reads a JSON member with `->>`; SQLite's `json_extract` takes a path, in which a
name holding a quote or a dot would have to be escaped, so SQLite looks the name up in
`json_each` instead, which takes any name as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from surveys.models import Purchase


class PropertyEquals(ColumnElement[bool]):
    """`column` (a JSON object of strings) holds `name` with exactly `value`."""

    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_clauseelement),
        ("value", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column, name: str, value: str) -> None:
        self.column = column
        # Cast: PostgreSQL has `->>` for text and for integer, and a bare parameter is neither.
        self.name = sa.cast(sa.literal(name, sa.Text), sa.Text)
        self.value = sa.literal(value, sa.Text)


@compiles(PropertyEquals, "postgresql")
def _on_postgresql(element: PropertyEquals, compiler, **kw) -> str:
    column = compiler.process(element.column, **kw)
    name, value = compiler.process(element.name, **kw), compiler.process(element.value, **kw)
    return f"(({column} ->> {name}) = {value})"


@compiles(PropertyEquals)
def _on_sqlite(element: PropertyEquals, compiler, **kw) -> str:
    column = compiler.process(element.column, **kw)
    name, value = compiler.process(element.name, **kw), compiler.process(element.value, **kw)
    return (
        f"EXISTS (SELECT 1 FROM json_each({column}) AS property "
        f"WHERE property.key = {name} AND property.value = {value})"
    )


def purchases_with_property(name: str, value: str):
    """The ids of the purchases whose property `name` is exactly `value`."""
    return sa.select(Purchase.id).where(PropertyEquals(Purchase.properties, name, value))
