"""Stripe's Checkout webhooks: checking the signature, reading the paid session.

`Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]`: each v1 is the
HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint's signing secret
(`whsec_…`); there are several while a secret is being rolled. A timestamp
more than 5 minutes from our clock is refused, so a captured request cannot
be replayed later.

We record `checkout.session.completed` and
`checkout.session.async_payment_succeeded` once the session's
`payment_status` is `paid` (a bank debit completes unpaid, then succeeds
later with the second event). How a Checkout Session becomes a purchase:
- order id: `metadata.order_id` when the shop set one (its own order number,
  so the same order posted through the API or a CSV is recognised), else the
  session id (`cs_live_…`, what Stripe's dashboard finds).
- customer: `customer_details.email` (else `customer_email`),
  `customer_details.name`, and the Stripe customer id (`cus_…`) when any.
- when: the session's `created`.
- total and currency: `amount_total`, in the currency's smallest unit, as a
  decimal amount (1999 in EUR is 19.99; 500 in JPY is 500).
- items: the event does not carry the line items (Stripe sends them only to
  an API call that expands them, and we keep no Stripe API key). A session
  created with `metadata.item_name`, `metadata.sku` or `metadata.category`
  gives one item with those, which routing and question sets can use.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from surveys.services.purchases import CustomerInput, ItemInput, PurchaseInput
from surveys.webhooks.payloads import (
    FieldErrors,
    Ignored,
    InvalidPayload,
    InvalidSignature,
    checked_amount,
    currency,
    mailable_email,
    mapping,
    text,
)

TOLERANCE = timedelta(seconds=300)
PAID_CHECKOUT_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
MAX_EVENT_ID = 200  # ReceivedWebhook.external_id
MAX_ORDER_ID = 128  # Purchase.order_id
HEX_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
# Amounts come in the currency's smallest unit; these are the currencies whose
# unit is not the hundredth (Stripe's list; ISK, HUF and TWD count in hundredths).
ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
THREE_DECIMAL_CURRENCIES = frozenset("BHD JOD KWD OMR TND".split())


@dataclass(frozen=True)
class CheckoutEvent:
    """A signed Stripe event about a Checkout Session: what to claim and what to read."""

    id: str
    type: str
    session: dict


def verify_signature(
    raw: bytes, header: str | None, secrets: Sequence[str], *, now: datetime
) -> None:
    """Raise InvalidSignature unless a secret of ours signed this body within the tolerance."""
    if not header:
        raise InvalidSignature("Unsigned request", "The Stripe-Signature header is required.")
    timestamp, signatures = _parse_header(header)
    if timestamp is None or not signatures:
        raise InvalidSignature(
            "Invalid signature", "The Stripe-Signature header needs t=… and at least one v1=…."
        )
    signed = timestamp.encode() + b"." + raw
    expected = [
        hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode() for secret in secrets
    ]
    if not any(hmac.compare_digest(mine, theirs) for mine in expected for theirs in signatures):
        raise InvalidSignature(
            "Invalid signature", "No v1 signature matches the timestamp and body."
        )
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (OverflowError, OSError, ValueError):
        signed_at = None
    if signed_at is None or abs(now - signed_at) > TOLERANCE:
        raise InvalidSignature(
            "Stale request", "The signature is more than 5 minutes away from our clock."
        )


def _parse_header(header: str) -> tuple[str | None, list[bytes]]:
    """The t value as sent (it is signed as text) and every well-formed v1 signature."""
    timestamp = None
    signatures = []
    for element in header.split(","):
        key, _, value = element.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = value
        elif key == "v1" and HEX_SIGNATURE.match(value):
            signatures.append(value.encode())
        # Other schemes (v0: Stripe's test signatures) are ignored, as Stripe advises.
    return timestamp, signatures


def checkout_event(event: object) -> CheckoutEvent:
    """The event, if it is one we record; Ignored for other types, InvalidPayload if misshapen."""
    if not isinstance(event, dict):
        raise InvalidPayload({"body": ["must be a JSON object (the event)"]})
    errors = FieldErrors()
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        errors.add("id", "is required: the event's id")
    elif len(event_id) > MAX_EVENT_ID:
        errors.add("id", f"must be at most {MAX_EVENT_ID} characters")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type:
        errors.add("type", "is required: the event's type")
    errors.raise_if_any()
    if event_type not in PAID_CHECKOUT_EVENTS:
        raise Ignored(f"{event_type} events are not recorded")
    data = event.get("data")
    session = data.get("object") if isinstance(data, dict) else None
    if not isinstance(session, dict):
        raise InvalidPayload({"data.object": ["is required: the Checkout Session"]})
    return CheckoutEvent(id=event_id.strip(), type=event_type, session=session)


def purchase_from_session(session: dict) -> PurchaseInput:
    """The purchase a paid Checkout Session reports; Ignored while it is unpaid."""
    payment_status = session.get("payment_status")
    if payment_status != "paid":
        # Unpaid (a bank debit still on its way: its success is a later event) or
        # free: nothing was bought yet, whatever else the session holds.
        raise Ignored(f"the checkout session is not paid (payment_status {payment_status!r})")
    errors = FieldErrors()
    path = "data.object"
    metadata = mapping(errors, session.get("metadata"), f"{path}.metadata")
    order_id = _order_id(errors, session, metadata)
    customer = _customer(errors, session)
    purchased_at = _unix_time(errors, session.get("created"), f"{path}.created")
    session_currency = currency(errors, session.get("currency"), f"{path}.currency")
    total = _amount(errors, session.get("amount_total"), session_currency, f"{path}.amount_total")
    items = _metadata_item(errors, metadata, f"{path}.metadata")
    errors.raise_if_any()
    if customer is None:
        raise Ignored(f"checkout session {order_id} has no email address we could write to")
    return PurchaseInput(
        order_id=order_id,
        customer=customer,
        purchased_at=purchased_at,
        total=total,
        currency=session_currency,
        items=items,
    )


def _customer(errors: FieldErrors, session: dict) -> CustomerInput | None:
    """Who paid, as Checkout collected them; None without an address we could write to."""
    path = "data.object"
    details = mapping(errors, session.get("customer_details"), f"{path}.customer_details")
    email = mailable_email(
        errors,
        [
            (f"{path}.customer_details.email", details.get("email")),
            (f"{path}.customer_email", session.get("customer_email")),
        ],
    )
    name = text(errors, details.get("name"), f"{path}.customer_details.name", 200)
    stripe_customer = session.get("customer")
    if isinstance(stripe_customer, dict):  # expanded: the object, with its id inside
        stripe_customer = stripe_customer.get("id")
    external_id = stripe_customer[:128] if isinstance(stripe_customer, str) else None
    if email is None:
        return None
    return CustomerInput(email=email, name=name, external_id=external_id)


def _order_id(errors: FieldErrors, session: dict, metadata: dict) -> str:
    chosen = metadata.get("order_id")
    path = "data.object.metadata.order_id"
    if chosen is None or (isinstance(chosen, str) and not chosen.strip()):
        chosen, path = session.get("id"), "data.object.id"
    if not isinstance(chosen, str) or not chosen.strip():
        errors.add(path, "is required")
        return ""
    if len(chosen.strip()) > MAX_ORDER_ID:
        errors.add(path, f"must be at most {MAX_ORDER_ID} characters")
        return ""
    return chosen.strip()


def _unix_time(errors: FieldErrors, value: object, path: str) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(value)
        return datetime.fromtimestamp(value, tz=UTC)
    except (TypeError, OverflowError, OSError, ValueError):
        errors.add(path, "must be a Unix time in seconds")
        return None


def _amount(
    errors: FieldErrors, value: object, currency_code: str | None, path: str
) -> Decimal | None:
    """An amount in the currency's smallest unit as a decimal amount of the currency."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, "must be a whole number of the currency's smallest unit")
        return None
    if currency_code is None:
        errors.add(path, "needs the session's currency to be read")
        return None
    return checked_amount(errors, Decimal(value).scaleb(-_decimals(currency_code)), path)


def _decimals(currency_code: str) -> int:
    if currency_code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency_code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def _metadata_item(errors: FieldErrors, metadata: dict, path: str) -> tuple[ItemInput, ...]:
    """One item from the session's metadata, when the shop described it there."""
    name = text(errors, metadata.get("item_name"), f"{path}.item_name", 300)
    sku = text(errors, metadata.get("sku"), f"{path}.sku", 128)
    category = text(errors, metadata.get("category"), f"{path}.category", 128)
    if name is None and sku is None and category is None:
        return ()
    return (ItemInput(sku=sku, name=name, category=category),)
