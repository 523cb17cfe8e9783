"""Importing purchases from a CSV file (`flask purchases import`; README's *Command line*).

Each row is checked with the API's rules (`surveys.api.inputs.check_purchase`)
and recorded by `record_purchase`, like a POST /api/v1/purchases. The import
goes row by row: a bad row is reported with its line and fields and changes
nothing, the good ones go in. Rows are committed a chunk at a time, so a large
file neither holds one long transaction (on SQLite, the write lock the web app
and the worker wait for) nor loses the work done before an interruption; as
known orders are skipped, running the same file again picks up where it stopped.

A dry run does the same work chunk by chunk and rolls each chunk back, so it
reports what a real run would, surveys included, without keeping any of it or
holding the write lock for the whole file.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from surveys import clock
from surveys.api.inputs import check_purchase
from surveys.models.surveys import SurveyStatus
from surveys.services.purchases import PurchaseInput, PurchaseRejected, record_purchase

COLUMNS = (
    "order_id",
    "email",
    "name",
    "purchased_at",
    "total",
    "currency",
    "category",
    "owner_email",
    "locale",
)
REQUIRED_COLUMNS = ("order_id", "email")
# Spreadsheets in many countries save "CSV" with semicolons; tabs come from copy and paste.
DELIMITERS = (",", ";", "\t")
CHUNK_SIZE = 500
# The API's field paths, as the file's columns name them.
COLUMN_OF_FIELD = {
    "customer.email": "email",
    "customer.name": "name",
    "customer.locale": "locale",
    "items.0.category": "category",
}
# The order the summary lists survey outcomes in (the statuses record_purchase gives).
SURVEY_OUTCOMES = ("scheduled", "throttled", "suppressed", "skipped")


class UnreadableFile(Exception):
    """The file cannot be imported at all (missing, not UTF-8, no usable header)."""


@dataclass(frozen=True)
class CsvRow:
    """One record of the file: the line it starts on and its cells by column."""

    line: int
    values: dict[str, str]
    problem: str | None = None  # set when the record's shape is wrong (too many cells)


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported, and why, field by field."""

    line: int
    order_id: str | None
    errors: dict[str, list[str]]

    def describe(self) -> str:
        order = f" (order {self.order_id})" if self.order_id else ""
        reasons = "; ".join(
            f"{column}: {', '.join(messages)}" for column, messages in self.errors.items()
        )
        return f"line {self.line}{order}: {reasons}"


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    imported: int = 0
    known: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    surveys: Counter = field(default_factory=Counter)
    # The line of the first row of a chunk that failed unexpectedly; nothing from it was kept.
    stopped_at: int | None = None
    stopped_because: str | None = None

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    def add(self, other: ImportReport) -> None:
        self.imported += other.imported
        self.known += other.known
        self.rejected += other.rejected
        self.surveys.update(other.surveys)


@dataclass(frozen=True)
class PurchaseFile:
    """A readable CSV file of purchases: its dialect, its columns and how many rows it has."""

    path: Path
    delimiter: str
    columns: tuple[str, ...]
    row_count: int

    def rows(self) -> Iterator[CsvRow]:
        """The data rows, with the line each starts on; blank lines are passed over."""
        with self.path.open("rb") as raw:
            reader = csv.reader(
                _decoded_lines(raw, self.path), delimiter=self.delimiter, strict=True
            )
            next(reader)  # the header, checked when the file was opened
            try:
                while True:
                    line = reader.line_num + 1
                    try:
                        cells = next(reader)
                    except StopIteration:
                        return
                    if not any(cell.strip() for cell in cells):
                        continue
                    yield self._row(line, cells)
            except csv.Error as exc:
                raise UnreadableFile(_csv_error(self.path, reader.line_num, exc)) from None

    def _row(self, line: int, cells: list[str]) -> CsvRow:
        problem = None
        if len(cells) > len(self.columns):
            problem = (
                f"has {len(cells)} cells but the header names {len(self.columns)} "
                f"columns (a {_delimiter_name(self.delimiter)} inside a value that "
                "is not in quotes?)"
            )
        # Spreadsheets drop trailing empty cells: a short row's missing cells are blank.
        values = dict(zip(self.columns, [*cells, *[""] * len(self.columns)], strict=False))
        return CsvRow(line=line, values=values, problem=problem)


