"""What a chat channel can hear about, and the outbox row that posts one message to it.

Kept apart from `channels` (the admins' changes, which reuse the webhooks' own) so
that the services which queue messages import nothing of the webhooks out.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from surveys.languages import shipped_or_default
from surveys.models import OutboxMessage, WebhookEndpoint
from surveys.models.outbox import OutboxStatus
from surveys.services.chat_channels.messages import SLACK, TEAMS, ChatNote, body_for
from surveys.services.settings import get_setting

# The webhooks' outbox channel (`webhooks_out.events.CHANNEL`): the same worker delivers both.
OUTBOX_CHANNEL = "webhook"
KINDS = {SLACK: "Slack", TEAMS: "Microsoft Teams"}

NEGATIVE_RESPONSE = "negative_response"
CASE_OPENED = "case_opened"
CASE_OVERDUE = "case_overdue"
CASE_REOPENED = "case_reopened"
CUSTOMER_REPLIED = "customer_replied"
FIX_CONFIRMED = "fix_confirmed"
WEEKLY_SUMMARY = "weekly_summary"
EVENTS = {
    NEGATIVE_RESPONSE: _l("A customer gave a negative answer"),
    CASE_OPENED: _l("A case opened"),
    CASE_OVERDUE: _l("A case missed its deadline"),
    CASE_REOPENED: _l("A case reopened"),
    CUSTOMER_REPLIED: _l("A customer replied on their case"),
    FIX_CONFIRMED: _l("A customer confirmed the fix worked"),
    WEEKLY_SUMMARY: _l("The weekly summary (Monday morning)"),
}
# How a test message lists what the channel chose: "Posts: negative answers, cases opened …".
EVENT_NAMES = {
    NEGATIVE_RESPONSE: _l("negative answers"),
    CASE_OPENED: _l("cases opened"),
    CASE_OVERDUE: _l("missed deadlines"),
    CASE_REOPENED: _l("reopened cases"),
    CUSTOMER_REPLIED: _l("customers' replies"),
    FIX_CONFIRMED: _l("confirmed fixes"),
    WEEKLY_SUMMARY: _l("the weekly summary"),
}
# The outbox template of a test message; the others are "chat." + the event.
TEST_TEMPLATE = "chat.test"
TEMPLATE_PREFIX = "chat."


def shop_language(session: Session) -> str:
    """The catalog a channel's messages are written in: the shop's default language.

    A channel is read by the whole team, and its messages are made wherever the change
    happens (the worker, a customer's request, another person's), so not in anyone's own.
    """
    return shipped_or_default(get_setting(session, "default_language"))


def in_shop_language(session: Session) -> AbstractContextManager:
    """`with in_shop_language(session):` make a note's words (and dates) in the shop's language."""
    return force_locale(shop_language(session))


def queue_message(
    session: Session,
    channel: WebhookEndpoint,
    template: str,
    note: ChatNote,
    *,
    now: datetime,
    case_id: int | None = None,
    customer_id: int | None = None,
) -> OutboxMessage:
    """One outbox row posting `note` to the channel, formatted now, due now.

    The body is a snapshot, as a webhook out's is: the channel hears what the
    case looked like when it happened.
    """
    with in_shop_language(session):  # the quotation marks around the customer's words
        payload = body_for(channel.kind, note)
    message = OutboxMessage(
        channel=OUTBOX_CHANNEL,
        template=template,
        webhook_endpoint_id=channel.id,
        payload=payload,
        context={},
        case_id=case_id,
        customer_id=customer_id,
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message
