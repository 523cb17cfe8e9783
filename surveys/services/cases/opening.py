"""Opening a case: a negative response, given to exactly one owner who is told at once.

A customer's answer is never lost. When nobody can own a case yet (a fresh
install with no admin and no default owner), it opens *waiting for an owner*:
the response and the case are kept, `owner_id` is None, and its deadlines are
None too. `assign_waiting_cases` routes such cases through the same rules as
a new one as soon as someone can take them: when a person is created or
reactivated, when a default owner or a rule is chosen, and on every pass of
the worker, as a safety net.

The owner's deadlines (acknowledge by, resolve by) start when the case gets
its owner, not when it opened: they are a promise the owner makes, and nobody
could keep one for a case no one could see. Escalating at once to the person
just given it would tell them nothing they were not just told. The customer's
wait is not hidden: the case keeps its `created_at`, and its timeline says how
long it waited for an owner.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.humanize import duration_words
from surveys.models import Answer, Case, CaseEvent, Response
from surveys.models.cases import CaseStatus
from surveys.outbox.enqueue import enqueue_email_to_user
from surveys.services.cases.timeline import record_event
from surveys.services.chat_channels import events as chat
from surveys.services.chat_channels.notify import notify_case
from surveys.services.customers.ledger import record_service_touch
from surveys.services.routing.decisions import NoOwnerAvailable, RoutingDecision, choose_owner
from surveys.services.settings import get_setting
from surveys.services.webhooks_out.events import CASE_OPENED, emit_case_event

log = logging.getLogger(__name__)

# The start of `routed_by` on a case nobody could own yet.
WAITING_FOR_OWNER = "waiting for an owner"


def open_case(session: Session, response: Response, *, now: datetime) -> Case:
    """Open the case for a negative response, route it to one owner and queue their email.

    When nobody can own it yet, the case opens waiting for an owner (see the module).
    """
    survey = response.survey
    try:
        decision = choose_owner(session, customer=survey.customer, purchase=survey.purchase)
    except NoOwnerAvailable as exc:
        decision, nobody_because = None, str(exc)
    case = Case(
        status=CaseStatus.OPEN,
        response_id=response.id,
        customer_id=response.customer_id,
        purchase_id=survey.purchase_id,
        routed_by=decision.reason if decision else f"{WAITING_FOR_OWNER}: {nobody_because}",
        created_at=now,
    )
    session.add(case)
    session.flush()
    if decision is not None:
        routing = f"routed to {decision.owner.name} ({decision.reason})"
    else:
        routing = f"nobody can own it yet ({nobody_because}), so it waits for an owner"
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="opened",
            created_at=now,
            body=f"Opened from a negative answer; {routing}.",
            data={
                "reasons": [_in_words(a) for a in response.answers if a.negative],
                # What the customer wrote travels with the case, even when it is not negative.
                "comments": [
                    _in_words(a)
                    for a in response.answers
                    if not a.negative and a.question.type == "text"
                ],
                "routed_by": decision.reason if decision else None,
                "routing_rule_id": decision.rule.id if decision and decision.rule else None,
            },
        )
    )
    if decision is not None:
        _give_to_owner(session, case, decision, now=now)
    else:
        # In the web process's log too: whoever runs it learns that a customer waits on nobody.
        log.warning("case %s waits for an owner: %s", case.id, nobody_because)
    record_service_touch(
        session, customer=survey.customer, kind="negative_answer", now=now, case=case, survey=survey
    )
    session.flush()
    emit_case_event(session, CASE_OPENED, case, now=now)
    notify_case(session, chat.CASE_OPENED, case, now=now)
    return case


def note_negative_answers(
    session: Session, case: Case, answers: list[Answer], *, now: datetime
) -> CaseEvent:
    """Tell an open or closed case that its customer added negative answers to its response.

    The answers come after the case opened (the customer added to a one-tap
    answer): the case learns of them on its timeline rather than a second case opening.
    """
    reasons = [_in_words(answer) for answer in answers]
    listed = "; ".join(f"{reason['question']} {reason['answer']}" for reason in reasons)
    return record_event(
        session,
        case,
        "negative_answer",
        now=now,
        body=f"{case.customer.display_name} added: {listed}",
        data={"reasons": reasons, "response_id": case.response_id},
    )


def assign_waiting_cases(session: Session, now: datetime) -> int:
    """Route every case waiting for an owner, now that someone may take it; how many found one.

    Each goes through the rules a new case does (account owner, routing rule,
    default owner, earliest admin), and its owner is emailed as for a new case.
    Rows another transaction holds are skipped (it is assigning them), so
    however many callers run at once, each case is given and emailed once.
    """
    waiting = session.scalars(
        select(Case)
        .where(Case.owner_id.is_(None))
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    ).all()
    assigned = 0
    for case in waiting:
        try:
            decision = choose_owner(session, customer=case.customer, purchase=case.purchase)
        except NoOwnerAvailable:
            continue  # still nobody for this one; a later change or pass will try again
        waited = now - case.created_at
        _give_to_owner(session, case, decision, now=now, waited=waited)
        assigned += 1
    session.flush()
    return assigned


def _give_to_owner(
    session: Session,
    case: Case,
    decision: RoutingDecision,
    *,
    now: datetime,
    waited: timedelta | None = None,
) -> None:
    """Make `decision.owner` the case's owner from `now`: their deadlines, a timeline entry
    when the case waited for them, and the new-case email."""
    owner = decision.owner
    case.owner = owner
    case.routed_by = decision.reason
    case.acknowledge_by = now + timedelta(hours=float(get_setting(session, "acknowledge_hours")))
    case.resolve_by = now + timedelta(hours=float(get_setting(session, "resolve_hours")))
    session.flush()
    if waited is not None:
        # The timeline keeps its system lines as written, in English, whoever's request
        # (in whatever language) happened to route the case.
        with force_locale("en"):
            waited_words = duration_words(waited.total_seconds())
        session.add(
            CaseEvent(
                case_id=case.id,
                kind="owner_assigned",
                created_at=now,
                body=f"Routed to {owner.name} ({decision.reason}) after waiting "
                f"{waited_words} for an owner.",
                data={
                    "user_id": owner.id,
                    "routed_by": decision.reason,
                    "routing_rule_id": decision.rule.id if decision.rule else None,
                    "waited_seconds": int(waited.total_seconds()),
                },
            )
        )
    enqueue_email_to_user(session, owner, template="owner_new_case", case=case, now=now)
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="owner_notified",
            created_at=now,
            body=f"Emailed {owner.name} <{owner.email}>.",
            data={"user_id": owner.id, "email": owner.email},
        )
    )


def _in_words(answer: Answer) -> dict:
    """One answer as the customer saw it: the question's text and the words they chose."""
    question = answer.question
    words = {
        "key": question.key,
        "question": question.text,
        "answer": question.label_for(answer.value),
        "value": answer.value,
    }
    if answer.negative_words:
        # The words of the question's rule that made a written answer negative.
        words["words"] = answer.negative_words
    return words
