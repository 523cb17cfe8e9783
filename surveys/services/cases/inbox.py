"""An owner's inbox: a page of cases under one filter ("needs me", waiting on the customer,
resolved, closed) or a search, the customers who spoke last first, each with their own words."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from surveys.models import Answer, Case, CaseEvent, Customer, Purchase, Response, User
from surveys.models.cases import CaseStatus
from surveys.services.cases.conversation import (
    CALLED_BACK_KINDS,
    CUSTOMER,
    OWNER,
    last_exchange_kind_sql,
    waiting_on_sql,
)
from surveys.services.cases.queries import negative_reasons, written_words
from surveys.services.cases.states import UNFINISHED_STATUSES
from surveys.services.insights.day_counts import small_reads
from surveys.services.paging import shown_page

INBOX_PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 200


class InboxFilter(StrEnum):
    """Which cases a page of the inbox lists; ALL (unfinished cases) when none is chosen."""

    ALL = "all"
    NEEDS_ME = "needs-me"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


FILTER_LABELS = {
    InboxFilter.ALL: _l("All open"),
    InboxFilter.NEEDS_ME: _l("Needs me"),
    InboxFilter.WAITING: _l("Waiting on the customer"),
    InboxFilter.RESOLVED: _l("Resolved"),
    InboxFilter.CLOSED: _l("Closed"),
}

# The badge of a case whose customer spoke after the owner last wrote.
BADGES = {
    "reopened": "reopened",
    "customer_replied": "customer replied",
    "fix_check_answered": "answered the fix-check",
}


@dataclass(frozen=True)
class InboxRow:
    """One case of the inbox, with its badge and the customer's own words."""

    case: Case
    badge: str | None
    words: str | None
    # The question `words` answer, when they are a survey answer rather than a reply.
    question: str | None


@dataclass(frozen=True)
class InboxPage:
    """One page of an inbox: its rows, where it stands among all of them, and the counts
    of every filter (under the same owner and search)."""

    rows: list[InboxRow]
    total: int
    page: int
    per_page: int
    counts: dict[InboxFilter, int]

    @property
    def cases(self) -> list[Case]:
        return [row.case for row in self.rows]

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def _filter_condition(show: InboxFilter, waiting_on, status=Case.status):
    if show == InboxFilter.NEEDS_ME:
        return waiting_on == OWNER
    if show == InboxFilter.WAITING:
        return waiting_on == CUSTOMER
    if show == InboxFilter.RESOLVED:
        return status == CaseStatus.RESOLVED
    if show == InboxFilter.CLOSED:
        return status == CaseStatus.CLOSED
    return status.in_(UNFINISHED_STATUSES)


def _search_condition(search: str):
    """Cases whose customer's name or email, or whose order id, holds the text (any case)."""
    needle = search.lower()
    order_ids = select(Purchase.id).where(
        func.lower(Purchase.order_id).contains(needle, autoescape=True)
    )
    return or_(
        func.lower(Customer.name).contains(needle, autoescape=True),
        func.lower(Customer.email).contains(needle, autoescape=True),
        Case.purchase_id.in_(order_ids),
    )


