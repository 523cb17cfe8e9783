"""Holding a purchase's survey while its customer has a case open, and deciding it when it closes.

Asking "are we exceeding your expectations?" of someone whose complaint is still being worked
on is the taken-for-granted feeling we avoid. A purchase from a customer with an open,
acknowledged or resolved case gets its survey `held` ("waiting until case #N closes"), and
nothing is queued for it.

Every close goes through one function (`surveys.services.cases.fix_check._close`: confirmed by
the customer, or unconfirmed by the worker), which calls `release_held_surveys` in the same
transaction: the survey is decided again in the very commit that closes the case. One race is
left to the worker: a purchase that read the case as open while the close was committing holds
its survey after the close looked; `release_surveys_held_for_closed_cases` (a timed job, as a
safety net) decides those on its next pass. Each held survey of the customer then:

- stays held, naming the next case, while another of theirs is still unfinished;
- is `skipped` when its purchase is now older than the age limit (`age_limit_days`);
- is `suppressed` when the address was suppressed meanwhile;
- is `throttled` when the throttle window (opened since by another survey) would hold it past
  the age limit;
- else is scheduled: after the survey delay from the purchase, not before now, and not before
  the throttle window opens; the customer's quiet hours apply as for any survey.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload

from surveys.models import Case, Customer, Survey
from surveys.models.cases import CaseStatus
from surveys.models.surveys import SurveyStatus
from surveys.outbox.enqueue import enqueue_email
from surveys.services.settings import all_settings
from surveys.services.surveys.quiet_hours import outside_quiet_hours, quiet_hours
from surveys.services.surveys.scheduling import lock_customer, throttle_opens_at

# A case the customer may still be waiting on: not yet confirmed or closed.
UNFINISHED_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED, CaseStatus.RESOLVED)


def first_unfinished_case(session: Session, customer_id: int) -> Case | None:
    """The customer's oldest case not yet closed, or None."""
    return session.scalar(
        select(Case)
        .where(Case.customer_id == customer_id, Case.status.in_(UNFINISHED_CASE_STATUSES))
        .order_by(Case.id)
        .limit(1)
    )


def hold_reason(case: Case) -> str:
    """Why a survey is held, as its status reason."""
    return f"waiting until case #{case.id} closes"


def held_surveys(session: Session, customer_id: int) -> list[Survey]:
    """The customer's surveys held for an open case, oldest first, with their purchases."""
    return list(
        session.scalars(
            select(Survey)
            .where(Survey.customer_id == customer_id, Survey.status == SurveyStatus.HELD)
            .options(joinedload(Survey.purchase))
            .order_by(Survey.id)
        )
    )


def release_held_surveys(session: Session, customer: Customer, *, now: datetime) -> int:
    """Decide again each survey held for the customer (a case of theirs just closed); returns
    how many were scheduled."""
    if not held_surveys(session, customer.id):
        return 0
    lock_customer(session, customer)  # as every survey decision: one at a time per customer
    waiting_on = first_unfinished_case(session, customer.id)
    settings = all_settings(session)
    age_limit = timedelta(days=int(settings["age_limit_days"]))
    delay = timedelta(minutes=int(settings["survey_delay_minutes"]))
    scheduled = 0
    # Read again after the lock: a concurrent cancellation may have just cancelled one.
    for survey in held_surveys(session, customer.id):
        if waiting_on is not None:
            survey.status_reason = hold_reason(waiting_on)
            continue
        purchase = survey.purchase
        latest_send = purchase.purchased_at + age_limit if purchase is not None else None
        if latest_send is not None and now > latest_send:
            _decide(
                survey,
                SurveyStatus.SKIPPED,
                f"the purchase was older than {age_limit.days} days when the case closed",
            )
            continue
        if customer.suppressed_at is not None:
            reason = customer.suppression_reason or "the address is suppressed"
            _decide(survey, SurveyStatus.SUPPRESSED, reason)
            continue
        send_at = max(purchase.purchased_at + delay, now) if purchase is not None else now
        opens_at = throttle_opens_at(session, customer, now)
        if opens_at is not None:
            send_at = max(send_at, opens_at)
        if latest_send is not None and send_at > latest_send:
            days = int(settings["throttle_days"])
            _decide(survey, SurveyStatus.THROTTLED, f"already surveyed in the last {days} days")
            continue
        _schedule(session, survey, customer, send_at=send_at, now=now)
        scheduled += 1
    session.flush()
    return scheduled


def _decide(survey: Survey, status: str, reason: str) -> None:
    survey.status = status
    survey.status_reason = reason[:300]


def _schedule(
    session: Session, survey: Survey, customer: Customer, *, send_at: datetime, now: datetime
) -> None:
    """Schedule the held survey and queue its email, as `schedule_survey` does for a new one."""
    if customer.timezone:
        start, end = quiet_hours(session)
        send_at = outside_quiet_hours(send_at, customer.timezone, start=start, end=end)
    survey.status = SurveyStatus.SCHEDULED
    survey.status_reason = None
    survey.send_at = send_at
    # Flushed first: the throttle of a second held survey counts this one as scheduled.
    session.flush()
    enqueue_email(
        session,
        template="survey",
        to_email=customer.email,
        to_name=customer.name,
        now=now,
        customer=customer,
        survey=survey,
        send_at=send_at,
    )


# Customers handled per pass of the safety net.
BATCH = 500


def release_surveys_held_for_closed_cases(session: Session, now: datetime) -> int:
    """The worker's safety net: decide the held surveys of customers with no case open any
    more (a purchase that raced its customer's close); returns how many were scheduled."""
    unfinished = exists().where(
        Case.customer_id == Survey.customer_id, Case.status.in_(UNFINISHED_CASE_STATUSES)
    )
    customer_ids = session.scalars(
        select(Survey.customer_id)
        .where(Survey.status == SurveyStatus.HELD, ~unfinished)
        .distinct()
        .limit(BATCH)
    ).all()
    scheduled = 0
    for customer_id in customer_ids:
        scheduled += release_held_surveys(session, session.get(Customer, customer_id), now=now)
    return scheduled
