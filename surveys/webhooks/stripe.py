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
  `customer_details.name`, and the Stripe customer id (`cus_…`) when any;
  the session's `locale` (the Checkout page's language) when readable.
- when: the session's `created`.
- total and currency: `amount_total`, in the currency's smallest unit, as a
  decimal amount (1999 in EUR is 19.99; 500 in JPY is 500).
- items: the event does not carry the line items (Stripe sends them only to
  an API call that expands them, and we keep no Stripe API key). A session
  created with `metadata.item_name`, `metadata.sku` or `metadata.category`
  gives one item with those, which routing and question sets can use.
- payment: the session's `payment_intent` (`pi_…`) is kept, because a refund names the
  payment, not the checkout.

Two events stop the ask (surveys.services.purchase_cancellations): `charge.refunded` when the
charge is refunded in full (`refunded` true, or `amount_refunded` reaching `amount`; a partial
refund changes nothing), found by the charge's `metadata.order_id` when the shop set one on the
payment, else by its `payment_intent`; and `checkout.session.expired` for a session we recorded
(rare: a session is recorded only once paid, and a paid one does not expire).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from surveys.services.purchases import CustomerInput, ItemInput, PurchaseInput
from surveys.validation.codes import Currency, ProviderLocale
from surveys.validation.moments import read_unix_seconds
from surveys.validation.money import MAX_MONEY
from surveys.validation.text import OptionalText, Text
from surveys.webhooks.payloads import (
    CandidateAddress,
    Ignored,
    InvalidPayload,
    InvalidSignature,
    ProviderText,
    first_mailable_address,
    parse,
)

TOLERANCE = timedelta(seconds=300)
PAID_CHECKOUT_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
EXPIRED_CHECKOUT = "checkout.session.expired"
CHARGE_REFUNDED = "charge.refunded"
RECORDED_EVENTS = (*PAID_CHECKOUT_EVENTS, EXPIRED_CHECKOUT, CHARGE_REFUNDED)
MAX_EVENT_ID = 200  # ReceivedWebhook.external_id
MAX_ORDER_ID = 128  # Purchase.order_id
SESSION_PATH = "data.object"
HEX_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
# Amounts come in the currency's smallest unit; these are the currencies whose
# unit is not the hundredth (Stripe's list; ISK, HUF and TWD count in hundredths).
ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
THREE_DECIMAL_CURRENCIES = frozenset("BHD JOD KWD OMR TND".split())


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


# --- shapes ---------------------------------------------------------------------------------


class StripeEvent(BaseModel):
    """What every Stripe event carries: its id (the same on each retry) and its type."""

    model_config = ConfigDict(extra="ignore")

    id: Text(MAX_EVENT_ID)
    type: Text(200)


class _EventObject(BaseModel):
    model_config = ConfigDict(extra="ignore")

    object: dict[str, Any]


class CheckoutEventBody(BaseModel):
    """An event about a Checkout Session: the session is `data.object`."""

    model_config = ConfigDict(extra="ignore")

    data: _EventObject


def _unix_seconds(value: Any) -> Any:
    return None if value is None else read_unix_seconds(value)


