"""A small fixed data set for the dashboard's figures, with every expected value worked out by hand
in tests/test_insights_figures.py. `NOW` is the `clock` fixture's Monday 2026-11-23 09:00 UTC.

In the last 90 days (weeks start on Monday):
  response  when      customer (owner)  recommend  expectations  time_money  case (owner)
  r1        NOW-1d    ca (A)            10         exceeding     yes         -
  r2        NOW-2d    cb (B), books     9          meeting       yes         -
  r3        NOW-10d   cc (-)            7          meeting       somewhat    -
  c1        NOW-3d    new (-)           4          short         somewhat    B: ack 2h, fixed 30h,
                                                                             fix confirmed
  c2        NOW-20d   new (-)           6          short         no          A: ack 6h, fixed 60h,
                                                                             escalated, reopened
  c3        NOW-5d    new (-)           3          -             -           A: open
Before the range: r6 at NOW-100d (recommend 10), a case at NOW-200d still waiting for an owner.
Surveys sent in the range: the six answered, s8 (opened, unsubscribed), s9 (bounced).
Touches in the range: ca 5 positive (NOW-1d), 1 negative (NOW-8d); cb 3 positive (NOW-1d);
cc (known for a year) 1 negative at NOW-100d.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from surveys.models import Answer, Case, CaseEvent, EmailEvent, Response, User
from surveys.services.customers.touchpoints import record_touchpoint
from surveys.services.insights.themes import record_answer_themes
from tests.factories import make_case, make_customer, make_purchase, make_sent_survey, make_user


@dataclass
class InsightsData:
    admin: User
    owner_a: User
    owner_b: User
    cases: dict[str, Case]


def _respond(session, customer, now, answers, *, purchase=None, opened=False, clicked=False):
    survey, _token = make_sent_survey(
        session, customer, purchase=purchase, sent_at=now - timedelta(minutes=30)
    )
    survey.status = "answered"
    survey.answered_at = now
    if opened:
        survey.opened_at = now - timedelta(minutes=20)
    if clicked:
        survey.clicked_at = now - timedelta(minutes=10)
    questions = {q.key: q for q in survey.version.questions}
    response = Response(
        survey_id=survey.id, version_id=survey.version_id, customer_id=customer.id, submitted_at=now
    )
    for key, value in answers.items():
        question = questions[key]
        response.answers.append(_answer(question, value))
    response.negative = any(a.negative for a in response.answers)
    session.add(response)
    session.flush()
    record_answer_themes(session, response.answers)  # as submitting it does
    return survey


def _answer(question, value):
    return Answer(
        question_id=question.id,
        position=question.position,
        value=value,
        negative=question.is_negative(value),
    )


def _event(case, kind, at):
    case.events.append(CaseEvent(kind=kind, created_at=at))


def make_insights_data(session, now) -> InsightsData:
    admin = make_user(session, role="admin", name="Ada Admin")
    owner_a = make_user(session, name="Olivia Owner")
    owner_b = make_user(session, name="Bruno Owner")
    day = timedelta(days=1)
    hour = timedelta(hours=1)

    ca = make_customer(session, name="Carla A", owner=owner_a)
    cb = make_customer(session, name="Carl B", owner=owner_b)
    cc = make_customer(session, name="Cleo C")
    for customer in (ca, cb, cc):
        customer.created_at = now - 365 * day

    hardware = make_purchase(session, ca, purchased_at=now - 3 * day)
    books = make_purchase(
        session,
        cb,
        purchased_at=now - 4 * day,
        items=[{"sku": "B-1", "name": "A novel", "category": "books", "quantity": 1}],
    )
    _respond(
        session,
        ca,
        now - day,
        {"recommend": "10", "expectations": "exceeding", "time_money": "yes"},
        purchase=hardware,
        opened=True,
        clicked=True,
    )
    _respond(
        session,
        cb,
        now - 2 * day,
        {"recommend": "9", "expectations": "meeting", "time_money": "yes"},
        purchase=books,
        opened=True,
    )
    _respond(
        session,
        cc,
        now - 10 * day,
        {"recommend": "7", "expectations": "meeting", "time_money": "somewhat"},
    )
    old = _respond(session, cc, now - 100 * day, {"recommend": "10"})

    c1 = make_case(
        session,
        owner=owner_b,
        now=now - 3 * day,
        answers={"recommend": "4", "expectations": "short", "time_money": "somewhat"},
    )
    c1.status = "closed"
    c1.acknowledged_at = c1.created_at + 2 * hour
    c1.resolved_at = c1.created_at + 30 * hour
    c1.closed_at = c1.resolved_at + day
    _event(c1, "fix_confirmed", c1.closed_at)

    c2 = make_case(
        session,
        owner=owner_a,
        now=now - 20 * day,
        answers={"recommend": "6", "expectations": "short", "time_money": "no"},
    )
    c2.status = "resolved"
    c2.acknowledged_at = c2.created_at + 6 * hour
    c2.acknowledge_escalated_at = c2.created_at + 4 * hour
    _event(c2, "escalation", c2.acknowledge_escalated_at)
    _event(c2, "reopened", c2.created_at + 40 * hour)
    c2.resolved_at = c2.created_at + 60 * hour

    c3 = make_case(session, owner=owner_a, now=now - 5 * day, answers={"recommend": "3"})

    waiting = make_case(session, owner=owner_a, now=now - 200 * day, answers={"recommend": "2"})
    waiting.owner_id = None

    # Sent in the range but never answered: one opened then unsubscribed, one bounced.
    s8, _ = make_sent_survey(session, cc, sent_at=now - 4 * day)
    s8.opened_at = now - 4 * day + hour
    s9, _ = make_sent_survey(session, cb, sent_at=now - 6 * day)
    for survey, event, at in (
        (s8, "unsubscribe", now - 4 * day + 2 * hour),
        (s9, "bounce", now - 6 * day + hour),
        (old, "unsubscribe", now - 99 * day),  # the previous period's
        (None, "bounce", now - 2 * day),  # mail to an owner, not a survey
    ):
        session.add(
            EmailEvent(
                event=event,
                email="x@example.com",
                survey_id=survey.id if survey else None,
                occurred_at=at,
                payload={},
            )
        )

    for _ in range(5):
        record_touchpoint(session, customer=ca, kind="thanks", polarity="positive", now=now - day)
    record_touchpoint(session, customer=ca, kind="late", polarity="negative", now=now - 8 * day)
    for _ in range(3):
        record_touchpoint(session, customer=cb, kind="thanks", polarity="positive", now=now - day)
    record_touchpoint(session, customer=cc, kind="late", polarity="negative", now=now - 100 * day)
    session.commit()
    return InsightsData(admin, owner_a, owner_b, {"c1": c1, "c2": c2, "c3": c3})
