"""Admins' Slack and Teams channels: add, pause, resume, delete, send a test message; list them.

Every change writes an audit entry in the same transaction. A channel that
Slack or Teams says is gone (404 or 410) is paused by the worker with that
reason (`pause_gone_channel`); an admin resumes it once it is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.models import OutboxMessage, User, WebhookEndpoint
from surveys.models.outbox import OutboxStatus
from surveys.services.audit import record_admin_change
from surveys.services.chat_channels.events import (
    EVENT_NAMES,
    EVENTS,
    KINDS,
    TEST_TEMPLATE,
    in_shop_language,
    queue_message,
)
from surveys.services.chat_channels.messages import SLACK, TEAMS, ChatNote, Link
from surveys.services.webhooks_out import endpoints as webhook_endpoints
from surveys.services.webhooks_out.endpoints import WebhookEndpointError, new_secret
from surveys.validation.numbers import MAX_DATABASE_ID

# Where each service's incoming webhooks live. Teams: Workflows (Power Automate, Logic
# Apps) and the Office 365 connectors that came before them.
HOSTS = {
    SLACK: ("hooks.slack.com", "hooks.slack-gov.com"),
    TEAMS: (
        ".webhook.office.com",
        "outlook.office.com",
        ".logic.azure.com",
        ".api.powerplatform.com",
        "api.powerautomate.com",
        ".flow.microsoft.com",
    ),
}
EXAMPLES = {
    SLACK: "https://hooks.slack.com/services/T000/B000/XXXX",
    TEAMS: "https://….webhook.office.com/webhookb2/… or a Workflows URL",
}
MAX_NAME = 80
# A channel answering these is gone: more tries would only be refused the same way.
GONE_STATUSES = (404, 410)


def is_chat(endpoint: WebhookEndpoint) -> bool:
    return endpoint.kind in KINDS


def clean_kind(kind: str | None) -> str:
    if kind not in KINDS:
        raise WebhookEndpointError(_("Choose Slack or Microsoft Teams."), "kind")
    return kind


def clean_url(kind: str, url: str | None, *, any_host: bool = False) -> str:
    """The webhook URL as stored: https on one of the service's own hosts.

    `any_host` (CHAT_WEBHOOKS_ANY_HOST) lets a test or a local stand-in receive
    the messages instead; the URL must still be one we can post to.
    """
    url = webhook_endpoints.clean_url(url)
    if any_host:
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() != "https":
        raise WebhookEndpointError(
            _("%(service)s webhook URLs start with https://.", service=KINDS[kind]), "url"
        )
    if not any(
        host.endswith(allowed) if allowed.startswith(".") else host == allowed
        for allowed in HOSTS[kind]
    ):
        raise WebhookEndpointError(
            _(
                "That is not a %(service)s incoming-webhook URL: paste the one %(service)s gave "
                "you, like %(example)s.",
                service=KINDS[kind],
                example=EXAMPLES[kind],
            ),
            "url",
        )
    if kind == SLACK and not parts.path.startswith(("/services/", "/triggers/", "/workflows/")):
        raise WebhookEndpointError(
            _(
                "Slack webhook URLs look like %(example)s: paste the whole URL.",
                example=EXAMPLES[SLACK],
            ),
            "url",
        )
    return url


def clean_name(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    if len(name) > MAX_NAME:
        raise WebhookEndpointError(
            _("Keep the name under %(num)d characters.", num=MAX_NAME), "name"
        )
    return name or None


def clean_owner(session: Session, owner_id: str | int | None) -> User | None:
    """The owner whose cases the channel hears about; None (or "") for everyone's."""
    if owner_id in (None, ""):
        return None
    owner_id = str(owner_id)
    owner = (
        session.get(User, int(owner_id))
        if owner_id.isdigit() and int(owner_id) <= MAX_DATABASE_ID
        else None
    )
    if owner is None or not owner.active:
        raise WebhookEndpointError(_("Choose someone who can own cases, or everyone."), "owner_id")
    return owner


