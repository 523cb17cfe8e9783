"""Autopilot: customers asked the relationship review again and again, every interval.

Delighted's Autopilot surveyed a person on a fixed rhythm for as long as they were a
member; here a member is invited to the `relationship-review` question set every
`autopilot_interval_days` (an admin setting). Each invitation goes through
`schedule_survey`, so an unsubscribed or bounced address is never asked and one
surveyed inside the throttle window is recorded as throttled, not asked twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from surveys.models import AutopilotMembership, Customer, Survey
from surveys.models.surveys import SurveyStatus
from surveys.services.customers.neglect import RELATIONSHIP_REVIEW_SET
from surveys.services.purchases import CustomerInput, find_or_create_customer
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import get_setting
from surveys.services.surveys.scheduling import schedule_survey

LEFT_REASON = "the customer left Autopilot"
# Members invited in one pass at most; the next pass takes the rest.
INVITES_PER_PASS = 500


@dataclass(frozen=True)
class MemberFilter:
    """Which memberships a page shows: after a cursor (a membership id), one person or all."""

    limit: int
    after_id: int | None = None
    customer_id: int | None = None
    email: str | None = None


def autopilot_interval(session: Session) -> timedelta:
    return timedelta(days=int(get_setting(session, "autopilot_interval_days")))


def join_autopilot(
    session: Session,
    email: str,
    properties: dict[str, str],
    *,
    now: datetime,
    name: str | None = None,
) -> AutopilotMembership:
    """Add the address to Autopilot (creating the customer if new), or replace its properties.

    A new member is invited on the worker's next pass; a member already in keeps their turn.
    """
    customer, _is_new = find_or_create_customer(
        session, CustomerInput(email=email, name=name), now=now
    )
    membership = session.scalar(
        select(AutopilotMembership).where(AutopilotMembership.customer_id == customer.id)
    )
    if membership is None:
        membership = AutopilotMembership(
            customer=customer,
            properties=properties,
            next_invite_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(membership)
    else:
        membership.properties = properties
        membership.updated_at = now
    session.flush()
    return membership


def leave_autopilot(session: Session, customer: Customer) -> bool:
    """Take the customer out of Autopilot and cancel their relationship reviews not yet sent.

    Surveys already sent can still be answered. Returns whether they were a member.
    """
    removed = session.execute(
        delete(AutopilotMembership).where(AutopilotMembership.customer_id == customer.id)
    ).rowcount
    session.execute(
        update(Survey)
        .where(
            Survey.customer_id == customer.id,
            Survey.kind == "relationship_review",
            Survey.status == SurveyStatus.SCHEDULED,
        )
        .values(status=SurveyStatus.CANCELLED, status_reason=LEFT_REASON)
    )
    session.flush()
    return bool(removed)


def list_memberships(session: Session, page: MemberFilter) -> list[AutopilotMembership]:
    """One page of memberships in the order they were made, after the cursor's id."""
    statement = (
        select(AutopilotMembership)
        .join(AutopilotMembership.customer)
        .options(joinedload(AutopilotMembership.customer))
        .order_by(AutopilotMembership.id)
        .limit(page.limit)
    )
    if page.after_id is not None:
        statement = statement.where(AutopilotMembership.id > page.after_id)
    if page.customer_id is not None:
        statement = statement.where(AutopilotMembership.customer_id == page.customer_id)
    if page.email is not None:
        statement = statement.where(Customer.email == page.email)
    return list(session.scalars(statement))


def invite_due_members(session: Session, now: datetime) -> int:
    """Invite every member whose turn has come to the relationship review; returns how many.

    The worker's timed job. Each member's next turn moves one interval on in the same
    transaction as their invitation, and a row another worker is inviting right now is
    skipped (PostgreSQL's SKIP LOCKED; SQLite lets one writer in at a time), so a turn is
    never invited twice, and a second pass finds nothing to do.
    """
    question_set = get_question_set(session, RELATIONSHIP_REVIEW_SET)
    if question_set is None:
        return 0
    interval = autopilot_interval(session)
    due = session.scalars(
        select(AutopilotMembership)
        .where(AutopilotMembership.next_invite_at <= now)
        .order_by(AutopilotMembership.next_invite_at, AutopilotMembership.id)
        .limit(INVITES_PER_PASS)
        .with_for_update(skip_locked=True)
    ).all()
    for membership in due:
        customer = session.get(Customer, membership.customer_id)
        if customer is not None and customer.erased_at is None:
            schedule_survey(
                session,
                customer=customer,
                kind="relationship_review",
                question_set=question_set,
                now=now,
            )
        membership.last_invited_at = now
        membership.next_invite_at = now + interval
    session.flush()
    return len(due)
