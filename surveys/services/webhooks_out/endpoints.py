"""Admins' webhook endpoints: add, pause, resume, delete, new secret, test ping; recent deliveries.

Every change writes an audit entry in the same transaction. The signing secret
never enters the audit log: it is shown to the admin once, when it is made.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from surveys.models import OutboxMessage, User, WebhookEndpoint
from surveys.models.outbox import OutboxStatus
from surveys.services.audit import record_admin_change
from surveys.services.webhooks_out.events import (
    EVENTS,
    PING,
    WEBHOOK_KIND,
    event_payload,
    queue_delivery,
)

MAX_URL_LENGTH = 2000
SECRET_PREFIX = "whsec_"
RECENT_DELIVERIES = 10


class WebhookEndpointError(ValueError):
    """What an admin asked for cannot be done; `field` names the form field, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def new_secret() -> str:
    """A fresh signing secret: a recognisable prefix and 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def clean_url(url: str | None) -> str:
    """The URL as stored: absolute http(s) with a host; else WebhookEndpointError."""
    url = (url or "").strip()
    if not url:
        raise WebhookEndpointError(_("Give the URL we should post to."), "url")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookEndpointError(
            _("Keep the URL under %(num)d characters.", num=MAX_URL_LENGTH), "url"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise WebhookEndpointError(_("That is not a URL we can post to."), "url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise WebhookEndpointError(
            _("Give an absolute http:// or https:// URL, like https://example.com/hooks/h2h."),
            "url",
        )
    if any(character.isspace() for character in url):
        raise WebhookEndpointError(_("A URL cannot contain spaces."), "url")
    if parts.username is not None or parts.password is not None:
        # Deliveries are signed; a password in the URL would only end up in logs.
        raise WebhookEndpointError(
            _(
                "Leave the user name and password out of the URL: every delivery is signed, so "
                "your receiver can check that it came from us."
            ),
            "url",
        )
    if parts.fragment:
        raise WebhookEndpointError(_("Leave out the #fragment: it is never sent."), "url")
    return url


def clean_events(events: list[str] | None, known=EVENTS, *, chat: bool = False) -> list[str]:
    """The chosen events in the order of `known` (ours, or a chat channel's); at least one, and
    each one of `known`."""
    chosen = set(events or ())
    unknown = chosen - set(known)
    if unknown:
        listed = ", ".join(sorted(unknown))
        message = (
            _("We do not post %(events)s.", events=listed)
            if chat
            else _("We do not send %(events)s.", events=listed)
        )
        raise WebhookEndpointError(message, "events")
    if not chosen:
        raise WebhookEndpointError(_("Choose at least one event."), "events")
    return [event for event in known if event in chosen]


def _snapshot(endpoint: WebhookEndpoint) -> dict:
    return {"url": endpoint.url, "events": list(endpoint.events), "active": endpoint.active}


def _target(endpoint: WebhookEndpoint) -> str:
    return f"webhook endpoint {endpoint.url}"


def create_endpoint(
    session: Session, *, url: str, events: list[str], actor: User, now: datetime
) -> WebhookEndpoint:
    """Register a URL for the chosen events, with a new secret (the caller shows it once)."""
    endpoint = WebhookEndpoint(
        url=clean_url(url),
        events=clean_events(events),
        secret=new_secret(),
        active=True,
        created_at=now,
    )
    session.add(endpoint)
    session.flush()
    _record_change(session, "webhook.created", endpoint, actor=actor, before=None, now=now)
    return endpoint


def pause_endpoint(
    session: Session, endpoint: WebhookEndpoint, *, actor: User, now: datetime
) -> None:
    """Stop queueing events for the endpoint; deliveries already queued wait until resumed."""
    _set_active(session, endpoint, False, action="webhook.paused", actor=actor, now=now)


def resume_endpoint(
    session: Session, endpoint: WebhookEndpoint, *, actor: User, now: datetime
) -> None:
    """Queue events for the endpoint again; what waited while it was paused goes now."""
    _set_active(session, endpoint, True, action="webhook.resumed", actor=actor, now=now)


def _set_active(
    session: Session,
    endpoint: WebhookEndpoint,
    active: bool,
    *,
    action: str,
    actor: User,
    now: datetime,
) -> None:
    session.refresh(endpoint, with_for_update=True)
    if endpoint.active == active:
        return  # a second click changes nothing and is not a change to audit
    before = _snapshot(endpoint)
    endpoint.active = active
    session.flush()
    _record_change(session, action, endpoint, actor=actor, before=before, now=now)


def delete_endpoint(
    session: Session, endpoint: WebhookEndpoint, *, actor: User, now: datetime
) -> int:
    """Remove the endpoint; its undelivered events are cancelled. Returns how many were.

    Past deliveries stay in the outbox (without the endpoint), and the audit
    entry keeps its URL and events.
    """
    before = _snapshot(endpoint)
    cancelled = cancel_undelivered(session, endpoint, f"the endpoint was deleted by {actor.name}")
    record_admin_change(
        session,
        actor_user=actor,
        action="webhook.deleted",
        target=_target(endpoint),
        before=before,
        after={"cancelled_deliveries": cancelled},
        now=now,
    )
    session.delete(endpoint)
    session.flush()
    return cancelled


def cancel_undelivered(session: Session, endpoint: WebhookEndpoint, why: str) -> int:
    """Before the endpoint goes: cancel what it has not received, unlink what it has.

    Returns how many deliveries were cancelled. Past deliveries stay in the outbox.
    """
    why = why[:300]
    of_endpoint = OutboxMessage.webhook_endpoint_id == endpoint.id
    cancelled = session.execute(
        update(OutboxMessage)
        .where(of_endpoint, OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
        .values(status=OutboxStatus.CANCELLED, claimed_until=None, claimed_by=None, last_error=why),
        execution_options={"synchronize_session": False},
    ).rowcount
    # A failed delivery could be retried from the outbox; with nowhere to go, it is over.
    session.execute(
        update(OutboxMessage)
        .where(of_endpoint, OutboxMessage.status == OutboxStatus.FAILED)
        .values(
            status=OutboxStatus.CANCELLED,
            last_error=why + "; before that: " + func.coalesce(OutboxMessage.last_error, ""),
        ),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.webhook_endpoint_id == endpoint.id)
        .values(webhook_endpoint_id=None),
        execution_options={"synchronize_session": False},
    )
    return cancelled


def rotate_secret(
    session: Session, endpoint: WebhookEndpoint, *, actor: User, now: datetime
) -> str:
    """Replace the signing secret; the next delivery is signed with the new one."""
    session.refresh(endpoint, with_for_update=True)
    endpoint.secret = new_secret()
    session.flush()
    record_admin_change(
        session,
        actor_user=actor,
        action="webhook.secret_rotated",
        target=_target(endpoint),
        before=None,
        after=None,
        now=now,
    )
    return endpoint.secret


def send_ping(
    session: Session, endpoint: WebhookEndpoint, *, actor: User, now: datetime
) -> OutboxMessage:
    """Queue a `ping` to the endpoint, to see that it answers and checks the signature."""
    if not endpoint.active:
        raise WebhookEndpointError(_("This endpoint is paused: resume it to ping it."))
    payload = event_payload(
        PING,
        {
            "endpoint_id": endpoint.id,
            "url": endpoint.url,
            "events": list(endpoint.events),
            "message": "Hello from Heart to Heart: this endpoint is set up.",
        },
        now=now,
    )
    message = queue_delivery(session, endpoint, payload, now=now)
    session.flush()
    record_admin_change(
        session,
        actor_user=actor,
        action="webhook.pinged",
        target=_target(endpoint),
        before=None,
        after={"delivery_id": message.id, "event_id": payload["id"]},
        now=now,
    )
    return message


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointSummary:
    """An endpoint with its latest deliveries and how many failed or wait."""

    endpoint: WebhookEndpoint
    recent: list[OutboxMessage]
    failed: int
    waiting: int


def list_endpoints(session: Session) -> list[EndpointSummary]:
    """Every endpoint, oldest first, with its last few deliveries (newest first)."""
    endpoints = list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.kind == WEBHOOK_KIND)
            .order_by(WebhookEndpoint.id)
        )
    )
    if not endpoints:
        return []
    counts = undelivered_counts(session, [endpoint.id for endpoint in endpoints])
    return [
        EndpointSummary(
            endpoint=endpoint,
            recent=recent_deliveries(session, endpoint),
            failed=counts.get(endpoint.id, (0, 0))[0],
            waiting=counts.get(endpoint.id, (0, 0))[1],
        )
        for endpoint in endpoints
    ]


def undelivered_counts(session: Session, endpoint_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each endpoint (a webhook or a chat channel): how many of its messages failed, and how
    many wait to go (pending, or being sent now). Endpoints with neither are left out."""
    counts: dict[int, tuple[int, int]] = {}
    for endpoint_id, status, count in session.execute(
        select(
            OutboxMessage.webhook_endpoint_id, OutboxMessage.status, func.count(OutboxMessage.id)
        )
        .where(
            OutboxMessage.webhook_endpoint_id.in_(endpoint_ids),
            OutboxMessage.status.in_(
                (OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.SENDING)
            ),
        )
        .group_by(OutboxMessage.webhook_endpoint_id, OutboxMessage.status)
    ):
        failed, waiting = counts.get(endpoint_id, (0, 0))
        if status == OutboxStatus.FAILED:
            failed += count
        else:
            waiting += count
        counts[endpoint_id] = (failed, waiting)
    return counts


def recent_deliveries(
    session: Session, endpoint: WebhookEndpoint, *, limit: int = RECENT_DELIVERIES
) -> list[OutboxMessage]:
    """The endpoint's latest deliveries, newest first."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.webhook_endpoint_id == endpoint.id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def _record_change(
    session: Session,
    action: str,
    endpoint: WebhookEndpoint,
    *,
    actor: User,
    before: dict | None,
    now: datetime,
) -> None:
    """The audit log's line for this change, with the endpoint's state after it."""
    record_admin_change(
        session,
        actor_user=actor,
        action=action,
        target=_target(endpoint),
        before=before,
        after=_snapshot(endpoint),
        now=now,
    )