def _minor_units(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _problem("must be a whole number of the currency's smallest unit")
    return value


def _customer_id(value: Any) -> Any:
    # Expanded, the customer (or the payment intent) is the object with its id inside.
    return value.get("id") if isinstance(value, dict) else value


# An id of Stripe's, as a string or inside its expanded object.
StripeObjectId = Annotated[OptionalText(255), BeforeValidator(_customer_id)]


class StripeMetadata(BaseModel):
    """What the shop wrote on the session: its own order id, and the item when it said."""

    model_config = ConfigDict(extra="ignore")

    order_id: OptionalText(MAX_ORDER_ID) = None
    item_name: ProviderText(300) = None
    sku: ProviderText(128) = None
    category: ProviderText(128) = None


class StripeCustomerDetails(BaseModel):
    """Who paid, as Checkout collected them."""

    model_config = ConfigDict(extra="ignore")

    email: CandidateAddress = None
    name: ProviderText(200) = None


class CheckoutSession(BaseModel):
    """A paid Checkout Session: the fields a purchase is made of."""

    model_config = ConfigDict(extra="ignore")

    id: OptionalText(MAX_ORDER_ID) = None
    metadata: StripeMetadata | None = None
    customer_details: StripeCustomerDetails | None = None
    customer_email: CandidateAddress = None
    # The Checkout page's language (`es`, `pt-BR`; `auto` and unreadable ones are ignored).
    locale: ProviderLocale = None
    customer: Annotated[OptionalText(128, cut=True), BeforeValidator(_customer_id)] = None
    payment_intent: StripeObjectId = None
    created: Annotated[datetime | None, BeforeValidator(_unix_seconds)] = None
    # Before amount_total, which is read in it.
    currency: Currency = None
    amount_total: Annotated[Decimal | None, BeforeValidator(_minor_units)] = None

    @field_validator("amount_total")
    @classmethod
    def _in_the_currency(cls, units: Decimal | None, info: ValidationInfo) -> Decimal | None:
        """1999 in EUR is 19.99; 500 in JPY is 500."""
        if units is None or "currency" not in info.data:
            return None  # no amount, or a currency already reported as wrong
        code = info.data["currency"]
        if code is None:
            raise _problem("needs the session's currency to be read")
        amount = units.scaleb(-_decimals(code))
        if amount > MAX_MONEY:
            raise _problem(f"must be at most {MAX_MONEY}")
        return amount


class ChargeMetadata(BaseModel):
    """What the shop wrote on the payment (`payment_intent_data.metadata`): its order id."""

    model_config = ConfigDict(extra="ignore")

    order_id: OptionalText(MAX_ORDER_ID) = None


class StripeCharge(BaseModel):
    """A refunded charge: how much of it went back, and the payment it belongs to."""

    model_config = ConfigDict(extra="ignore")

    id: OptionalText(255) = None
    amount: Annotated[int | None, BeforeValidator(_minor_units)] = None
    amount_refunded: Annotated[int | None, BeforeValidator(_minor_units)] = None
    refunded: bool = False
    payment_intent: StripeObjectId = None
    metadata: ChargeMetadata | None = None

    @property
    def refunded_in_full(self) -> bool:
        """Stripe's `refunded` is true only once the whole charge went back."""
        if self.refunded:
            return True
        return bool(self.amount) and (self.amount_refunded or 0) >= self.amount


class ExpiredSession(BaseModel):
    """An expired Checkout Session: only which order it was."""

    model_config = ConfigDict(extra="ignore")

    id: OptionalText(MAX_ORDER_ID) = None
    metadata: StripeMetadata | None = None


def _decimals(currency_code: str) -> int:
    if currency_code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency_code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


# --- reading --------------------------------------------------------------------------------


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


def recorded_event(data: object) -> tuple[StripeEvent, dict]:
    """The event and its object (a session or a charge), if it is one we act on; Ignored for
    other types."""
    event = parse(StripeEvent, data)
    if event.type not in RECORDED_EVENTS:
        raise Ignored(f"{event.type} events are not recorded")
    body = parse(CheckoutEventBody, data)
    return event, body.data.object


def refunded_charge(charge: dict) -> StripeCharge:
    """The charge of a charge.refunded event; Ignored when it is refunded only in part."""
    read = parse(StripeCharge, charge, prefix=SESSION_PATH)
    if not read.refunded_in_full:
        raise Ignored(
            f"charge {read.id} is refunded only in part ({read.amount_refunded} of "
            f"{read.amount}): a partial refund changes nothing"
        )
    return read


def order_id_of_expired(session: dict) -> str:
    """The order id an expired session's purchase would have (see `purchase_from_session`)."""
    expired = parse(ExpiredSession, session, prefix=SESSION_PATH)
    order_id = (expired.metadata.order_id if expired.metadata else None) or expired.id
    if order_id is None:
        raise InvalidPayload({f"{SESSION_PATH}.id": ["is required"]})
    return order_id


def purchase_from_session(session: dict) -> PurchaseInput:
    """The purchase a paid Checkout Session reports; Ignored while it is unpaid."""
    payment_status = session.get("payment_status")
    if payment_status != "paid":
        # Unpaid (a bank debit still on its way: its success is a later event) or
        # free: nothing was bought yet, whatever else the session holds.
        raise Ignored(f"the checkout session is not paid (payment_status {payment_status!r})")
    checkout = parse(CheckoutSession, session, prefix=SESSION_PATH)
    metadata = checkout.metadata or StripeMetadata()
    order_id = metadata.order_id or checkout.id
    if order_id is None:
        raise InvalidPayload({f"{SESSION_PATH}.id": ["is required"]})
    details = checkout.customer_details or StripeCustomerDetails()
    email = first_mailable_address(details.email, checkout.customer_email)
    if email is None:
        raise Ignored(f"checkout session {order_id} has no email address we could write to")
    return PurchaseInput(
        order_id=order_id,
        customer=CustomerInput(
            email=email,
            name=details.name,
            external_id=checkout.customer,
            locale=checkout.locale,
        ),
        purchased_at=checkout.created,
        total=checkout.amount_total,
        currency=checkout.currency,
        items=_metadata_item(metadata),
        payment_reference=checkout.payment_intent,
    )


def _metadata_item(metadata: StripeMetadata) -> tuple[ItemInput, ...]:
    """One item from the session's metadata, when the shop described it there."""
    if metadata.item_name is None and metadata.sku is None and metadata.category is None:
        return ()
    return (ItemInput(sku=metadata.sku, name=metadata.item_name, category=metadata.category),)
