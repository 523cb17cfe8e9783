"""Deciding whether, and when, a customer is asked a survey."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.db import insert_row
from surveys.models import Case, Customer, Purchase, QuestionSet, Survey
from surveys.models.surveys import SurveyStatus
from surveys.outbox.enqueue import enqueue_email
from surveys.services.settings import get_setting
from surveys.services.surveys.quiet_hours import outside_quiet_hours, quiet_hours

# Kinds that count towards, and are held back by, the per-customer throttle.
# A fix-check answers the customer's own complaint, so it is never throttled.
THROTTLED_KINDS = ("purchase", "relationship_review", "manual")
# Statuses of a survey that did or will reach the customer.
LIVE_STATUSES = (SurveyStatus.SCHEDULED, SurveyStatus.SENT, SurveyStatus.ANSWERED)


def lock_customer(session: Session, customer: Customer) -> None:
    """Serialise survey decisions for one customer (two purchases at once get one survey).

    PostgreSQL takes a row lock; SQLite already holds the database's write lock.
    Take it before inserting any row that references the customer: such an
    insert holds FOR KEY SHARE on the customer, and two transactions that each
    hold it and then ask for this lock wait on each other (a deadlock). The
    customer's columns are read again once the lock is granted, so what a
    concurrent transaction just committed (an unsubscribe) is seen.
    """
    session.scalars(
        select(Customer)
        .where(Customer.id == customer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def recently_surveyed(session: Session, customer: Customer, now: datetime) -> bool:
    """Whether the customer was sent, or is due, a survey inside the throttle window."""
    window_start = now - timedelta(days=int(get_setting(session, "throttle_days")))
    count = session.scalar(
        select(func.count(Survey.id)).where(
            Survey.customer_id == customer.id,
            Survey.kind.in_(THROTTLED_KINDS),
            Survey.status.in_(LIVE_STATUSES),
            Survey.send_at >= window_start,
        )
    )
    return bool(count)


def throttle_opens_at(session: Session, customer: Customer, now: datetime) -> datetime | None:
    """When the throttle lets this customer be surveyed again; None when it does already."""
    days = int(get_setting(session, "throttle_days"))
    latest = session.scalar(
        select(func.max(Survey.send_at)).where(
            Survey.customer_id == customer.id,
            Survey.kind.in_(THROTTLED_KINDS),
            Survey.status.in_(LIVE_STATUSES),
            Survey.send_at >= now - timedelta(days=days),
        )
    )
    return None if latest is None else latest + timedelta(days=days)


def record_unsent_survey(
    session: Session,
    *,
    customer: Customer,
    kind: str,
    question_set: QuestionSet,
    status: str,
    reason: str,
    now: datetime,
    purchase: Purchase | None = None,
) -> Survey:
    """Keep a trace of a survey we decided not to send (throttled, suppressed, skipped)."""
    return insert_row(
        session,
        Survey,
        {
            "kind": kind,
            "status": status,
            "status_reason": reason,
            "customer_id": customer.id,
            "purchase_id": purchase.id if purchase else None,
            "question_set_id": question_set.id,
            "created_at": now,
        },
    )


def schedule_survey(
    session: Session,
    *,
    customer: Customer,
    kind: str,
    question_set: QuestionSet,
    now: datetime,
    send_at: datetime | None = None,
    purchase: Purchase | None = None,
    case: Case | None = None,
    customer_is_new: bool = False,
    customer_locked: bool = False,
    wait_for_throttle: bool = False,
) -> Survey:
    """Schedule a survey for a customer, or record why it will not be sent.

    Suppressed addresses are never surveyed; throttled kinds respect the window: the
    survey is recorded `throttled` and never sent, or, with `wait_for_throttle`, scheduled
    for the moment the window opens (an invitation someone chose to send).
    A scheduled survey gets its delivery queued in the outbox for `send_at`,
    or for the end of the customer's quiet hours when that falls in them.
    `customer_is_new` says the customer was inserted in this very transaction:
    nobody else can see them yet and they have no surveys, so the lock and the
    throttle query (two round trips on every first purchase) are skipped.
    `customer_locked` says the caller already holds `lock_customer`'s lock,
    taken before it inserted anything referencing the customer (see there).
    """
    if not (customer_is_new or customer_locked):
        lock_customer(session, customer)
    unsent = None
    if customer.suppressed_at is not None:
        reason = customer.suppression_reason or "the address is suppressed"
        unsent = (SurveyStatus.SUPPRESSED, reason)
    elif (
        kind in THROTTLED_KINDS
        and not customer_is_new
        and recently_surveyed(session, customer, now)
    ):
        opens_at = throttle_opens_at(session, customer, now) if wait_for_throttle else None
        if opens_at is not None:
            send_at = max(send_at or now, opens_at)
        else:
            days = get_setting(session, "throttle_days")
            unsent = (SurveyStatus.THROTTLED, f"already surveyed in the last {days} days")
    if unsent is not None:
        status, reason = unsent
        return record_unsent_survey(
            session,
            customer=customer,
            kind=kind,
            question_set=question_set,
            now=now,
            purchase=purchase,
            status=status,
            reason=reason,
        )
    send_at = send_at or now
    if customer.timezone:
        start, end = quiet_hours(session)
        send_at = outside_quiet_hours(send_at, customer.timezone, start=start, end=end)
    survey = insert_row(
        session,
        Survey,
        {
            "kind": kind,
            "status": SurveyStatus.SCHEDULED,
            "customer_id": customer.id,
            "purchase_id": purchase.id if purchase else None,
            "case_id": case.id if case else None,
            "question_set_id": question_set.id,
            "send_at": send_at,
            "created_at": now,
        },
    )
    enqueue_email(
        session,
        template="survey",
        to_email=customer.email,
        to_name=customer.name,
        now=now,
        customer=customer,
        survey=survey,
        case=case,
        send_at=send_at,
    )
    return survey


# What a survey's status means, when nothing more particular was recorded.
_STATUS_SENTENCES = {
    SurveyStatus.SENT: "It was sent to the customer.",
    SurveyStatus.ANSWERED: "The customer answered it.",
    SurveyStatus.THROTTLED: "The customer was surveyed recently.",
    SurveyStatus.SUPPRESSED: "The address unsubscribed or bounced.",
    SurveyStatus.SKIPPED: "The purchase is too old to ask about.",
    SurveyStatus.HELD: "The customer has a case open; it waits until the case closes.",
    SurveyStatus.CANCELLED: "It was cancelled before it was sent.",
    SurveyStatus.FAILED: "The mail service refused it.",
}


def survey_reason(survey: Survey) -> str | None:
    """Why a survey is not scheduled, in a sentence; None while it is scheduled."""
    if survey.status == SurveyStatus.SCHEDULED:
        return None
    reason = (survey.status_reason or "").strip().rstrip(".")
    if not reason:
        return _STATUS_SENTENCES.get(survey.status, f"Its status is {survey.status}.")
    if survey.status == SurveyStatus.SUPPRESSED and not reason.lower().startswith("the address"):
        # A suppression's reason is a word ("unsubscribed", "bounce"), not a sentence.
        return f"The address is suppressed ({reason})."
    return f"{reason[0].upper()}{reason[1:]}."