def inbox_cases(
    session: Session,
    *,
    owner: User | None,
    show: InboxFilter = InboxFilter.ALL,
    search: str | None = None,
    page: int = 1,
    per_page: int = INBOX_PAGE_SIZE,
) -> InboxPage:
    """One page of the cases of `owner` (everyone's when None) under a filter and a search.

    Paged because an inbox can hold hundreds of cases, and each row loads the
    customer's answers: the page would slow down with every case added.

    Cases whose customer spoke after the owner last wrote (a reply, a reopening)
    come first, then cases waiting for an owner (only admins see them), the
    longest waiting first; then cases waiting on their owner, by the deadline they
    face next (acknowledge-by while open, resolve-by once acknowledged), so an
    overdue case is never below one that is not due yet. Resolved ones, which
    wait on the customer, come last, newest first; closed ones newest first.
    """
    small_reads(session)
    waiting_on = waiting_on_sql()
    last_kind = last_exchange_kind_sql().label("last_kind")
    scope = []
    if owner is not None:
        scope.append(Case.owner_id == owner.id)
    if search:
        scope.append(_search_condition(search))
    base = select(Case).join(Case.customer).where(*scope)
    counts = _counts(session, scope, waiting_on, search=search)
    total = counts[show]
    page = shown_page(page, total=total, per_page=per_page)
    called_back = sql_case(
        (
            Case.status.in_((CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED))
            & last_exchange_kind_sql().in_(CALLED_BACK_KINDS),
            0,
        ),
        else_=1,
    )
    stage = sql_case(
        (Case.owner_id.is_(None), 0),
        (Case.status.in_((CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED)), 1),
        else_=2,
    )
    due = sql_case(
        (Case.status == CaseStatus.OPEN, Case.acknowledge_by),
        (Case.status == CaseStatus.ACKNOWLEDGED, Case.resolve_by),
        else_=None,
    )
    query = (
        base.add_columns(last_kind)
        .where(_filter_condition(show, waiting_on))
        .options(
            selectinload(Case.owner),
            selectinload(Case.customer),
            selectinload(Case.response)
            .selectinload(Response.answers)
            .selectinload(Answer.question),
        )
        .order_by(
            called_back,
            stage,
            due,
            Case.resolved_at.desc(),
            Case.closed_at.desc(),
            # Within the waiting ones (no deadline yet), the longest waiting first.
            sql_case((Case.owner_id.is_(None), Case.created_at)),
            sql_case((Case.owner_id.is_(None), Case.id)),
            Case.created_at.desc(),
            Case.id.desc(),
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    found = session.execute(query).all()
    replies = _latest_replies(session, [case.id for case, _kind in found])
    rows = [_row(case, kind, replies.get(case.id)) for case, kind in found]
    return InboxPage(rows, total=total, page=page, per_page=per_page, counts=counts)


def _counts(
    session: Session, scope: list, waiting_on, *, search: str | None
) -> dict[InboxFilter, int]:
    """How many cases each filter holds, in one query."""

    def count(condition):
        return func.coalesce(func.sum(sql_case((condition, 1), else_=0)), 0)

    # Who each case waits on is worked out once per case (it reads the case's last exchange),
    # then counted under every filter; the customer is joined only when the search needs them.
    cases = select(Case.status.label("status"), waiting_on.label("waiting_on")).select_from(Case)
    if search:
        cases = cases.join(Case.customer)
    cases = cases.where(*scope).subquery()
    filters = list(InboxFilter)
    row = session.execute(
        select(
            *(
                count(_filter_condition(show, cases.c.waiting_on, cases.c.status))
                for show in filters
            )
        )
    ).one()
    return {show: int(number) for show, number in zip(filters, row, strict=True)}


def _latest_replies(session: Session, case_ids: list[int]) -> dict[int, str]:
    """The customer's latest emailed reply on each of these cases, in one query."""
    if not case_ids:
        return {}
    latest: dict[int, str] = defaultdict(str)
    for case_id, body in session.execute(
        select(CaseEvent.case_id, CaseEvent.body)
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.kind == "customer_replied")
        .order_by(CaseEvent.created_at, CaseEvent.id)
    ):
        if (body or "").strip():
            latest[case_id] = body.strip()
    return dict(latest)


def _row(case: Case, last_kind: str | None, reply: str | None) -> InboxRow:
    badge = None
    if case.status in (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED):
        badge = BADGES.get(last_kind or "")
    if reply:
        return InboxRow(case, badge, reply, None)
    written = written_words(case)
    if written:
        return InboxRow(case, badge, " … ".join(written), None)
    reason = next(iter(negative_reasons(case)), None)
    if reason is not None:
        return InboxRow(case, badge, reason.answer, reason.question)
    return InboxRow(case, badge, None, None)
