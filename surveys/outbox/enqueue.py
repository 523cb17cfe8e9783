"""Putting mail and webhooks in the outbox, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from surveys.db import insert_row
from surveys.models import Case, Customer, OutboxMessage, Survey, User


def enqueue_email(
    session: Session,
    *,
    template: str,
    to_email: str,
    now: datetime,
    to_name: str | None = None,
    reply_to: str | None = None,
    from_name: str | None = None,
    context: dict | None = None,
    customer: Customer | None = None,
    survey: Survey | None = None,
    case: Case | None = None,
    send_at: datetime | None = None,
) -> OutboxMessage:
    """Queue one email; the worker renders `template` with `context` and sends it.

    Nothing leaves until the caller commits, so a rolled-back change never
    sends mail, and a committed one always does.
    """
    return insert_row(
        session,
        OutboxMessage,
        {
            "channel": "email",
            "template": template,
            "to_email": to_email,
            "to_name": to_name,
            "reply_to": reply_to,
            "from_name": from_name,
            "context": context or {},
            "customer_id": customer.id if customer else None,
            "survey_id": survey.id if survey else None,
            "case_id": case.id if case else None,
            "status": "pending",
            "next_attempt_at": send_at or now,
            "created_at": now,
        },
    )


def enqueue_email_to_user(
    session: Session,
    user: User,
    *,
    template: str,
    now: datetime,
    case: Case | None = None,
    context: dict | None = None,
    send_at: datetime | None = None,
) -> OutboxMessage:
    """Queue an email to an owner or admin."""
    return enqueue_email(
        session,
        template=template,
        to_email=user.email,
        to_name=user.name,
        now=now,
        case=case,
        context={"user_id": user.id, **(context or {})},
        send_at=send_at,
    )
