"""Did the fix work? The fix-check survey sent when a case is resolved, the customer's answer
("yes" closes the case, "no" or "partly" reopens it with the same owner while they are active),
and closing the cases whose customer did not answer within `fix_check_days`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Answer, Case, CaseEvent, Response, Survey
from surveys.models.cases import CaseStatus
from surveys.models.surveys import SurveyStatus
from surveys.outbox.enqueue import enqueue_email_to_user
from surveys.services.cases.queries import answer_words
from surveys.services.cases.timeline import lock_case, record_event
from surveys.services.chat_channels import events as chat
from surveys.services.chat_channels.notify import notify_case
from surveys.services.customers.ledger import record_service_touch
from surveys.services.question_sets.versions import get_question_set
from surveys.services.routing.decisions import NoOwnerAvailable, choose_owner
from surveys.services.settings import get_setting
from surveys.services.surveys.held import release_held_surveys
from surveys.services.surveys.scheduling import schedule_survey
from surveys.services.webhooks_out.events import CASE_CLOSED, emit_case_event

# The question set sent when a case is resolved: "did our fix work?".
FIX_CHECK_SET = "fix-check"


def ask_whether_fixed(
    session: Session, case: Case, *, now: datetime, ask_at: datetime | None = None
) -> Survey | None:
    """Schedule the fix-check survey for `ask_at` (now when None, held past the customer's
    quiet hours); say on the timeline when it cannot be sent.

    A fix-check of an earlier resolution still waiting to go is cancelled: the customer
    is asked about what was done last, once.
    """
    customer = case.customer
    _cancel_waiting_fix_checks(session, case, reason="the case was resolved again since")
    question_set = get_question_set(session, FIX_CHECK_SET)
    if customer.erased_at is not None or question_set is None:
        why = (
            "the customer's data was erased"
            if customer.erased_at is not None
            else f"the “{FIX_CHECK_SET}” question set is missing"
        )
        record_event(
            session,
            case,
            "fix_check_not_sent",
            now=now,
            body=f"We could not ask whether the fix worked: {why}.",
        )
        return None
    survey = schedule_survey(
        session,
        customer=customer,
        kind="fix_check",
        question_set=question_set,
        now=now,
        send_at=ask_at,
        purchase=case.purchase,
        case=case,
        customer_locked=True,  # by resolve_case, before anything referenced the customer
    )
    if survey.status != SurveyStatus.SCHEDULED:
        record_event(
            session,
            case,
            "fix_check_not_sent",
            now=now,
            body=f"We could not ask {customer.display_name} whether the fix worked: "
            f"{survey.status_reason}.",
            data={"survey_id": survey.id, "status": survey.status},
        )
    return survey


def _cancel_waiting_fix_checks(session: Session, case: Case, *, reason: str) -> None:
    for survey in session.scalars(
        select(Survey).where(
            Survey.case_id == case.id,
            Survey.kind == "fix_check",
            Survey.status == SurveyStatus.SCHEDULED,
        )
    ):
        # Its queued email finds it cancelled and is not sent (surveys.mail.survey_emails).
        survey.status = SurveyStatus.CANCELLED
        survey.status_reason = reason


def record_fix_check_sent(session: Session, survey_id: int, *, now: datetime) -> None:
    """Note on the case's timeline that its fix-check survey reached the customer's mailbox."""
    survey = session.get(Survey, survey_id)
    if survey is None or survey.kind != "fix_check" or survey.case_id is None:
        return
    case = session.get(Case, survey.case_id)
    record_event(
        session,
        case,
        "fix_check_sent",
        now=now,
        body=f"Asked {case.customer.display_name} whether the fix worked.",
        data={"survey_id": survey.id},
    )


def answer_fix_check(session: Session, response: Response, *, now: datetime) -> CaseEvent | None:
    """Act on the customer's answer to a fix-check: "yes" closes, "no"/"partly" reopens.

    The answer counts whatever the case's status: a "no" that arrives after an
    unconfirmed close still reopens it, and a "yes" turns that close confirmed.
    """
    survey = response.survey
    case = session.get(Case, survey.case_id) if survey.case_id else None
    if case is None:
        return None
    lock_case(session, case)
    words = [
        {"question": answer.question.text, "answer": answer_words(answer)}
        for answer in response.answers
        if answer.value not in (None, "")
    ]
    body = "\n".join(f"{item['question']} {item['answer']}" for item in words)
    data = {"survey_id": survey.id, "response_id": response.id, "answers": words}
    if response.negative:
        return _reopen(session, case, body=body, data=data, now=now)
    return _confirm_fix(session, case, body=body, data=data, now=now)


def add_to_fix_check(
    session: Session,
    response: Response,
    added: list[Answer],
    *,
    turned_negative: bool,
    now: datetime,
) -> CaseEvent | None:
    """Answers the customer added to a fix-check after their first one.

    One that makes the response negative counts as a "no" would have (a closed
    case reopens); otherwise what they added joins the case's timeline.
    """
    if turned_negative:
        return answer_fix_check(session, response, now=now)
    survey = response.survey
    case = session.get(Case, survey.case_id) if survey.case_id else None
    if case is None or not added:
        return None
    lock_case(session, case)
    words = [{"question": a.question.text, "answer": answer_words(a)} for a in added]
    return record_event(
        session,
        case,
        "fix_check_answered",
        now=now,
        body="\n".join(f"{item['question']} {item['answer']}" for item in words),
        data={"survey_id": survey.id, "response_id": response.id, "answers": words},
    )


def _reopen(session: Session, case: Case, *, body: str, data: dict, now: datetime) -> CaseEvent:
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        # Already being worked on again: keep what they said on the timeline.
        return record_event(session, case, "fix_check_answered", now=now, body=body, data=data)
    event = reopen_case(session, case, body=body, data=data, now=now)
    if case.owner is not None:
        enqueue_email_to_user(
            session,
            case.owner,
            template="case_reopened",
            case=case,
            now=now,
            context={"event_id": event.id},
        )
    record_service_touch(session, customer=case.customer, kind="reopened", now=now, case=case)
    return event


def reopen_case(
    session: Session, case: Case, *, body: str | None, data: dict, now: datetime
) -> CaseEvent:
    """Give a resolved (or closed) case back to its owner, `acknowledged`, with a new resolve
    deadline; records "reopened". Also what a customer's emailed reply does to a resolved case.

    An owner who has left since (deactivated once their cases closed) cannot act on it: the
    case goes where a new one would (account owner, routing rule, default owner, earliest
    admin), or waits for an owner when there is nobody."""
    if case.owner is not None and not case.owner.active:
        _route_away_from_inactive_owner(session, case, now=now)
    case.status = CaseStatus.ACKNOWLEDGED
    case.resolved_at = None
    case.resolution = None
    case.closed_at = None
    case.closed_reason = None
    # A new promise to the customer, with its own deadline and its own escalation.
    case.resolve_by = now + timedelta(hours=float(get_setting(session, "resolve_hours")))
    case.resolve_escalated_at = None
    event = record_event(session, case, "reopened", now=now, body=body, data=data)
    notify_case(session, chat.CASE_REOPENED, case, now=now)
    return event


def _route_away_from_inactive_owner(session: Session, case: Case, *, now: datetime) -> None:
    former = case.owner
    try:
        decision = choose_owner(session, customer=case.customer, purchase=case.purchase)
    except NoOwnerAvailable:
        # The worker's "cases given an owner" job routes it as soon as someone can take it.
        case.owner = None
        case.routed_by = None
        record_event(
            session,
            case,
            "owner_assigned",
            now=now,
            body=f"{former.name} is no longer active and nobody else can take the case yet.",
            data={"user_id": None, "former_owner_id": former.id},
        )
        return
    case.owner = decision.owner
    case.routed_by = decision.reason
    record_event(
        session,
        case,
        "owner_assigned",
        now=now,
        body=f"{former.name} is no longer active: routed to {decision.owner.name} "
        f"({decision.reason}).",
        data={
            "user_id": decision.owner.id,
            "routed_by": decision.reason,
            "routing_rule_id": decision.rule.id if decision.rule else None,
            "former_owner_id": former.id,
        },
    )


def _confirm_fix(
    session: Session, case: Case, *, body: str, data: dict, now: datetime
) -> CaseEvent:
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        return record_event(session, case, "fix_check_answered", now=now, body=body, data=data)
    event = record_event(session, case, "fix_confirmed", now=now, body=body, data=data)
    if case.status == CaseStatus.RESOLVED:
        _close(
            session,
            case,
            reason="confirmed",
            now=now,
            body=f"{case.customer.display_name} confirmed the fix worked.",
        )
    else:
        case.closed_reason = "confirmed"  # closed unconfirmed, and now confirmed after all
    record_service_touch(session, customer=case.customer, kind="fix_confirmed", now=now, case=case)
    notify_case(session, chat.FIX_CONFIRMED, case, now=now)
    return event


def _close(session: Session, case: Case, *, reason: str, body: str, now: datetime) -> CaseEvent:
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.closed_reason = reason
    event = record_event(session, case, "closed", now=now, body=body, data={"reason": reason})
    emit_case_event(session, CASE_CLOSED, case, now=now)
    # Every close passes here: a purchase's survey held for this case is decided in this commit.
    release_held_surveys(session, case.customer, now=now)
    return event


def close_unconfirmed_cases(session: Session, now: datetime) -> int:
    """Close resolved cases whose customer did not answer the fix-check in time.

    The customer gets `fix_check_days` from the moment the survey reached them
    (from the resolution when it could not be sent); one still waiting to be
    delivered keeps its case open until it is.
    """
    days = int(get_setting(session, "fix_check_days"))
    cutoff = now - timedelta(days=days)
    cases = session.scalars(
        select(Case)
        .where(Case.status == CaseStatus.RESOLVED, Case.resolved_at <= cutoff)
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not cases:
        return 0
    latest: dict[int, Survey] = {}
    for survey in session.scalars(
        select(Survey)
        .where(Survey.case_id.in_([case.id for case in cases]), Survey.kind == "fix_check")
        .order_by(Survey.id)
    ):
        latest[survey.case_id] = survey
    closed = 0
    for case in cases:
        survey = latest.get(case.id)
        if survey is not None and survey.status == SurveyStatus.SCHEDULED:
            continue
        if survey is not None and survey.sent_at is not None and survey.sent_at > cutoff:
            continue
        _close(
            session,
            case,
            reason="unconfirmed",
            now=now,
            body=f"{case.customer.display_name} did not tell us within {days} days whether "
            "the fix worked, so the case closed unconfirmed.",
        )
        closed += 1
    return closed
