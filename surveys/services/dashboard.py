"""Numbers for the admin pages: how cases, responses and mail are doing, and who carries what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from surveys.models import Case, OutboxMessage, Response, User
from surveys.models.cases import CaseStatus
from surveys.models.outbox import OutboxStatus

# Statuses in which an owner still has something to do, and the deadline that applies.
OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.ACKNOWLEDGED)


def overdue_condition(now: datetime):
    """Whether the case is past its deadline (acknowledge-by while open, resolve-by after)."""
    return or_(
        and_(Case.status == CaseStatus.OPEN, Case.acknowledge_by < now),
        and_(Case.status == CaseStatus.ACKNOWLEDGED, Case.resolve_by < now),
    )


@dataclass(frozen=True)
class Overview:
    # Cases nobody could own when they opened (no admin, no default owner): the first thing to see.
    waiting_for_owner: int
    open_cases: int
    unacknowledged_cases: int
    overdue_cases: int
    waiting_on_customer: int
    responses_this_week: int
    negative_this_week: int
    outbox_failed: int
    outbox_pending: int

    @property
    def negative_share(self) -> float | None:
        """Negative responses as a share of the week's responses; None when there were none."""
        if not self.responses_this_week:
            return None
        return self.negative_this_week / self.responses_this_week


def overview(session: Session, *, now: datetime) -> Overview:
    """The dashboard's counts: cases needing people, the last seven days' answers, mail trouble."""
    cases = session.execute(
        select(
            func.count(Case.id).filter(Case.status.in_(OPEN_STATUSES)),
            func.count(Case.id).filter(Case.status == CaseStatus.OPEN),
            func.count(Case.id).filter(overdue_condition(now)),
            func.count(Case.id).filter(Case.status == CaseStatus.RESOLVED),
            func.count(Case.id).filter(Case.owner_id.is_(None)),
        )
        # Every figure here is of unfinished cases (an unowned case cannot be resolved, so it
        # is never closed): read them by the status index, not every case ever opened.
        .where(Case.status.in_((*OPEN_STATUSES, CaseStatus.RESOLVED)))
    ).one()
    week_start = now - timedelta(days=7)
    responses = session.execute(
        select(func.count(Response.id), func.count(Response.id).filter(Response.negative)).where(
            Response.submitted_at >= week_start, Response.submitted_at <= now
        )
    ).one()
    # Only the failed and waiting rows, read from ix_outbox_messages_status_next_attempt_at:
    # never every email ever sent.
    outbox = session.execute(
        select(
            func.count(OutboxMessage.id).filter(OutboxMessage.status == OutboxStatus.FAILED),
            func.count(OutboxMessage.id).filter(
                OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                OutboxMessage.next_attempt_at <= now,
            ),
        )
        .where(
            OutboxMessage.status.in_(
                (OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.SENDING)
            )
        )
        # Only the waiting rows, found by the (status, next_attempt_at) index: never a scan
        # of every email ever sent.
        .where(
            OutboxMessage.status.in_(
                (OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.SENDING)
            )
        )
    ).one()
    return Overview(
        waiting_for_owner=cases[4],
        open_cases=cases[0],
        unacknowledged_cases=cases[1],
        overdue_cases=cases[2],
        waiting_on_customer=cases[3],
        responses_this_week=responses[0],
        negative_this_week=responses[1],
        outbox_failed=outbox[0],
        outbox_pending=outbox[1],
    )


@dataclass(frozen=True)
class Workload:
    open_cases: int = 0
    overdue_cases: int = 0


def workloads(session: Session, *, now: datetime) -> dict[int, Workload]:
    """Open and overdue cases per owner id (owners without any are absent)."""
    rows = session.execute(
        select(
            Case.owner_id, func.count(Case.id), func.count(Case.id).filter(overdue_condition(now))
        )
        .where(Case.status.in_(OPEN_STATUSES), Case.owner_id.is_not(None))
        .group_by(Case.owner_id)
    ).all()
    return {owner_id: Workload(open_count, overdue) for owner_id, open_count, overdue in rows}


def busiest_owners(
    session: Session, *, now: datetime, limit: int = 5
) -> list[tuple[User, Workload]]:
    """The people with the most open cases, most overdue first."""
    loads = workloads(session, now=now)
    if not loads:
        return []
    people = session.scalars(select(User).where(User.id.in_(loads))).all()
    ranked = sorted(
        people, key=lambda u: (-loads[u.id].overdue_cases, -loads[u.id].open_cases, u.name)
    )
    return [(person, loads[person.id]) for person in ranked[:limit]]
