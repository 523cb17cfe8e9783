"""Admin: the CSV exports of responses and cases, streamed as they are read."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator

from flask import Response, stream_with_context
from sqlalchemy.orm import Session

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.db import db
from surveys.services import exports

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection);
# answers and order ids come from outside, so such cells are written as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 200

# exports.response_table or exports.case_table: a session in, a header and its rows out.
Table = Callable[[Session], tuple[list[str], Iterable[list]]]


@bp.get("/export/responses.csv")
def export_responses():
    """Every completed response as CSV, one column per question key."""
    return _csv_download("responses", exports.response_table)


@bp.get("/export/cases.csv")
def export_cases():
    """Every case as CSV: status, owner, customer, order, its moments and reasons."""
    return _csv_download("cases", exports.case_table)


def _csv_download(name: str, table: Table) -> Response:
    response = Response(stream_with_context(_csv_chunks(table)), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}-{clock.now():%Y-%m-%d}.csv"'
    )
    # Personal data: no proxy or browser cache should keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv_chunks(table: Table) -> Iterator[str]:
    # Read with a session of its own, opened once the response starts: the request's
    # session is closed by then, and the rows close this one after each batch.
    session = db.sessionmaker()
    try:
        header, rows = table(session)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for number, row in enumerate(rows, start=1):
            writer.writerow([csv_cell(value) for value in row])
            if number % ROWS_PER_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    finally:  # also when the client goes away halfway
        session.close()


def csv_cell(value) -> str | int:
    """A value as a spreadsheet should show it, never as a formula it would run."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
