"""The responses export written by PostgreSQL: `COPY (SELECT …) TO STDOUT`, passed on as it comes.

Building each row in Python cost some 45 µs of CPU a response (bench/README.md,
"Export"); here the database builds each line (answers pivoted into their columns,
formula starters neutralised, fields quoted as Python's csv writer quotes them: the
rules of services/csv_cells.py, in SQL) and streams them, while Python only turns
the stream's line ends into CSV's CRLF. COPY's text format escapes a line break
inside a value (`\\n`), so every raw line feed in the stream ends a line; the
escapes are undone after the line ends are rewritten, so a line break inside an
answer stays a bare LF, as Python writes it.

The COPY is one statement, so one snapshot: the file is consistent however long
the client takes to read it. It runs serially (a parallel plan had each worker
group all the answers again) in one database process: about 22 µs of CPU a response.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlalchemy import Boolean, Integer, Text, cast, column, func, literal, select, values
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    Customer,
    Purchase,
    QuestionSet,
    QuestionSetVersion,
    Response,
    Survey,
)
from surveys.services.csv_cells import (
    csv_field_sql,
    mean_sentiment_sql,
    net_score_group_sql,
    properties_cell_sql,
    timestamp_sql,
)

# What COPY's text format writes for a character it escapes (backslash, and the
# control characters it names), and what it stands for.
_ESCAPED = {
    b"\\": b"\\",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"b": b"\b",
    b"f": b"\f",
    b"v": b"\v",
}
_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)

PIECE_SIZE = 64 * 1024
# Columns of answers: for each, the ids of the questions whose answers go there.
Questions = dict[int, tuple[int, bool, bool]]


def response_lines(session: Session, questions: Questions, *, width: int) -> Iterator[bytes]:
    """The export's lines after its header, CRLF-ended, in pieces as PostgreSQL sends them."""
    sql = _compiled(_response_lines_query(questions, width=width))
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        # Floats to text in their shortest exact form, which mean_sentiment_sql rounds;
        # compiling the query (JIT) cost seconds and saved less.
        cursor.execute("SET LOCAL extra_float_digits = 1")
        cursor.execute("SET LOCAL jit = off")
        # The answers are grouped by response in memory, once, not in spilled parts: a
        # million responses' groups fit in 256 MB (at 64 MB they spilled, a fifth more CPU;
        # beyond it PostgreSQL spills rather than fails). A parallel plan had each of its
        # workers group all of them again.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        with cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
            # PostgreSQL sends a line at a time: pass them on some 64 KB at a time, not
            # with a write to the client for each line.
            pending, parts, size = b"", [], 0
            for block in copy:
                parts.append(bytes(block))
                size += len(block)
                if size >= PIECE_SIZE:
                    pending += b"".join(parts)
                    parts, size = [], 0
                    end = pending.rfind(b"\n") + 1  # 0 inside one very long line: wait
                    if end:
                        yield _as_csv(pending[:end])
                        pending = pending[end:]
            pending += b"".join(parts)
    finally:
        cursor.close()
    # The read is over: end it before the last piece, so nothing waits holding it open.
    session.close()
    if pending:
        yield _as_csv(pending)


def _as_csv(text: bytes) -> bytes:
    """Whole lines of COPY's text format as CSV lines (CRLF), their escapes undone."""
    text = text.replace(b"\n", b"\r\n")
    if b"\\" in text:
        # (A backslash before any other character stands for that character.)
        text = _ESCAPE.sub(lambda match: _ESCAPED.get(match.group(1), match.group(1)), text)
    return text


def _compiled(statement) -> str:
    # COPY takes no bound parameters: the values are ours (question ids, fixed strings).
    return str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def _response_lines_query(questions: Questions, *, width: int):
    """One text column: each response's CSV line, oldest first (exports.response_table's rows)."""
    # Each question's column, joined to the answers by hash: one pass over the answers.
    columns = (
        values(
            column("question_id", Integer),
            column("number", Integer),
            column("is_text", Boolean),
            column("is_net_score", Boolean),
            name="columns",
        )
        .data(
            [
                (question_id, number, is_text, is_net_score)
                for question_id, (number, is_net_score, is_text) in sorted(questions.items())
            ]
            # VALUES needs a row: a database without answered questions has no columns.
            or [(0, -1, False, False)]
        )
        .alias("columns")
    )
    given = (
        select(
            Answer.response_id,
            func.avg(Answer.sentiment).filter(columns.c.is_text).label("tone"),
            func.max(Answer.value).filter(columns.c.is_net_score).label("score"),
            *(
                func.max(Answer.value).filter(columns.c.number == number).label(f"a{number}")
                for number in range(width)
            ),
        )
        .join(columns, columns.c.question_id == Answer.question_id)
        .group_by(Answer.response_id)
        .subquery("given")
    )
    cells = [
        cast(Response.id, Text),
        timestamp_sql(Response.submitted_at),
        csv_field_sql(Purchase.order_id),
        csv_field_sql(Customer.email),
        csv_field_sql(QuestionSet.key),
        cast(QuestionSetVersion.number, Text),
        cast(Response.negative, Text),
        mean_sentiment_sql(given.c.tone),
        net_score_group_sql(given.c.score),
        properties_cell_sql(Purchase.properties),
        # A response with no answer row at all has every answer cell empty.
        *(csv_field_sql(given.c[f"a{number}"]) for number in range(width)),
    ]
    return (
        select(func.array_to_string(postgresql.array(cells), literal(",")))
        .select_from(Response)
        .join(Survey, Survey.id == Response.survey_id)
        .outerjoin(Purchase, Purchase.id == Survey.purchase_id)
        .join(Customer, Customer.id == Survey.customer_id)
        .join(QuestionSetVersion, QuestionSetVersion.id == Response.version_id)
        .join(QuestionSet, QuestionSet.id == QuestionSetVersion.question_set_id)
        .outerjoin(given, given.c.response_id == Response.id)
        .order_by(Response.id)
    )
