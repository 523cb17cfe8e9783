"""The audit log: every change an admin (or an integrator's API key) makes, kept for good.

Entries are only ever inserted; nothing in the code base updates or deletes them,
and no page or API offers to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from surveys.models import ApiKey, AuditEntry, User
from surveys.services.paging import shown_page

PAGE_SIZE = 50


def record_admin_change(
    session: Session,
    *,
    actor_user: User | None = None,
    actor_api_key: ApiKey | None = None,
    action: str,
    target: str,
    before,
    after,
    now: datetime,
) -> AuditEntry:
    """Write one audit entry: who (a person or an API key), what, before and after, when.

    `action` is a dotted name such as `question_set.published` or `setting.changed`;
    `target` names what changed in words a reader recognises ("question set heart-to-heart").
    `before`/`after` are JSON-serialisable snapshots (None when there was nothing).
    """
    entry = AuditEntry(
        actor_user_id=actor_user.id if actor_user is not None else None,
        actor_api_key_id=actor_api_key.id if actor_api_key is not None else None,
        action=action,
        target=target[:200],
        before=before,
        after=after,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    has_next: bool
    total: int


def list_entries(
    session: Session,
    *,
    action: str | None = None,
    actor_user_id: int | None = None,
    actor_api_key_id: int | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> AuditPage:
    """Audit entries, newest first, optionally only one action or one actor's."""
    conditions = []
    if action:
        conditions.append(AuditEntry.action == action)
    if actor_user_id is not None:
        conditions.append(AuditEntry.actor_user_id == actor_user_id)
    if actor_api_key_id is not None:
        conditions.append(AuditEntry.actor_api_key_id == actor_api_key_id)
    total = session.scalar(select(func.count(AuditEntry.id)).where(*conditions)) or 0
    page = shown_page(page, total=total, per_page=per_page)
    entries = session.scalars(
        select(AuditEntry)
        .where(*conditions)
        .options(selectinload(AuditEntry.actor_user), selectinload(AuditEntry.actor_api_key))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    return AuditPage(
        entries=list(entries[:per_page]), page=page, has_next=len(entries) > per_page, total=total
    )


def recorded_actions(session: Session) -> list[str]:
    """Every action name that appears in the log, for the filter's choices."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def recorded_actors(session: Session) -> tuple[list[User], list[ApiKey]]:
    """The people and API keys that appear in the log, for the filter's choices."""
    users = session.scalars(
        select(User).where(User.id.in_(select(AuditEntry.actor_user_id))).order_by(User.name)
    ).all()
    keys = session.scalars(
        select(ApiKey)
        .where(ApiKey.id.in_(select(AuditEntry.actor_api_key_id)))
        .order_by(ApiKey.name)
    ).all()
    return list(users), list(keys)