def open_purchase_file(path: Path) -> PurchaseFile:
    """Check that the file can be imported: UTF-8, a header naming known columns, good CSV.

    Reads the whole file once (also to count its rows for the progress bar), so
    a file that cannot be read is refused before anything is imported.
    """
    try:
        with path.open("rb") as raw:
            lines = _decoded_lines(raw, path)
            header_line = next(lines, None)
            if header_line is None or not header_line.strip():
                raise UnreadableFile(
                    f"{path} is empty: its first line must name the columns ({', '.join(COLUMNS)})."
                )
            if "\r" in header_line.rstrip("\r\n"):
                raise UnreadableFile(_old_mac_line_endings(path))
            delimiter = _guess_delimiter(header_line)
            columns = _checked_columns(path, header_line, delimiter)
            # Strict: a quote left open would otherwise swallow the rest of the file.
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
            try:
                count = sum(1 for cells in reader if any(cell.strip() for cell in cells))
            except csv.Error as exc:
                raise UnreadableFile(_csv_error(path, reader.line_num + 1, exc)) from None
    except OSError as exc:
        raise UnreadableFile(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return PurchaseFile(path=path, delimiter=delimiter, columns=columns, row_count=count)


def _decoded_lines(raw: Iterable[bytes], path: Path) -> Iterator[str]:
    """The file's lines as text, refusing anything but UTF-8 with the line it fails on."""
    for number, line in enumerate(raw, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableFile(
                f"{path}, line {number}: the file is not UTF-8 text. Save it from your "
                'spreadsheet as "CSV UTF-8".'
            ) from None
        # Excel starts "CSV UTF-8" files with a byte order mark; it is not part of the header.
        yield text.removeprefix("\ufeff") if number == 1 else text


def _old_mac_line_endings(path: Path) -> str:
    # Read as one line, such a file would be one row of thousands of columns; better to
    # say so than to guess where its lines end.
    return (
        f"{path}: cannot read its lines: they end with a carriage return alone (old Mac "
        'line endings). Save it from your spreadsheet as "CSV UTF-8", or convert its '
        "line endings to LF or CRLF, and import it again."
    )


def _csv_error(path: Path, line: int, exc: csv.Error) -> str:
    return (
        f"{path}, line {line}: {exc}. Check the quotes on that line and above: a value "
        "that starts with a quote must end with one."
    )


def _guess_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most column names we know."""

    def known_columns(delimiter: str) -> int:
        cells = next(csv.reader([header_line], delimiter=delimiter))
        return sum(1 for cell in cells if _column_name(cell) in COLUMNS)

    return max(DELIMITERS, key=known_columns)  # ties go to the comma, listed first


def _checked_columns(path: Path, header_line: str, delimiter: str) -> tuple[str, ...]:
    columns = tuple(
        _column_name(cell) for cell in next(csv.reader([header_line], delimiter=delimiter))
    )
    problems = []
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        problems.append(f"lacks the {_plural('column', missing)} {', '.join(missing)}")
    # Refused rather than ignored: a misspelt "purchase_at" would otherwise date every
    # order today and survey customers about purchases long past.
    unknown = [column or "(blank)" for column in columns if column not in COLUMNS]
    if unknown:
        problems.append(
            f"names {_plural('a column', unknown)} we do not know: {', '.join(unknown)}"
        )
    twice = sorted({column for column in columns if columns.count(column) > 1} - {""})
    if twice:
        problems.append(f"names {', '.join(twice)} twice")
    if problems:
        raise UnreadableFile(
            f"{path} cannot be imported: its header {'; '.join(problems)}. The first line "
            f"must name the columns, from: {', '.join(COLUMNS)} (order_id and email are "
            "required)."
        )
    return columns


def _column_name(cell: str) -> str:
    return cell.strip().lower()


def _plural(words: str, items: list) -> str:
    """For one item "a column", for more "columns"."""
    if len(items) == 1:
        return words
    return f"{words.removeprefix('a ')}s"


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]


# --- one row -------------------------------------------------------------------------------


class RowRejected(Exception):
    """The row breaks the API's rules; `errors` names each column at fault."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def purchase_input_from(values: dict[str, str]) -> PurchaseInput:
    """A row as the purchase the API would accept, or RowRejected naming each bad column."""
    cell = {column: (values.get(column) or "").strip() or None for column in COLUMNS}
    body = {
        "order_id": cell["order_id"],
        "customer": {"email": cell["email"], "name": cell["name"], "locale": cell["locale"]},
        "purchased_at": cell["purchased_at"],
        "total": cell["total"],
        "currency": cell["currency"],
        "items": [{"category": cell["category"]}] if cell["category"] else None,
        "owner_email": cell["owner_email"],
    }
    purchase_input, errors = check_purchase(body)
    if errors:
        raise RowRejected(by_column(errors))
    return purchase_input


def by_column(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The API's field errors, named by the file's columns."""
    return {COLUMN_OF_FIELD.get(path, path): messages for path, messages in errors.items()}


# --- the whole file ------------------------------------------------------------------------


def import_purchases(
    session: Session,
    purchase_file: PurchaseFile,
    *,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    on_row: Callable[[], None] = lambda: None,
) -> ImportReport:
    """Import the file's rows a chunk at a time: each chunk is committed (or, dry, rolled back).

    Returns what happened. A failure that is not the row's fault (the database
    going away, Ctrl-C) rolls back the chunk it happened in and stops there:
    `stopped_at` is that chunk's first line, and every chunk before it is kept.
    """
    report = ImportReport()
    seen_orders: set[str] = set()
    surveyed_earlier: set[str] = set()  # dry run: customers whose survey a past chunk scheduled
    for chunk in _chunks(purchase_file.rows(), chunk_size):
        try:
            done, surveyed = _import_chunk(session, chunk, seen_orders, on_row)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except (SQLAlchemyError, KeyboardInterrupt) as exc:
            session.rollback()
            report.stopped_at = chunk[0].line
            report.stopped_because = (
                "interrupted"
                if isinstance(exc, KeyboardInterrupt)
                else str(getattr(exc, "orig", None) or exc)
            )
            return report
        if dry_run:
            # That survey was rolled back with its chunk, so this one came out scheduled;
            # the real run finds it and throttles this one, whatever the window.
            repeats = len(surveyed & surveyed_earlier)
            done.surveys.update({"scheduled": -repeats, "throttled": repeats})
            surveyed_earlier |= surveyed
        # The chunk's rows are not needed again; a long import should not hold them all.
        session.expunge_all()
        report.add(done)
    return report


def _chunks(rows: Iterator[CsvRow], size: int) -> Iterator[list[CsvRow]]:
    chunk: list[CsvRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _import_chunk(
    session: Session, rows: list[CsvRow], seen_orders: set[str], on_row: Callable[[], None]
) -> tuple[ImportReport, set[str]]:
    """Record the chunk's rows; returns what happened and whose surveys were scheduled."""
    done = ImportReport()
    surveyed: set[str] = set()
    for row in rows:
        on_row()
        order_id = (row.values.get("order_id") or "").strip() or None
        try:
            if row.problem:
                raise RowRejected({"row": [row.problem]})
            purchase_input = purchase_input_from(row.values)
            if purchase_input.order_id in seen_orders:
                # Earlier in this file; in a dry run that chunk's rows were rolled back.
                done.known += 1
                continue
            result = record_purchase(session, purchase_input, now=clock.now(), source="csv")
        except RowRejected as exc:
            done.rejected.append(RejectedRow(row.line, order_id, exc.errors))
            continue
        except PurchaseRejected as exc:  # it changed nothing
            done.rejected.append(RejectedRow(row.line, order_id, by_column(exc.errors)))
            continue
        seen_orders.add(purchase_input.order_id)
        if not result.created:
            done.known += 1
            continue
        done.imported += 1
        if result.survey is not None:
            done.surveys[result.survey.status] += 1
            if result.survey.status == SurveyStatus.SCHEDULED:
                surveyed.add(purchase_input.customer.email)
    return done, surveyed
