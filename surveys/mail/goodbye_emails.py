"""The emails of a goodbye: the owner told that a customer unsubscribed (and why, when they
said), and the letter an owner writes when they end a relationship.

Each builder loads the goodbye named by `context["goodbye_id"]`; the texts are under
`templates/emails/`. The letter goes in the owner's name with `Reply-To` the owner, set on
the outbox message when it is queued (`surveys.services.customers.goodbyes`).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from surveys.external_urls import external_url
from surveys.mail.registry import CancelDelivery, email_template
from surveys.models import Goodbye, OutboxMessage
from surveys.services.customers.goodbyes import REASONS
from surveys.wording import first_name


def _goodbye(session: Session, message: OutboxMessage, kind: str) -> Goodbye:
    goodbye_id = (message.context or {}).get("goodbye_id")
    goodbye = session.get(Goodbye, goodbye_id) if goodbye_id else None
    if goodbye is None or goodbye.kind != kind:
        raise CancelDelivery("the goodbye this email is about no longer exists")
    if goodbye.customer.erased_at is not None:
        raise CancelDelivery("the customer's data was erased")
    return goodbye


def _for_the_owner(goodbye: Goodbye) -> dict:
    customer = goodbye.customer
    return {
        "customer": customer,
        "goodbye": goodbye,
        # The reason as the customer chose it, in the owner's language (the catalog has each
        # one: the unsubscribe page's choices, surveys/public/forms.py).
        "reason_words": _(REASONS[goodbye.reason]) if goodbye.reason in REASONS else None,
        "customer_url": external_url("inbox.show_customer", customer_id=customer.id),
    }


@email_template("customer_unsubscribed", to_customer=False)
def customer_unsubscribed_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """Tell the person who looks after the customer that they left, and why if they said."""
    goodbye = _goodbye(session, message, "unsubscribed")
    if goodbye.withdrawn_at is not None:
        raise CancelDelivery("the customer came back before this went out")
    return _for_the_owner(goodbye)


@email_template("customer_said_why", to_customer=False)
def customer_said_why_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """What the customer told us after the owner was already told they unsubscribed."""
    return _for_the_owner(_goodbye(session, message, "unsubscribed"))


@email_template("goodbye_letter", to_customer=True)
def goodbye_letter_email(session: Session, message: OutboxMessage, now: datetime) -> dict:
    """The owner's own letter, verbatim, signed by them."""
    goodbye = _goodbye(session, message, "ended")
    return {
        "customer": goodbye.customer,
        "first_name": first_name(goodbye.customer.name),
        "letter": goodbye.letter,
        "owner_name": message.from_name or (goodbye.ended_by.name if goodbye.ended_by else ""),
    }
