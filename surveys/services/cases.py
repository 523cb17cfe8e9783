"""Opening a case: a negative response, given to exactly one owner who is told at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from surveys.models import Answer, Case, CaseEvent, Response
from surveys.services.outbox import enqueue_email_to_user
from surveys.services.routing import choose_owner
from surveys.services.settings import get_setting
from surveys.services.touchpoints import record_touchpoint
from surveys.services.webhooks_out import CASE_OPENED, emit_case_event


def open_case(session: Session, response: Response, *, now: datetime) -> Case:
    """Open the case for a negative response, route it to one owner and queue their email."""
    survey = response.survey
    decision = choose_owner(session, customer=survey.customer, purchase=survey.purchase)
    case = Case(
        status="open",
        response_id=response.id,
        customer_id=response.customer_id,
        purchase_id=survey.purchase_id,
        owner_id=decision.owner.id,
        routed_by=decision.reason,
        acknowledge_by=now + timedelta(hours=float(get_setting(session, "acknowledge_hours"))),
        resolve_by=now + timedelta(hours=float(get_setting(session, "resolve_hours"))),
        created_at=now,
    )
    session.add(case)
    session.flush()
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="opened",
            created_at=now,
            body=(
                f"Opened from a negative answer; routed to {decision.owner.name} "
                f"({decision.reason})."
            ),
            data={
                "reasons": [_in_words(a) for a in response.answers if a.negative],
                # What the customer wrote travels with the case, even when it is not negative.
                "comments": [
                    _in_words(a)
                    for a in response.answers
                    if not a.negative and a.question.type == "text"
                ],
                "routed_by": decision.reason,
                "routing_rule_id": decision.rule.id if decision.rule else None,
            },
        )
    )
    enqueue_email_to_user(session, decision.owner, template="owner_new_case", case=case, now=now)
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="owner_notified",
            created_at=now,
            body=f"Emailed {decision.owner.name} <{decision.owner.email}>.",
            data={"user_id": decision.owner.id, "email": decision.owner.email},
        )
    )
    record_touchpoint(
        session,
        customer=survey.customer,
        kind="negative_answer",
        polarity="negative",
        now=now,
        case=case,
        survey=survey,
    )
    session.flush()
    emit_case_event(session, CASE_OPENED, case, now=now)
    return case


def _in_words(answer: Answer) -> dict:
    """One answer as the customer saw it: the question's text and the words they chose."""
    question = answer.question
    return {
        "key": question.key,
        "question": question.text,
        "answer": question.label_for(answer.value),
        "value": answer.value,
    }
