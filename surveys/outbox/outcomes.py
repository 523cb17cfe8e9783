"""Marking email sent: when SendGrid accepts a request, or when its events show it had one.

SendGrid's v3 API takes no idempotency key, so a request that timed out may
have been accepted all the same. The worker retries such a request only
after `UNCERTAIN_RETRY_SECONDS`, and meanwhile SendGrid's Event Webhook
reports on every message it accepted (`processed`, `delivered`, `deferred`,
`dropped`, `bounce` …, each carrying our `message_id` custom arg): a message
it reports on is marked sent here and never goes again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from surveys.mail.render import EMAIL_TEMPLATES
from surveys.models import OutboxMessage
from surveys.models.outbox import OutboxStatus
from surveys.services.email_events import EmailEventInput, EventsRecorded, record_email_events


def mark_sent(
    session: Session, message_ids: list[int], now: datetime, *, attempted: bool = True
) -> list[OutboxMessage]:
    """Mark the messages still waiting (pending or sending) sent, and run their sent hooks.

    Webhooks out are recorded here too, by the worker that delivered them.

    `attempted`: the worker's own request counts as an attempt; SendGrid
    reporting on a message that waits for its retry does not.
    """
    if not message_ids:
        return []
    values: dict = {"status": "sent", "sent_at": now, "claimed_until": None, "claimed_by": None}
    if attempted:
        values["attempts"] = OutboxMessage.attempts + 1
    messages = session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            # `pending` too: if a lease ran out and another worker's attempt
            # failed meanwhile, this one still reached SendGrid.
            OutboxMessage.status.in_((OutboxStatus.SENDING, OutboxStatus.PENDING)),
        )
        .values(values)
        .returning(OutboxMessage),
        execution_options={"synchronize_session": False},
    ).all()
    by_template: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        by_template.setdefault(message.template, []).append(message)
    for name, group in by_template.items():
        spec = EMAIL_TEMPLATES.get(name)
        if spec is not None:
            spec.sent(session, group, now)
    return list(messages)


def record_sendgrid_events(
    session: Session, events: list[EmailEventInput], *, now: datetime
) -> EventsRecorded:
    """Record SendGrid's events once each; a message they report on is sent, whatever we knew."""
    recorded = record_email_events(session, events, now=now)
    mark_sent(session, sorted(recorded.message_ids), now, attempted=False)
    return recorded
