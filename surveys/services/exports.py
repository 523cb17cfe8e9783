"""What the admins' CSV exports hold, written as CSV a piece at a time (UTF-8 bytes).

The pieces come from a generator that a view streams to the client as they are
made, so a million responses never sit in memory at once. Give it a session of
its own: the view closes it when the download ends or the client goes away.

The responses export is made one of two ways, with the same bytes out:
- on PostgreSQL the database writes every line itself (`COPY (SELECT …) TO
  STDOUT`, services/exports_postgresql.py), about half the CPU of building the
  rows here and nearly all of it in the database, Python only passing the text on;
- elsewhere (SQLite) rows are built here, a batch at a time, the session closed
  after each batch (on SQLite every transaction holds the database's write lock,
  and a client downloads at its own pace).
Each cell follows the rules of services/csv_cells.py, written there in Python
and in SQL; tests/test_export_in_postgresql.py holds the two ways to the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveys.models import (
    Answer,
    Case,
    Customer,
    Purchase,
    Question,
    QuestionSet,
    QuestionSetVersion,
    Response,
    Survey,
)
from surveys.services import exports_postgresql
from surveys.services.cases.queries import answer_words
from surveys.services.csv_cells import (
    Cell,
    csv_cell,
    mean_sentiment,
    net_score_group,
    properties_text,
    timestamp,
)

RESPONSE_COLUMNS = (
    "id",
    "submitted_at",
    "order_id",
    "customer_email",
    "question_set",
    "version",
    "negative",
    # The mean sentiment of the written answers (-1 very unhappy to 1 very happy).
    "sentiment",
    # promoter (9–10), passive (7–8) or detractor (0–6) by the 0–10 recommendation answer.
    "net_score_group",
    # The purchase's custom properties as one JSON object ({"plan": "gold"}), blank when none:
    # one column whatever the names, and JSON's opening brace is never read as a formula.
    "properties",
)
NET_SCORE_KEY = "recommend"
CASE_COLUMNS = (
    "id",
    "status",
    "owner",
    "customer",
    "order_id",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "escalated",
    "reasons",
)
BATCH_SIZE = 2000
Rows = Iterator[list[Cell]]


# --- CSV text ------------------------------------------------------------------------


def csv_text(header: list[str], batches: Iterable[Sequence[Sequence[Cell]]]) -> Iterator[bytes]:
    """The header line, then each batch of rows, as CSV (the "excel" dialect: CRLF-ended).

    The cells must already be what the file shows (csv_cell's values).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The header goes with the first rows: a view starts the generator at once, and it
    # must not wait there holding a read open.
    writer.writerow(header)
    for batch in batches:
        writer.writerows(batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def safe_batches(rows: Iterable[Sequence[Cell]], size: int = 500) -> Iterator[list[list[Cell]]]:
    """Rows of plain values, a batch at a time, each value made a safe cell."""
    rows = iter(rows)
    while batch := list(islice(rows, size)):
        yield [[csv_cell(value) for value in row] for row in batch]


def responses_csv(session: Session) -> Iterator[bytes]:
    """The responses export as CSV, written by the database where it can."""
    if session.get_bind().dialect.name == "postgresql":
        return responses_csv_from_postgresql(session)
    return responses_csv_read_in_python(session)


def responses_csv_read_in_python(session: Session) -> Iterator[bytes]:
    """The responses export, its rows built in Python (any database)."""
    header, rows = response_table(session)
    return csv_text(header, safe_batches(rows))


def responses_csv_from_postgresql(session: Session) -> Iterator[bytes]:
    """The responses export, each line written by PostgreSQL."""
    header, questions = _response_columns(session)
    first = b"".join(csv_text(header, ()))
    for piece in exports_postgresql.response_lines(
        session, questions, width=len(header) - len(RESPONSE_COLUMNS)
    ):
        yield first + piece
        first = b""
    if first:
        yield first


def cases_csv(session: Session) -> Iterator[bytes]:
    """The cases export as CSV."""
    header, rows = case_table(session)
    return csv_text(header, safe_batches(rows))


def response_table(session: Session, *, batch_size: int = BATCH_SIZE) -> tuple[list[str], Rows]:
    """The responses export: its header (a column per question key) and its rows, oldest first.

    Read as plain rows, not ORM objects (a million responses is five million answers:
    building objects for them was most of the time), each batch's answers by a range of
    response ids that the answers' index serves.
    """
    header, questions = _response_columns(session)
    width = len(header) - len(RESPONSE_COLUMNS)
    responses = (
        select(
            Response.id,
            Response.submitted_at,
            Purchase.order_id,
            Customer.email,
            QuestionSet.key,
            QuestionSetVersion.number,
            Response.negative,
            Purchase.properties,
        )
        .join(Survey, Survey.id == Response.survey_id)
        .outerjoin(Purchase, Purchase.id == Survey.purchase_id)
        .join(Customer, Customer.id == Survey.customer_id)
        .join(QuestionSetVersion, QuestionSetVersion.id == Response.version_id)
        .join(QuestionSet, QuestionSet.id == QuestionSetVersion.question_set_id)
        .order_by(Response.id)
        .limit(batch_size)
    )

    def load(after: int) -> Sequence:
        return session.execute(responses.where(Response.id > after)).all()

    def to_rows(batch: Sequence) -> list[list[Cell]]:
        if not batch:
            return []
        answers: dict[int, list] = defaultdict(list)
        for row in session.execute(
            select(Answer.response_id, Answer.question_id, Answer.value, Answer.sentiment)
            .where(Answer.response_id.between(batch[0].id, batch[-1].id))
            # In question order: the sentiment adds the written answers' tones in that order.
            .order_by(Answer.response_id, Answer.position)
        ):
            answers[row[0]].append(row)
        return [_response_row(row, answers.get(row[0], ()), questions, width) for row in batch]

    return header, _in_batches(session, load, to_rows, batch_size)


def _response_columns(session: Session) -> tuple[list[str], dict[int, tuple[int, bool, bool]]]:
    """The header, and for each question of those keys: its answer column (counted after
    the fixed ones), whether it is the 0–10 question, whether its answers are written."""
    keys = answered_question_keys(session)
    # A question keyed like a fixed column ("id") gets a column of its own all the same.
    header = [
        *RESPONSE_COLUMNS,
        *(f"{key} (answer)" if key in RESPONSE_COLUMNS else key for key in keys),
    ]
    column_of = {key: number for number, key in enumerate(keys)}
    questions = {
        question_id: (column_of[key], key == NET_SCORE_KEY, kind == "text")
        for question_id, key, kind in session.execute(
            select(Question.id, Question.key, Question.type).where(Question.key.in_(keys))
        )
    }
    return header, questions


def _response_row(row, answers, questions: dict, width: int) -> list[Cell]:
    response_id, submitted_at, order_id, email, set_key, version, negative, properties = row
    given: list[Cell] = [None] * width
    group, tones = None, []
    for _response_id, question_id, value, sentiment in answers:
        column, is_net_score, is_text = questions[question_id]
        given[column] = value
        if is_net_score:
            group = net_score_group(value)
        if is_text and sentiment is not None:
            tones.append(sentiment)
    return [
        response_id,
        timestamp(submitted_at),
        order_id,
        email,
        set_key,
        version,
        negative,
        mean_sentiment(tones),
        group,
        properties_text(properties),
        *given,
    ]


def answered_question_keys(session: Session) -> list[str]:
    """Every question key of a version that has responses, in the order the sets ask them."""
    keys = session.scalars(
        select(Question.key)
        .join(QuestionSetVersion, Question.version_id == QuestionSetVersion.id)
        .where(QuestionSetVersion.id.in_(select(Response.version_id)))
        # Each set's newest version first, so its current order leads.
        .order_by(
            QuestionSetVersion.question_set_id, QuestionSetVersion.number.desc(), Question.position
        )
    )
    return list(dict.fromkeys(keys))


def case_table(session: Session, *, batch_size: int = BATCH_SIZE) -> tuple[list[str], Rows]:
    """The cases export: its header and its rows, oldest first."""

    def load(after: int) -> Sequence[Case]:
        return session.scalars(
            select(Case)
            .where(Case.id > after)
            .options(joinedload(Case.owner), joinedload(Case.customer), joinedload(Case.purchase))
            .order_by(Case.id)
            .limit(batch_size)
        ).all()

    def to_rows(batch: Sequence[Case]) -> list[list[Cell]]:
        reasons = _reasons(session, [case.response_id for case in batch])
        return [_case_row(case, reasons[case.response_id]) for case in batch]

    return list(CASE_COLUMNS), _in_batches(session, load, to_rows, batch_size)


def _case_row(case: Case, reasons: list[str]) -> list[Cell]:
    return [
        case.id,
        case.status,
        case.owner.email if case.owner else None,  # none while it waits for an owner
        case.customer.email,
        case.purchase.order_id if case.purchase else None,
        timestamp(case.created_at),
        timestamp(case.acknowledged_at),
        timestamp(case.resolved_at),
        timestamp(case.closed_at),
        case.escalated,
        "; ".join(reasons),
    ]


def _in_batches(
    session: Session,
    load: Callable[[int], Sequence],
    to_rows: Callable[[Sequence], list[list[Cell]]],
    batch_size: int,
) -> Rows:
    """Rows in id order, a batch read (after the last id) and made plain values at a time."""
    after = 0
    while True:
        batch = load(after)
        rows = to_rows(batch)
        after = batch[-1].id if batch else after
        session.close()  # ends the read before the client takes its time with the rows
        yield from rows
        if len(batch) < batch_size:
            return


def _reasons(session: Session, response_ids: list[int]) -> dict[int, list[str]]:
    """Each response's negative answers in words ("Are we exceeding…? You are falling short")."""
    reasons: dict[int, list[str]] = defaultdict(list)
    if not response_ids:
        return reasons
    for answer in session.scalars(
        select(Answer)
        .options(joinedload(Answer.question))
        .where(Answer.response_id.in_(response_ids), Answer.negative.is_(True))
        .order_by(Answer.response_id, Answer.position)
    ):
        reasons[answer.response_id].append(f"{answer.question.text} {answer_words(answer)}")
    return reasons
