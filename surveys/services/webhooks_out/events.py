"""Webhooks out (README's *Webhooks out*): queueing an event for every endpoint that listens to it.

An event is queued as one outbox row per active endpoint subscribed to it
(`channel = "webhook"`, `template` = the event), in the transaction of the
change that causes it, so a rolled-back change tells nobody and a committed
one always does. The body is rendered when queued: the receiver learns what
the case or response looked like at that moment, whatever happened since.
The worker delivers the rows (`surveys.outbox.webhook_delivery`).

Every body is
`{"id": "evt_…", "event": "case.opened", "created_at": "<RFC 3339>", "data": {…}}`
where `data` is exactly what the API answers for that case or response, and
`id` is the same for every endpoint that hears of the event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Case, OutboxMessage, Response, WebhookEndpoint
from surveys.models.outbox import OutboxStatus

RESPONSE_CREATED = "response.created"
CASE_OPENED = "case.opened"
CASE_RESOLVED = "case.resolved"
CASE_CLOSED = "case.closed"
CASE_CUSTOMER_REPLIED = "case.customer_replied"
EVENTS = (
    RESPONSE_CREATED,
    CASE_OPENED,
    CASE_RESOLVED,
    CASE_CLOSED,
    CASE_CUSTOMER_REPLIED,
)
# Sent to one endpoint when an admin asks for a test; nobody subscribes to it.
PING = "ping"
CHANNEL = "webhook"
# The endpoints that get these JSON bodies; Slack and Teams channels share the table and the
# delivery (`surveys.services.chat_channels`).
WEBHOOK_KIND = "webhook"
SIGNATURE_HEADER = "X-Surveys-Signature"


def emit(
    session: Session,
    event: str,
    data: dict | Callable[[], dict],
    *,
    now: datetime,
    case: Case | None = None,
    customer_id: int | None = None,
) -> list[OutboxMessage]:
    """Queue `event` for each active endpoint subscribed to it; return the queued rows.

    `data` is the event's `data`, or a function that renders it, called only
    when somebody listens (most installations have no endpoint at all).
    `case` and `customer_id` link the rows to what they are about.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}; expected one of {EVENTS}")
    endpoints = subscribed_endpoints(session, event)
    if not endpoints:
        return []
    payload = event_payload(event, data() if callable(data) else data, now=now)
    return [
        queue_delivery(session, endpoint, payload, now=now, case=case, customer_id=customer_id)
        for endpoint in endpoints
    ]


def emit_case_event(session: Session, event: str, case: Case, *, now: datetime) -> None:
    """Queue a case event with the case as `GET /api/v1/cases/<id>` shows it now."""
    emit(
        session,
        event,
        lambda: case_data(session, case),
        now=now,
        case=case,
        customer_id=case.customer_id,
    )


def emit_response_created(session: Session, response: Response, *, now: datetime) -> None:
    """Queue `response.created` with the response as `GET /api/v1/responses` lists it."""
    emit(
        session,
        RESPONSE_CREATED,
        lambda: response_data(response),
        now=now,
        customer_id=response.customer_id,
    )


def subscribed_endpoints(session: Session, event: str) -> list[WebhookEndpoint]:
    """The active endpoints that asked for `event`, oldest first."""
    active = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.kind == WEBHOOK_KIND, WebhookEndpoint.active.is_(True))
        .order_by(WebhookEndpoint.id)
    )
    return [endpoint for endpoint in active if event in (endpoint.events or ())]


def event_payload(event: str, data: dict, *, now: datetime) -> dict:
    """The body every endpoint receives for one event (they share its id)."""
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "event": event,
        "created_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def queue_delivery(
    session: Session,
    endpoint: WebhookEndpoint,
    payload: dict,
    *,
    now: datetime,
    case: Case | None = None,
    customer_id: int | None = None,
) -> OutboxMessage:
    """Put one delivery of `payload` to `endpoint` in the outbox, due now."""
    message = OutboxMessage(
        channel=CHANNEL,
        template=payload["event"],
        webhook_endpoint_id=endpoint.id,
        payload=payload,
        context={},
        case_id=case.id if case is not None else None,
        customer_id=customer_id,
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


# --- the API's shapes ----------------------------------------------------------------------
# Imported when called: the API's modules import the services that emit events.


def case_data(session: Session, case: Case) -> dict:
    """The case exactly as `GET /api/v1/cases/<id>` answers it."""
    from surveys.api import queries, schemas

    view = queries.get_case_view(session, case.id)
    return schemas.case_json(view.case, view.reasons, view.comments)


def response_data(response: Response) -> dict:
    """The response exactly as an item of `GET /api/v1/responses`."""
    from surveys.api import schemas

    return schemas.response_json(response)


# --- signing -------------------------------------------------------------------------------


def body_bytes(payload: dict) -> bytes:
    """The exact bytes sent and signed (receivers verify these, not a re-encoding)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` keyed with the endpoint's whole secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"
