"""What SendGrid tells us happened to our email: delivered, opened, bounced, reported…

Each event is recorded once (`EmailEvent.sg_event_id` is unique, and a
repeated event is skipped by the insert itself, so two deliveries of one
batch racing each other record it once). Newly recorded events then act:

- `bounce` (a hard one; `type: blocked` is SendGrid's temporary refusal and
  only recorded), `dropped`, `spamreport`, `unsubscribe`, `group_unsubscribe`
  suppress the address, with the reason, so it is never surveyed again; a
  bounce is also a negative touch point;
- `delivered`, `open`, `click` stamp the survey the email carried (its id is
  in the message's custom_args), keeping the earliest moment, so events
  arriving late or out of order change nothing they should not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import case, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.models import Customer, EmailEvent, OutboxMessage, Survey
from surveys.services.customers.unsubscribe import unsubscribe_customer

SUPPRESSING_EVENTS = ("bounce", "dropped", "spamreport", "unsubscribe", "group_unsubscribe")
# When an event first happened, on the survey the email carried.
SURVEY_STAMPS = {
    "delivered": Survey.delivered_at,
    "open": Survey.opened_at,
    "click": Survey.clicked_at,
}
# Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 500


@dataclass(frozen=True)
class EmailEventInput:
    """One event SendGrid reported, already read and checked by the webhook's parser."""

    sg_event_id: str | None
    event: str
    email: str
    occurred_at: datetime
    survey_id: int | None  # from our custom_args; checked against our rows here
    message_id: int | None
    payload: dict  # the event as it came, every field of it storable


@dataclass(frozen=True)
class EventsRecorded:
    received: int
    recorded: int  # new ones; the rest were repeats
    suppressed: int  # addresses newly suppressed
    # Our outbox messages the new events are about: SendGrid accepted each of them.
    message_ids: frozenset[int] = frozenset()


def record_email_events(
    session: Session, events: list[EmailEventInput], *, now: datetime
) -> EventsRecorded:
    """Record each event of a webhook batch once and act on the new ones."""
    known = _forget_unknown_ids(session, events)
    new = _insert_new(session, known, now=now)
    new.sort(key=lambda event: event.occurred_at)
    _stamp_surveys(session, new)
    suppressed = _suppress(session, new, now=now)
    session.flush()
    return EventsRecorded(
        received=len(events),
        recorded=len(new),
        suppressed=suppressed,
        message_ids=frozenset(event.message_id for event in new if event.message_id is not None),
    )


def _forget_unknown_ids(session: Session, events: list[EmailEventInput]) -> list[EmailEventInput]:
    """Keep only ids of surveys and messages we have (an event may outlive them, or lie)."""
    survey_ids = {event.survey_id for event in events if event.survey_id is not None}
    message_ids = {event.message_id for event in events if event.message_id is not None}
    known_surveys = set(session.scalars(select(Survey.id).where(Survey.id.in_(survey_ids))))
    # FOR KEY SHARE on PostgreSQL: outbox retention (which locks before it deletes)
    # cannot delete a message between this look-up and the insert that points at it.
    known_messages = set(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.id.in_(message_ids))
            .with_for_update(read=True, key_share=True)
        )
    )
    return [
        replace(
            event,
            survey_id=event.survey_id if event.survey_id in known_surveys else None,
            message_id=event.message_id if event.message_id in known_messages else None,
        )
        for event in events
    ]


def _insert_new(
    session: Session, events: list[EmailEventInput], *, now: datetime
) -> list[EmailEventInput]:
    """Insert the events not seen before; return those (repeats are skipped by the database)."""
    unique: dict[str, EmailEventInput] = {}
    anonymous: list[EmailEventInput] = []
    for event in events:
        if event.sg_event_id is None:
            anonymous.append(event)  # nothing to recognise a repeat by; its effects are idempotent
        else:
            unique.setdefault(event.sg_event_id, event)
    new = list(anonymous)
    if anonymous:
        session.execute(insert(EmailEvent), [_row(event, now) for event in anonymous])
    pending = list(unique.values())
    dialect_insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        inserted = set(
            session.scalars(
                dialect_insert(EmailEvent)
                .values([_row(event, now) for event in chunk])
                .on_conflict_do_nothing(index_elements=[EmailEvent.sg_event_id])
                .returning(EmailEvent.sg_event_id)
            )
        )
        new += [event for event in chunk if event.sg_event_id in inserted]
    return new


def _row(event: EmailEventInput, now: datetime) -> dict:
    return {
        "created_at": now,
        "sg_event_id": event.sg_event_id,
        "event": event.event,
        "email": event.email,
        "survey_id": event.survey_id,
        "outbox_message_id": event.message_id,
        "occurred_at": event.occurred_at,
        "payload": event.payload,
    }


def _stamp_surveys(session: Session, events: list[EmailEventInput]) -> None:
    """Delivered, opened, clicked: the earliest moment of each wins, whatever the order."""
    earliest: dict[tuple[int, str], datetime] = {}
    for event in events:
        if event.event in SURVEY_STAMPS and event.survey_id is not None:
            key = (event.survey_id, event.event)
            earliest[key] = min(earliest.get(key, event.occurred_at), event.occurred_at)
    for (survey_id, kind), moment in earliest.items():
        column = SURVEY_STAMPS[kind]
        session.execute(
            update(Survey)
            .where(Survey.id == survey_id)
            .values({column: case((column.is_(None) | (column > moment), moment), else_=column)}),
            execution_options={"synchronize_session": False},
        )


def suppression_reason(event: EmailEventInput) -> str | None:
    """Why the address is suppressed, in words, or None when this event does not suppress."""
    payload = event.payload
    detail = str(payload.get("reason") or payload.get("response") or "").strip()
    if event.event == "bounce":
        if payload.get("type") == "blocked":
            return None  # SendGrid's temporary refusal (reputation, rate): not the address
        return _with_detail("bounced", detail)
    if event.event == "dropped":
        return _with_detail("dropped by SendGrid", detail)
    if event.event == "spamreport":
        return "reported our email as spam"
    if event.event == "unsubscribe":
        return "unsubscribed through SendGrid"
    if event.event == "group_unsubscribe":
        group = payload.get("asm_group_id")
        return (
            f"unsubscribed from SendGrid group {group}"
            if group
            else "unsubscribed from a SendGrid group"
        )
    return None


def _with_detail(what: str, detail: str) -> str:
    return f"{what} ({' '.join(detail.split())})"[:200] if detail else what


def _suppress(session: Session, events: list[EmailEventInput], *, now: datetime) -> int:
    """Suppress the addresses of suppressing events. A bounce is not a touch point: the
    customer never saw the email (surveys.services.customers.ledger)."""
    suppressing = [
        (event, suppression_reason(event))
        for event in events
        if event.event in SUPPRESSING_EVENTS and event.email
    ]
    suppressing = [(event, reason) for event, reason in suppressing if reason]
    if not suppressing:
        return 0
    customers = {
        customer.email: customer
        for customer in session.scalars(
            select(Customer).where(Customer.email.in_({event.email for event, _ in suppressing}))
        )
    }
    newly = 0
    for event, reason in suppressing:
        customer = customers.get(event.email)
        if customer is None:
            continue  # an owner's or admin's address: nothing to stop surveying
        newly += unsubscribe_customer(session, customer, now=now, reason=reason)
    return newly
