"""Importing Delighted's history (`flask delighted import`; README's *Bringing your Delighted
history*).

The file's responses are checked one by one and kept a chunk at a time, each chunk in one
transaction (a dry run rolls each back), so memory stays flat over any number of responses, an
interruption loses at most the chunk it happened in, and running the same file again picks up
where it stopped: responses already imported are recognised by their Delighted id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from surveys import clock
from surveys.delighted_import.files import HistoryFile, SourceRow
from surveys.delighted_import.rows import RowRefused, historic_answer
from surveys.services.history import HistoricAnswer, imported_question_set, record_history

CHUNK_SIZE = 500


@dataclass(frozen=True)
class RefusedRow:
    """A response that was not imported, and why, field by field."""

    where: str
    delighted_id: str | None
    errors: dict[str, list[str]]

    def describe(self) -> str:
        which = f" (Delighted id {self.delighted_id})" if self.delighted_id else ""
        reasons = "; ".join(
            f"{name}: {', '.join(messages)}" for name, messages in self.errors.items()
        )
        return printable(f"{self.where}{which}: {reasons}")


def printable(text: str) -> str:
    """The text on one line a terminal can show: control characters and lone surrogates (from
    the file, named in a field path) written as escapes."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


@dataclass
class HistoryReport:
    """What an import did (or, dry, would do)."""

    imported: int = 0
    known: int = 0
    refused: list[RefusedRow] = field(default_factory=list)
    new_customers: int = 0
    question_set_created: bool = False
    stopped_at: str | None = None
    stopped_because: str | None = None


def import_history(
    session: Session,
    history_file: HistoryFile,
    *,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    on_row: Callable[[], None] = lambda: None,
) -> HistoryReport:
    """Keep the file's responses a chunk at a time; each chunk committed (dry: rolled back)."""
    report = HistoryReport()
    seen_ids: set[str] = set()
    seen_emails: set[str] = set()  # dry run: customers a rolled-back chunk would have created
    for chunk in _chunks(history_file.rows(), chunk_size):
        try:
            now = clock.now()
            version, created = imported_question_set(session, now=now)
            report.question_set_created |= created
            answers = _checked(chunk, history_file, report, seen_ids, on_row, now=now)
            done = record_history(session, [answer for _, answer in answers], version, now=now)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except (SQLAlchemyError, KeyboardInterrupt) as exc:
            session.rollback()
            report.stopped_at = chunk[0].where
            report.stopped_because = (
                "interrupted"
                if isinstance(exc, KeyboardInterrupt)
                else str(getattr(exc, "orig", None) or exc)
            )
            return report
        report.imported += done.imported
        report.known += done.known
        report.new_customers += len(set(done.new_customers) - seen_emails)
        seen_emails.update(done.new_customers)
        where_of = {answer.delighted_id: where for where, answer in answers}
        for delighted_id, reason in done.refused.items():
            report.refused.append(
                RefusedRow(where_of[delighted_id], delighted_id, {"id": [reason]})
            )
        session.expunge_all()  # the chunk's rows are not needed again
    return report


def _checked(
    chunk: list[SourceRow],
    history_file: HistoryFile,
    report: HistoryReport,
    seen_ids: set[str],
    on_row: Callable[[], None],
    *,
    now,
) -> list[tuple[str, HistoricAnswer]]:
    """The chunk's good responses, each with where it is; the bad ones go to the report."""
    good = []
    for row in chunk:
        on_row()
        try:
            answer = historic_answer(row, history_file, now=now)
        except RowRefused as exc:
            report.refused.append(RefusedRow(row.where, _raw_id(row, history_file), exc.errors))
            continue
        if answer.delighted_id in seen_ids:
            report.known += 1  # twice in the file: in a dry run its first chunk was rolled back
            continue
        seen_ids.add(answer.delighted_id)
        good.append((row.where, answer))
    return good


def _raw_id(row: SourceRow, history_file: HistoryFile) -> str | None:
    """The Delighted id of a refused row, when it has one, to name it in the report."""
    value = None
    if isinstance(row.data, dict):
        value = row.data.get("id")
    elif isinstance(row.data, list):
        roles = [column.role for column in history_file.columns]
        value = row.data[roles.index("id")] if "id" in roles else None
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()[:64]
    return None


def _chunks(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    chunk: list[SourceRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
