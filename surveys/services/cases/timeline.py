"""A case's timeline and its row lock: every change to a case takes the lock first and
records one `CaseEvent` naming who acted (a person, an API key, or nobody: the service itself)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from surveys.models import ApiKey, Case, CaseEvent, User


def record_event(
    session: Session,
    case: Case,
    kind: str,
    *,
    now: datetime,
    by_user: User | None = None,
    by_api_key: ApiKey | None = None,
    body: str | None = None,
    data: dict | None = None,
) -> CaseEvent:
    """Add one line to the case's timeline, naming who acted (nobody: the system)."""
    event = CaseEvent(
        kind=kind,
        actor_user=by_user,
        actor_api_key=by_api_key,
        body=body,
        data=data,
        created_at=now,
    )
    case.events.append(event)
    session.flush()
    return event


def lock_case(session: Session, case: Case) -> None:
    """Re-read the case under a row lock, so two people acting at once act in turn.

    The second one then sees the first one's status and is refused cleanly.
    (SQLite has no row locks; its write lock, taken at BEGIN, serialises instead.)
    """
    session.refresh(case, with_for_update=True)


def fix_check_ask_at(case: Case) -> datetime | None:
    """When the owner chose to ask whether the latest resolution worked (None before any)."""
    resolutions = [event for event in case.events if event.kind == "resolved"]
    ask_at = (resolutions[-1].data or {}).get("ask_at") if resolutions else None
    return datetime.fromisoformat(ask_at) if ask_at else None
