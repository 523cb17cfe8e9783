"""Neglected customers: short of ten positive touches per negative one, or untouched for long.

Admins see them, longest without a positive touch first (or by how far they are short of
ten to one), a page at a time with nothing hidden, each with whether they can be invited now
or from when. The ones chosen are invited to a relationship review (the "date") through the
same scheduling as every survey: suppressed addresses are not asked, and an invitation to
someone surveyed inside the throttle window waits in the outbox until the window opens.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, selectinload

from surveys.models import Customer, Survey, User
from surveys.models.surveys import SurveyStatus
from surveys.services.audit import record_admin_change
from surveys.services.customers.touchpoints import AIM, Tally
from surveys.services.paging import shown_page
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import get_setting
from surveys.services.surveys.scheduling import LIVE_STATUSES, THROTTLED_KINDS, schedule_survey

# A customer with no positive touch for this long is neglected, whatever the ratio.
NEGLECT_DAYS = 90
RELATIONSHIP_REVIEW_SET = "relationship-review"
LIST_LIMIT = 200
PAGE_SIZE = 50
# How the list may be ordered: the longest without a positive touch first (the default),
# or the furthest short of ten positive touches per negative one.
SORTS = {
    "quiet": _l("Longest without a positive touch"),
    "shortfall": _l("Furthest short of 10 to 1"),
}


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
    """What became of each invitation: scheduled (now or when the throttle allows), or
    suppressed."""

    surveys: list[Survey] = field(default_factory=list)
    now: datetime | None = None
    # Customers whose earlier invitation has not gone yet (not invited twice): when it goes.
    already_invited: dict[int, datetime] = field(default_factory=dict)

    @property
    def counts(self) -> Counter:
        return Counter(survey.status for survey in self.surveys)

    @property
    def waiting(self) -> list[Survey]:
        """Invitations held for the throttle window, soonest first."""
        later = [
            survey
            for survey in self.surveys
            if survey.status == "scheduled" and self.now and survey.send_at > self.now
        ]
        return sorted(later, key=lambda survey: survey.send_at)


@dataclass(frozen=True)
class InviteWindow:
    """Whether a customer can be invited now, from a date (the throttle), or never."""

    can_invite: bool
    opens_at: datetime | None = None  # a later date the throttle allows, when not now
    why_not: str | None = None  # for an address that is never asked


@dataclass(frozen=True)
class NeglectedPage:
    rows: list[NeglectedCustomer]
    windows: dict[int, InviteWindow]
    total: int
    page: int
    pages: int
    sort: str


def _neglect_conditions(now: datetime) -> list:
    positive, negative = Customer.positive_touches, Customer.negative_touches
    cutoff = now - timedelta(days=NEGLECT_DAYS)
    return [
        Customer.erased_at.is_(None),
        or_(and_(negative > 0, positive < AIM * negative), _quiet_since() < cutoff),
    ]


def _quiet_since():
    # A customer we have never touched well counts from when we first knew them.
    return func.coalesce(Customer.last_positive_touch_at, Customer.created_at)


def neglected_page(
    session: Session, *, now: datetime, sort: str = "quiet", page: int = 1
) -> NeglectedPage:
    """One page of the neglected, in the order asked for (`SORTS`), with the total."""
    sort = sort if sort in SORTS else "quiet"
    conditions = _neglect_conditions(now)
    total = session.scalar(select(func.count(Customer.id)).where(*conditions)) or 0
    page = shown_page(page, total=total, per_page=PAGE_SIZE)
    # How many positive touches short of the aim; no less than none (a long-quiet customer
    # with plenty of positives is not "more than on target" for this order).
    short = AIM * Customer.negative_touches - Customer.positive_touches
    shortfall = sql_case((short > 0, short), else_=0)
    order = (
        (_quiet_since(), Customer.id)
        if sort == "quiet"
        else (shortfall.desc(), _quiet_since(), Customer.id)
    )
    customers = session.scalars(
        select(Customer)
        .where(*conditions)
        .options(selectinload(Customer.owner))
        .order_by(*order)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    rows = [
        NeglectedCustomer(
            customer,
            Tally(customer.positive_touches, customer.negative_touches),
            customer.last_positive_touch_at,
        )
        for customer in customers
    ]
    return NeglectedPage(
        rows=rows,
        windows=invite_windows(session, customers, now=now),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        sort=sort,
    )


def invite_windows(
    session: Session, customers: list[Customer], *, now: datetime
) -> dict[int, InviteWindow]:
    """For each customer, whether a relationship review can go now or from when: one query
    for the lot (the latest survey inside the throttle window of each)."""
    days = int(get_setting(session, "throttle_days"))
    ids = [customer.id for customer in customers]
    latest = (
        dict(
            session.execute(
                select(Survey.customer_id, func.max(Survey.send_at))
                .where(
                    Survey.customer_id.in_(ids),
                    Survey.kind.in_(THROTTLED_KINDS),
                    Survey.status.in_(LIVE_STATUSES),
                    Survey.send_at >= now - timedelta(days=days),
                )
                .group_by(Survey.customer_id)
            ).all()
        )
        if ids
        else {}
    )
    windows = {}
    for customer in customers:
        if customer.suppressed_at is not None:
            windows[customer.id] = InviteWindow(
                False, why_not=customer.suppression_reason or "suppressed"
            )
        elif customer.id in latest:
            windows[customer.id] = InviteWindow(
                True, opens_at=latest[customer.id] + timedelta(days=days)
            )
        else:
            windows[customer.id] = InviteWindow(True)
    return windows


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
        raise InviteError(_("Choose at least one customer to invite."))
    question_set = get_question_set(session, RELATIONSHIP_REVIEW_SET)
    if question_set is None:
        raise InviteError(
            _("The “%(name)s” question set is missing.", name=RELATIONSHIP_REVIEW_SET)
        )
    customers = session.scalars(
        select(Customer)
        .where(Customer.id.in_(ids), Customer.erased_at.is_(None))
        .order_by(Customer.id)
    ).all()
    if not customers:
        raise InviteError(_("None of those customers can be invited any more."))
    result = InviteResult(now=now)
    already = dict(
        session.execute(
            select(Survey.customer_id, func.min(Survey.send_at))
            .where(
                Survey.customer_id.in_([customer.id for customer in customers]),
                Survey.kind == "relationship_review",
                Survey.status == SurveyStatus.SCHEDULED,
            )
            .group_by(Survey.customer_id)
        ).all()
    )
    result.already_invited = {
        customer.id: already[customer.id] for customer in customers if customer.id in already
    }
    customers = [customer for customer in customers if customer.id not in already]
    for customer in customers:
        result.surveys.append(
            schedule_survey(
                session,
                customer=customer,
                kind="relationship_review",
                question_set=question_set,
                now=now,
                # Someone chose to ask them: a recent survey delays the invitation, never
                # drops it.
                wait_for_throttle=True,
            )
        )
    if not result.surveys:
        return result  # everyone chosen already had an invitation on its way
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
