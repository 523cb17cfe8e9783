"""Answers given before the move (Delighted's history), kept as completed responses.

Each answer becomes what an answered survey leaves behind, at its original time: a customer
(found by address or created), a purchase holding its properties, a survey of kind `imported`
and a response of the `delighted-nps` question set with the 0–10 score, the comment and any
additional answers, so trends, the net score and the exports continue across the move.

History is only recorded, never acted on: no case is opened (those customers were answered, or
not, long ago), no email or webhook leaves, and no touch point is counted. Touch points measure
how we treat a customer now; years of old answers landing at once would swing every customer's
ratio and the neglected list on the day of the import. The imported survey was not sent by us
(`sent_at` stays empty), so it counts neither in the mail figures nor towards the survey throttle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.models import (
    Answer,
    Customer,
    Purchase,
    Question,
    QuestionSet,
    QuestionSetVersion,
    Response,
    Survey,
)
from surveys.models.question_sets import IMPORTED_SET_KEYS
from surveys.models.surveys import SurveyStatus
from surveys.services.purchases import normalize_email

IMPORTED_SET_KEY = IMPORTED_SET_KEYS[0]
ORDER_ID_PREFIX = "delighted:"
DETRACTOR_AT_MOST = 6
IMPORTED_QUESTIONS = (
    {
        "key": "recommend",
        "type": "scale",
        "min_value": 0,
        "max_value": 10,
        "text": "How likely are you to recommend us to a friend or colleague?",
        "negative": {"at_most": DETRACTOR_AT_MOST},
    },
    {
        "key": "comment",
        "type": "text",
        "text": "What is the most important reason for your score?",
        "negative": None,
    },
    {
        "key": "additional_answers",
        "type": "text",
        "text": "Other questions answered in Delighted",
        "negative": None,
    },
)


@dataclass(frozen=True)
class HistoricAnswer:
    """One Delighted response, checked: who, the score, what they wrote, and when."""

    delighted_id: str
    email: str
    answered_at: datetime
    score: int
    name: str | None = None
    comment: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    # (question, answer) for each additional question, as Delighted showed them.
    additional: tuple[tuple[str, str], ...] = ()


@dataclass
class HistoryRecorded:
    """What record_history did with a batch."""

    imported: int = 0
    known: int = 0  # imported before (same Delighted id): skipped
    new_customers: list[str] = field(default_factory=list)
    # Answers that could not be kept, by Delighted id, and why.
    refused: dict[str, str] = field(default_factory=dict)


def imported_question_set(session: Session, *, now: datetime) -> tuple[QuestionSetVersion, bool]:
    """The `delighted-nps` set's version that history is kept in, and whether this call made it."""
    question_set = session.scalar(select(QuestionSet).where(QuestionSet.key == IMPORTED_SET_KEY))
    if question_set is not None:
        version = session.scalars(
            select(QuestionSetVersion)
            .where(QuestionSetVersion.question_set_id == question_set.id)
            .order_by(QuestionSetVersion.number.desc())
            .limit(1)
        ).one()
        return version, False
    question_set = QuestionSet(key=IMPORTED_SET_KEY, name="Delighted NPS (history)", created_at=now)
    version = QuestionSetVersion(question_set=question_set, number=1, published_at=now)
    for position, question in enumerate(IMPORTED_QUESTIONS):
        version.questions.append(Question(position=position, required=False, **question))
    session.add(question_set)
    session.flush()
    return version, True


def record_history(
    session: Session,
    answers: Sequence[HistoricAnswer],
    version: QuestionSetVersion,
    *,
    now: datetime,
) -> HistoryRecorded:
    """Keep each answer as a completed response at its original time, once per Delighted id.

    Answers whose Delighted id is already kept are skipped (`known`); the caller commits.
    Opens no case, queues no email or webhook, counts no touch point.
    """
    done = HistoryRecorded()
    kept_ids = _kept_delighted_ids(session, [answer.delighted_id for answer in answers])
    fresh = []
    for answer in answers:
        if answer.delighted_id in kept_ids:
            done.known += 1
        else:
            kept_ids.add(answer.delighted_id)  # a repeat later in the batch is known too
            fresh.append(answer)
    taken_orders = _taken_order_ids(session, [_order_id(answer) for answer in fresh])
    kept = []
    for answer in fresh:
        if _order_id(answer) in taken_orders:
            done.refused[answer.delighted_id] = (
                f"the order id {_order_id(answer)} is already used by another purchase"
            )
        else:
            kept.append(answer)
    customers = _customers_for(session, kept, done, now=now)
    _insert_responses(session, kept, customers, version, now=now)
    done.imported = len(kept)
    return done


def _order_id(answer: HistoricAnswer) -> str:
    return f"{ORDER_ID_PREFIX}{answer.delighted_id}"


