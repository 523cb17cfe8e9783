"""What the database holds, to compare before and after a request that must change nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from surveys.db import Base


def all_rows(session) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: equal snapshots mean nothing changed."""
    session.expire_all()
    return {
        table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
        for table in Base.metadata.sorted_tables
    }


def row_counts(session, *models) -> dict[str, int]:
    """How many rows each of these models' tables holds."""
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) for model in models
    }
