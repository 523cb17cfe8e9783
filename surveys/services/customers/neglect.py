"""Neglected customers: short of ten positive touches per negative one, or untouched for long.

Admins see them most neglected first and invite the ones they choose to a
relationship review (the "date"), through the same scheduling as every
survey: suppressed addresses are not asked, and the throttle holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from surveys.models import Customer, Survey, User
from surveys.services.audit import record_admin_change
from surveys.services.customers.touchpoints import AIM, Tally
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey

# A customer with no positive touch for this long is neglected, whatever the ratio.
NEGLECT_DAYS = 90
RELATIONSHIP_REVIEW_SET = "relationship-review"
LIST_LIMIT = 200


class InviteError(ValueError):
    """The invitation cannot be sent as asked; the message says why."""


@dataclass(frozen=True)
class NeglectedCustomer:
    customer: Customer
    tally: Tally
    # The last positive touch, or when we first knew them if there never was one.
    last_positive_at: datetime | None

    def days_without_positive(self, now: datetime) -> int:
        since = self.last_positive_at or self.customer.created_at
        return max(0, (now - since).days)


@dataclass
class InviteResult:
    """What became of each invitation: scheduled, throttled, suppressed."""

    surveys: list[Survey] = field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter(survey.status for survey in self.surveys)


def neglected_customers(
    session: Session, *, now: datetime, limit: int = LIST_LIMIT
) -> list[NeglectedCustomer]:
    """Customers below ten positives per negative, or without a positive touch in 90 days.

    Most neglected first: the most positive touches short of the aim, then the
    longest without a positive one. Erased customers are left out.
    """
    # The tallies are kept on each customer as touches are recorded, so this reads one
    # row per customer instead of totalling every touch point of every customer.
    positive, negative = Customer.positive_touches, Customer.negative_touches
    # A customer we have never touched well counts from when we first knew them.
    quiet_since = func.coalesce(Customer.last_positive_touch_at, Customer.created_at)
    cutoff = now - timedelta(days=NEGLECT_DAYS)
    customers = session.scalars(
        select(Customer)
        .where(
            Customer.erased_at.is_(None),
            or_(and_(negative > 0, positive < AIM * negative), quiet_since < cutoff),
        )
        .options(selectinload(Customer.owner))
        .order_by((AIM * negative - positive).desc(), quiet_since, Customer.id)
        .limit(limit)
    ).all()
    return [
        NeglectedCustomer(
            customer,
            Tally(customer.positive_touches, customer.negative_touches),
            customer.last_positive_touch_at,
        )
        for customer in customers
    ]


def invite_to_relationship_review(
    session: Session, customer_ids: list[int], *, actor: User, now: datetime
) -> InviteResult:
    """Invite these customers to the relationship review, and keep it in the audit log.

    Each goes through `schedule_survey`, so an unsubscribed or bounced address
    is not asked and one surveyed inside the throttle window waits its turn.
    """
    ids = sorted({int(customer_id) for customer_id in customer_ids})
    if not ids:
        raise InviteError("Choose at least one customer to invite.")
    question_set = get_question_set(session, RELATIONSHIP_REVIEW_SET)
    if question_set is None:
        raise InviteError(f"The “{RELATIONSHIP_REVIEW_SET}” question set is missing.")
    customers = session.scalars(
        select(Customer)
        .where(Customer.id.in_(ids), Customer.erased_at.is_(None))
        .order_by(Customer.id)
    ).all()
    if not customers:
        raise InviteError("None of those customers can be invited any more.")
    result = InviteResult()
    for customer in customers:
        result.surveys.append(
            schedule_survey(
                session,
                customer=customer,
                kind="relationship_review",
                question_set=question_set,
                now=now,
            )
        )
    record_admin_change(
        session,
        actor_user=actor,
        action="customers.invited_to_review",
        target=f"relationship review for {len(customers)} "
        f"customer{'' if len(customers) == 1 else 's'}",
        before=None,
        after={"survey": {str(s.customer_id): s.status for s in result.surveys}},
        now=now,
    )
    return result