def masked_url(url: str) -> str:
    """The URL as the page shows it: the host, not the path that works as the password."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"


def label(endpoint: WebhookEndpoint) -> str:
    """How the page and the audit log name the channel: its name, else the service."""
    return f"{KINDS.get(endpoint.kind, endpoint.kind)} channel {endpoint.name or endpoint.id}"


def _snapshot(endpoint: WebhookEndpoint) -> dict:
    return {
        "kind": endpoint.kind,
        "name": endpoint.name,
        # The path of a chat webhook URL is its secret: the audit log keeps the host only.
        "host": urlsplit(endpoint.url).hostname,
        "events": list(endpoint.events),
        "owner_id": endpoint.owner_id,
        "active": endpoint.active,
    }


def _audit(
    session: Session,
    action: str,
    endpoint: WebhookEndpoint,
    *,
    actor: User,
    before: dict | None,
    after: dict | None,
    now: datetime,
) -> None:
    record_admin_change(
        session,
        actor_user=actor,
        action=action,
        target=label(endpoint),
        before=before,
        after=after,
        now=now,
    )


# --- changes --------------------------------------------------------------------------------


def create_channel(
    session: Session,
    *,
    kind: str,
    url: str,
    events: list[str],
    name: str | None,
    owner_id: str | int | None,
    actor: User,
    now: datetime,
    any_host: bool = False,
) -> WebhookEndpoint:
    """Add a Slack or Teams channel for the chosen events, for everyone's cases or one owner's."""
    kind = clean_kind(kind)
    channel = WebhookEndpoint(
        kind=kind,
        url=clean_url(kind, url, any_host=any_host),
        events=webhook_endpoints.clean_events(events, EVENTS, chat=True),
        name=clean_name(name),
        owner=clean_owner(session, owner_id),
        secret=new_secret(),
        active=True,
        created_at=now,
    )
    session.add(channel)
    session.flush()
    _audit(
        session,
        "chat_channel.created",
        channel,
        actor=actor,
        before=None,
        after=_snapshot(channel),
        now=now,
    )
    return channel


def pause_channel(session: Session, channel: WebhookEndpoint, *, actor: User, now: datetime):
    """Post nothing more until resumed; what is queued waits."""
    session.refresh(channel, with_for_update=True)
    if not channel.active:
        return
    before = _snapshot(channel)
    channel.active = False
    channel.paused_reason = None
    session.flush()
    _audit(
        session,
        "chat_channel.paused",
        channel,
        actor=actor,
        before=before,
        after=_snapshot(channel),
        now=now,
    )


def resume_channel(session: Session, channel: WebhookEndpoint, *, actor: User, now: datetime):
    """Post again: what waited (also what the worker held back after a 404 or 410) goes now."""
    session.refresh(channel, with_for_update=True)
    if channel.active:
        return
    before = {**_snapshot(channel), "paused_reason": channel.paused_reason}
    channel.active = True
    channel.paused_reason = None
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.webhook_endpoint_id == channel.id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(next_attempt_at=now),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    _audit(
        session,
        "chat_channel.resumed",
        channel,
        actor=actor,
        before=before,
        after=_snapshot(channel),
        now=now,
    )


def delete_channel(
    session: Session, channel: WebhookEndpoint, *, actor: User, now: datetime
) -> int:
    """Remove the channel; what it has not received is cancelled. Returns how many were."""
    before = _snapshot(channel)
    cancelled = webhook_endpoints.cancel_undelivered(
        session, channel, f"the channel was deleted by {actor.name}"
    )
    _audit(
        session,
        "chat_channel.deleted",
        channel,
        actor=actor,
        before=before,
        after={"cancelled_messages": cancelled},
        now=now,
    )
    session.delete(channel)
    session.flush()
    return cancelled


def send_test_message(
    session: Session, channel: WebhookEndpoint, *, actor: User, now: datetime
) -> OutboxMessage:
    """Queue a test message to the channel, to see that it arrives and how it looks."""
    if not channel.active:
        raise WebhookEndpointError(_("This channel is paused: resume it to send a test message."))
    with in_shop_language(session):  # the team reads it, not only the admin who sent it
        owner = channel.owner.name if channel.owner is not None else _("everyone")
        events = ", ".join(str(EVENT_NAMES[event]) for event in channel.events)
        note = ChatNote(
            headline=_("Heart to Heart will post here. This is a test message."),
            quote=_("This is where the customer's own words come first."),
            facts=[(_("Posts"), events), (_("Cases of"), owner)],
            link=Link(external_url("admin.list_chat_channels"), _("The channel's settings")),
        )
    message = queue_message(session, channel, TEST_TEMPLATE, note, now=now)
    session.flush()
    _audit(
        session,
        "chat_channel.tested",
        channel,
        actor=actor,
        before=None,
        after={"message_id": message.id},
        now=now,
    )
    return message


def pause_gone_channel(session: Session, channel_id: int, reason: str, *, now: datetime) -> bool:
    """The worker's pause: Slack or Teams says the channel is gone. True if it was active."""
    paused = session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == channel_id, WebhookEndpoint.active.is_(True))
        .values(active=False, paused_reason=f"{reason} ({now:%Y-%m-%d %H:%M} UTC)"[:1000]),
        execution_options={"synchronize_session": False},
    ).rowcount
    return bool(paused)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSummary:
    """A channel with its latest messages and how many failed or wait."""

    channel: WebhookEndpoint
    recent: list[OutboxMessage]
    failed: int
    waiting: int


def list_channels(session: Session) -> list[ChannelSummary]:
    """Every Slack and Teams channel, oldest first, with its last few messages."""
    channels = list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.kind.in_(tuple(KINDS)))
            .order_by(WebhookEndpoint.id)
        )
    )
    if not channels:
        return []
    counts = webhook_endpoints.undelivered_counts(session, [channel.id for channel in channels])
    return [
        ChannelSummary(
            channel=channel,
            recent=webhook_endpoints.recent_deliveries(session, channel),
            failed=counts.get(channel.id, (0, 0))[0],
            waiting=counts.get(channel.id, (0, 0))[1],
        )
        for channel in channels
    ]
