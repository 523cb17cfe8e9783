"""Admin: the CSV exports of responses and cases, streamed as they are read."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response, stream_with_context
from sqlalchemy.orm import Session

from surveys import clock
from surveys.admin.blueprint import bp
from surveys.db import db
from surveys.services import exports

# exports.responses_csv or exports.cases_csv: a session in, CSV out a piece at a time.
Export = Callable[[Session], Iterator[bytes]]


@bp.get("/export/responses.csv")
def export_responses():
    """Every completed response as CSV, one column per question key."""
    return _csv_download("responses", exports.responses_csv)


@bp.get("/export/cases.csv")
def export_cases():
    """Every case as CSV: status, owner, customer, order, its moments and reasons."""
    return _csv_download("cases", exports.cases_csv)


def _csv_download(name: str, export: Export) -> Response:
    response = Response(stream_with_context(_csv_chunks(export)), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}-{clock.now():%Y-%m-%d}.csv"'
    )
    # Personal data: no proxy or browser cache should keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv_chunks(export: Export) -> Iterator[bytes]:
    # Read with a session of its own, opened once the response starts: the request's
    # session is closed by then. Closed at the end, also when the client goes away halfway.
    session = db.sessionmaker()
    try:
        yield from export(session)
    finally:
        session.close()
