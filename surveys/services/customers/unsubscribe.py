"""Unsubscribing: a customer who asks not to be surveyed is never surveyed again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from surveys.models import Customer, OutboxMessage, Survey
from surveys.models.outbox import OutboxStatus
from surveys.models.surveys import SurveyStatus

# The outbox templates that ask the customer something; replies from an owner are not stopped.
SURVEY_TEMPLATES = ("survey", "reminder")


def unsubscribe_customer(
    session: Session, customer: Customer, *, now: datetime, reason: str = "unsubscribed"
) -> bool:
    """Suppress the address and cancel every survey not yet sent; True if newly suppressed.

    Idempotent: the first suppression's time and reason are kept, and running it
    again only cancels what may have been scheduled since.
    """
    newly = customer.suppressed_at is None
    if newly:
        customer.suppressed_at = now
        customer.suppression_reason = reason
    why = f"the customer's address is suppressed ({customer.suppression_reason})"
    cancel_pending_surveys(session, customer, reason=why)
    return newly


def cancel_pending_surveys(session: Session, customer: Customer, *, reason: str) -> int:
    """Cancel the customer's surveys not yet sent and every survey email or reminder still
    waiting in the outbox; returns how many surveys were cancelled. Suppresses nothing."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.customer_id == customer.id,
            OutboxMessage.template.in_(SURVEY_TEMPLATES),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED, last_error=reason)
    )
    cancelled = session.execute(
        update(Survey)
        .where(
            Survey.customer_id == customer.id,
            # A survey held for an open case would otherwise be decided again when it closes.
            Survey.status.in_((SurveyStatus.SCHEDULED, SurveyStatus.HELD)),
        )
        .values(status=SurveyStatus.CANCELLED, status_reason=reason)
    ).rowcount
    session.flush()
    return cancelled
