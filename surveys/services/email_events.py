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
from datetime import UTC, datetime

from sqlalchemy import case, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveys.models import Customer, EmailEvent, OutboxMessage, Survey
from surveys.services.touchpoints import record_touchpoint
from surveys.services.unsubscribe import unsubscribe_customer

SUPPRESSING_EVENTS = ("bounce", "dropped", "spamreport", "unsubscribe", "group_unsubscribe")
# When an event first happened, on the survey the email carried.
SURVEY_STAMPS = {
    "delivered": Survey.delivered_at,
    "open": Survey.opened_at,
    "click": Survey.clicked_at,
}
# Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 500


class InvalidEvents(ValueError):
    """The body is not a list of SendGrid events."""


@dataclass(frozen=True)
class EventsRecorded:
    received: int
    recorded: int  # new ones; the rest were repeats (or not events at all)
    suppressed: int  # addresses newly suppressed
    # Our outbox messages the new events are about: SendGrid accepted each of them.
    message_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Event:
    sg_event_id: str | None
    event: str
    email: str | None
    occurred_at: datetime
    survey_id: int | None
    message_id: int | None
    payload: dict


def record_email_events(session: Session, events: object, *, now: datetime) -> EventsRecorded:
    """Record each event of a webhook batch once and act on the new ones."""
    if not isinstance(events, list):
        raise InvalidEvents("the body must be a JSON array of events")
    parsed = [_parse(item, now) for item in events if isinstance(item, dict)]
    parsed = [event for event in parsed if event is not None]
    _forget_unknown_ids(session, parsed)
    new = _insert_new(session, parsed, now=now)
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


def _parse(item: dict, now: datetime) -> _Event | None:
    kind = item.get("event")
    if not isinstance(kind, str) or not kind:
        return None
    sg_event_id = item.get("sg_event_id")
    email = item.get("email")
    return _Event(
        sg_event_id=str(sg_event_id)[:100] if sg_event_id else None,
        event=kind[:32],
        email=email.strip().lower()[:254] if isinstance(email, str) and email.strip() else None,
        occurred_at=_moment(item.get("timestamp"), now),
        # Our custom_args come back as top-level fields of each event.
        survey_id=_id(item.get("survey_id")),
        message_id=_id(item.get("message_id")),
        payload=item,
    )


def _moment(value: object, now: datetime) -> datetime:
    """The event's Unix timestamp as a UTC datetime (now when it is missing or absurd)."""
    try:
        moment = datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return moment


def _id(value: object) -> int | None:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return int(text) if text.isdigit() and len(text) < 19 else None


def _forget_unknown_ids(session: Session, events: list[_Event]) -> None:
    """Keep only ids of surveys and messages we have (an event may outlive them, or lie)."""
    survey_ids = {event.survey_id for event in events if event.survey_id is not None}
    message_ids = {event.message_id for event in events if event.message_id is not None}
    known_surveys = set(session.scalars(select(Survey.id).where(Survey.id.in_(survey_ids))))
    known_messages = set(
        session.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(message_ids)))
    )
    events[:] = [
        replace(
            event,
            survey_id=event.survey_id if event.survey_id in known_surveys else None,
            message_id=event.message_id if event.message_id in known_messages else None,
        )
        for event in events
    ]


def _insert_new(session: Session, events: list[_Event], *, now: datetime) -> list[_Event]:
    """Insert the events not seen before; return those (repeats are skipped by the database)."""
    unique: dict[str, _Event] = {}
    anonymous: list[_Event] = []
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


def _row(event: _Event, now: datetime) -> dict:
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


def _stamp_surveys(session: Session, events: list[_Event]) -> None:
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


def suppression_reason(event: _Event) -> str | None:
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


def _suppress(session: Session, events: list[_Event], *, now: datetime) -> int:
    """Suppress the addresses of suppressing events; a bounce is also a negative touch point."""
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
    surveys = {
        survey.id: survey
        for survey in session.scalars(
            select(Survey).where(Survey.id.in_({event.survey_id for event, _ in suppressing}))
        )
    }
    newly = 0
    for event, reason in suppressing:
        customer = customers.get(event.email)
        if customer is None:
            continue  # an owner's or admin's address: nothing to stop surveying
        newly += unsubscribe_customer(session, customer, now=now, reason=reason)
        if event.event == "bounce":
            record_touchpoint(
                session,
                customer=customer,
                kind="bounce",
                polarity="negative",
                now=now,
                occurred_at=min(event.occurred_at, now),
                note=reason,
                survey=surveys.get(event.survey_id),
            )
    return newly
