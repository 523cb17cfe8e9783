"""What the admins' CSV exports hold: a header and rows of plain values, read a batch at a time.

The rows are generators that a view streams to the client as they are read,
so a hundred thousand responses never sit in memory at once. Give them a
session of their own: after each batch they close it, which ends that read
(on SQLite every transaction holds the database's write lock, and a client
downloads at its own pace) and lets go of the rows already written out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

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
from surveys.services.cases.queries import answer_words

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

Cell = str | int | bool | None
Rows = Iterator[list[Cell]]


def response_table(session: Session, *, batch_size: int = BATCH_SIZE) -> tuple[list[str], Rows]:
    """The responses export: its header (a column per question key) and its rows, oldest first.

    Read as plain rows, not ORM objects (a million responses is five million answers:
    building objects for them was most of the time), each batch's answers by a range of
    response ids that the answers' index serves.
    """
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
            select(Answer.response_id, Answer.question_id, Answer.value, Answer.sentiment).where(
                Answer.response_id.between(batch[0].id, batch[-1].id)
            )
        ):
            answers[row[0]].append(row)
        return [_response_row(row, answers.get(row[0], ()), questions, len(keys)) for row in batch]

    return header, _in_batches(session, load, to_rows, batch_size)


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
        _timestamp(submitted_at),
        order_id,
        email,
        set_key,
        version,
        negative,
        round(sum(tones) / len(tones), 3) if tones else None,
        group,
        properties_text(properties),
        *given,
    ]


def properties_text(properties: dict[str, str] | None) -> str | None:
    """Properties as a JSON object, names sorted, text as written (no escapes)."""
    if not properties:
        return None
    return json.dumps(properties, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


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


def net_score_group(value: str | None) -> str | None:
    """The 0–10 answer's group: "promoter" (9–10), "passive" (7–8) or "detractor" (0–6)."""
    try:
        score = int(value)
    except (TypeError, ValueError):
        return None
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


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
        _timestamp(case.created_at),
        _timestamp(case.acknowledged_at),
        _timestamp(case.resolved_at),
        _timestamp(case.closed_at),
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


def _timestamp(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC, as the API writes it; spreadsheets read it as a date."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