def _kept_delighted_ids(session: Session, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(session.scalars(select(Response.delighted_id).where(Response.delighted_id.in_(ids))))


def _taken_order_ids(session: Session, order_ids: list[str]) -> set[str]:
    if not order_ids:
        return set()
    return set(session.scalars(select(Purchase.order_id).where(Purchase.order_id.in_(order_ids))))


def _customers_for(
    session: Session, answers: list[HistoricAnswer], done: HistoryRecorded, *, now: datetime
) -> dict[str, int]:
    """The customer id of every address in the batch, created when new (named when we can)."""
    names: dict[str, str | None] = {}
    for answer in answers:
        email = normalize_email(answer.email)
        names[email] = names.get(email) or answer.name
    found: dict[str, int] = {}
    for customer in session.scalars(select(Customer).where(Customer.email.in_(list(names)))):
        found[customer.email] = customer.id
        if customer.name is None and names[customer.email] and customer.erased_at is None:
            customer.name = names[customer.email]
    new = [email for email in names if email not in found]
    if not new:
        return found
    # One statement for the batch; an address a purchase created meanwhile is skipped here
    # (the database makes this insert wait for that one) and read back below.
    table = Customer.__table__
    dialect_insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    statement = (
        dialect_insert(table)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(table.c.id, table.c.email)
    )
    rows = [{"email": email, "name": names[email], "created_at": now} for email in new]
    for customer_id, email in session.execute(statement, rows):
        found[email] = customer_id
        done.new_customers.append(email)
    missing = [email for email in new if email not in found]
    if missing:
        found.update(
            session.execute(select(Customer.email, Customer.id).where(Customer.email.in_(missing)))
            .tuples()
            .all()
        )
    return found


def _insert_responses(
    session: Session,
    answers: list[HistoricAnswer],
    customers: dict[str, int],
    version: QuestionSetVersion,
    *,
    now: datetime,
) -> None:
    """Insert the answers' purchases, surveys, responses and answers, a statement per table.

    Plain INSERTs of many rows (each table's new ids come back in the order given), not ORM
    objects: building five objects per response was most of an import's time.
    """
    if not answers:
        return
    customer_ids = [customers[normalize_email(answer.email)] for answer in answers]
    purchase_ids = _insert_many(
        session,
        Purchase,
        [
            {
                "order_id": _order_id(answer),
                "customer_id": customer_id,
                "purchased_at": answer.answered_at,
                "source": "delighted",
                "properties": answer.properties,
                "created_at": now,
            }
            for answer, customer_id in zip(answers, customer_ids, strict=True)
        ],
    )
    survey_ids = _insert_many(
        session,
        Survey,
        [
            {
                "kind": "imported",
                "status": SurveyStatus.ANSWERED.value,
                "customer_id": customer_id,
                "purchase_id": purchase_id,
                "question_set_id": version.question_set_id,
                "version_id": version.id,
                "answered_at": answer.answered_at,
                "status_reason": "answered in Delighted before the move",
                "created_at": answer.answered_at,
            }
            for answer, customer_id, purchase_id in zip(
                answers, customer_ids, purchase_ids, strict=True
            )
        ],
    )
    response_ids = _insert_many(
        session,
        Response,
        [
            {
                "survey_id": survey_id,
                "version_id": version.id,
                "customer_id": customer_id,
                "negative": answer.score <= DETRACTOR_AT_MOST,
                "submitted_at": answer.answered_at,
                "delighted_id": answer.delighted_id,
            }
            for answer, customer_id, survey_id in zip(
                answers, customer_ids, survey_ids, strict=True
            )
        ],
    )
    questions = {question.key: question for question in version.questions}
    rows = []
    for answer, response_id in zip(answers, response_ids, strict=True):
        rows.append(
            _answer_row(
                response_id,
                questions["recommend"],
                str(answer.score),
                negative=answer.score <= DETRACTOR_AT_MOST,
            )
        )
        if answer.comment:
            rows.append(_written(response_id, questions["comment"], answer.comment))
        if answer.additional:
            text = "\n".join(f"{question}: {given}" for question, given in answer.additional)
            rows.append(_written(response_id, questions["additional_answers"], text))
    # The table's insert, not the model's: the ORM splits a batch wherever the keys given change.
    session.execute(Answer.__table__.insert(), rows)


def _insert_many(session: Session, model, rows: list[dict]) -> list[int]:
    """Insert the rows in one statement; their new ids, in the order of `rows`."""
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def _answer_row(
    response_id: int,
    question: Question,
    value: str,
    *,
    negative: bool = False,
    sentiment: float | None = None,
) -> dict:
    return {
        "response_id": response_id,
        "question_id": question.id,
        "position": question.position,
        "value": value,
        "negative": negative,
        "sentiment": sentiment,
    }


def _written(response_id: int, question: Question, value: str) -> dict:
    # Its tone is read as for any written answer (the exports and the themes use it), but
    # history never counts as a negative answer: nobody can act on it now.
    return _answer_row(response_id, question, value, sentiment=question.read_text(value).score)
