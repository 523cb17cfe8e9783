"""Shopify's `orders/paid`, `orders/cancelled` and `refunds/create` webhooks: checking their
signature, reading their order or refund.

Shopify signs the raw body alone: `X-Shopify-Hmac-Sha256` is the base64
HMAC-SHA256 of the body, keyed with the app's client secret (or, for a
webhook created under Settings → Notifications → Webhooks, the key that page
shows). Headers such as the topic and the webhook id are not signed, which is
why the order id, inside the signed body, is what finally keeps an order from
being recorded twice.

How an order becomes a purchase:
- order id: `shopify:<id>`, the order's id as it appears in its admin URL
  (…/orders/<id>). The prefix keeps it apart from other sources' order ids;
  the order's `name` ("#1001") is unique only within one shop.
- customer: the first usable address among `email`, `contact_email` and
  `customer.email`; the name from `customer.first_name`/`last_name`; the
  external id `shopify:<customer.id>`. No usable address: ignored.
- when: `processed_at` (when the order was placed), else `created_at`.
- total and currency: `total_price` in the shop's `currency`.
- items: `line_items` with `sku`, `title` (else `name`), `quantity` and
  `price`. Shopify's order does not carry the product type, so Shopify items
  have no category: route them by SKU or order total.
- language: `customer_locale` (the storefront language the customer used), when readable.

A cancelled order (`orders/cancelled`, the order again with its `cancel_reason`) and a full
refund (`refunds/create`) stop the ask for the purchase `shopify:<id>`
(surveys.services.purchase_cancellations). A refund names its order (`order_id`) but not the
order's total, so it is judged against the purchase we recorded: it is full when its
transactions of kind `refund` that succeeded (or are still pending) add up to the order's
total, or when its `refund_line_items` give back every item we recorded; anything less is a
partial refund and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from surveys.services.purchases import CustomerInput, ItemInput, PurchaseInput
from surveys.validation.codes import Currency, ProviderLocale
from surveys.validation.errors import field_errors
from surveys.validation.moments import read_timestamp
from surveys.validation.money import RoundedMoney
from surveys.validation.numbers import WholeNumber
from surveys.validation.text import OptionalText
from surveys.webhooks.payloads import (
    MAX_ITEMS,
    CandidateAddress,
    Ignored,
    InvalidPayload,
    InvalidSignature,
    ProviderText,
    first_mailable_address,
    parse,
)

ORDERS_PAID = "orders/paid"
ORDERS_CANCELLED = "orders/cancelled"
REFUNDS_CREATE = "refunds/create"
TOPICS = (ORDERS_PAID, ORDERS_CANCELLED, REFUNDS_CREATE)
# A refund transaction that gives (or is giving) the money back; failed ones gave nothing.
REFUNDING_STATUSES = ("success", "pending")
PREFIX = "shopify:"
MAX_WEBHOOK_ID = 200  # ReceivedWebhook.external_id
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
# Shopify's ids are 64-bit; `shopify:<id>` then fits Purchase.order_id and Customer.external_id.
ShopifyId = WholeNumber(1, 2**63 - 1)


def _blank_as_absent(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _optional_timestamp(value: Any) -> Any:
    return None if value is None else read_timestamp(value)


# Shopify writes its dates in ISO 8601 with the shop's offset; "" means none.
ShopifyTimestamp = Annotated[
    datetime | None, BeforeValidator(_optional_timestamp), BeforeValidator(_blank_as_absent)
]


class ShopifyCustomer(BaseModel):
    """The order's customer: who to thank, and their Shopify id."""

    model_config = ConfigDict(extra="ignore")

    id: ShopifyId | None = None
    email: CandidateAddress = None
    first_name: ProviderText(200) = None
    last_name: ProviderText(200) = None

    @property
    def full_name(self) -> str | None:
        return " ".join(part for part in (self.first_name, self.last_name) if part)[:200] or None


class ShopifyLineItem(BaseModel):
    """One line of the order, as Shopify writes it."""

    model_config = ConfigDict(extra="ignore")

    sku: ProviderText(128) = None
    title: ProviderText(300) = None
    name: ProviderText(300) = None
    quantity: WholeNumber(1, 1_000_000) = 1
    price: RoundedMoney = None


class ShopifyOrder(BaseModel):
    """An orders/paid order: the fields a purchase is made of (Shopify sends many more)."""

    model_config = ConfigDict(extra="ignore")

    id: ShopifyId
    email: CandidateAddress = None
    contact_email: CandidateAddress = None
    customer: ShopifyCustomer | None = None
    processed_at: ShopifyTimestamp = None
    created_at: ShopifyTimestamp = None
    total_price: RoundedMoney = None
    currency: Currency = None
    line_items: Annotated[list[ShopifyLineItem], Field(max_length=MAX_ITEMS)] | None = None
    # The language the customer shopped in (`es`, `pt-BR`): their emails and pages use it.
    customer_locale: ProviderLocale = None


class ShopifyCancelledOrder(BaseModel):
    """An orders/cancelled order: which order, and why Shopify says it was cancelled."""

    model_config = ConfigDict(extra="ignore")

    id: ShopifyId
    # customer, fraud, inventory, declined, staff, other
    cancel_reason: ProviderText(100) = None


class ShopifyRefundTransaction(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: ProviderText(32) = None
    status: ProviderText(32) = None
    amount: RoundedMoney = None


class ShopifyRefundLineItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    quantity: WholeNumber(0, 1_000_000) = 0


class ShopifyRefund(BaseModel):
    """A refunds/create refund: the money given back and the lines it covers."""

    model_config = ConfigDict(extra="ignore")

    order_id: ShopifyId
    note: ProviderText(200) = None
    transactions: Annotated[list[ShopifyRefundTransaction], Field(max_length=MAX_ITEMS)] | None = (
        None
    )
    refund_line_items: (
        Annotated[list[ShopifyRefundLineItem], Field(max_length=MAX_ITEMS)] | None
    ) = None


@dataclass(frozen=True)
class Refund:
    """What a refund gives back: money, and how many items."""

    order_id: str
    amount: Decimal
    quantity: int
    note: str | None

    def is_full(self, total: Decimal | None, item_quantities: list[int]) -> bool:
        """Whether it gives back the whole order: its total, or every item recorded."""
        if total is not None and total > 0 and self.amount >= total:
            return True
        ordered = sum(item_quantities)
        return ordered > 0 and self.quantity >= ordered


def order_id_of_cancelled(data: object) -> tuple[str, str | None]:
    """The purchase's order id of an orders/cancelled order, and Shopify's reason."""
    order = parse(ShopifyCancelledOrder, data)
    return f"{PREFIX}{order.id}", order.cancel_reason


def refund_from(data: object) -> Refund:
    """A refunds/create refund as what it gives back."""
    refund = parse(ShopifyRefund, data)
    amount = sum(
        (
            transaction.amount
            for transaction in refund.transactions or ()
            if transaction.kind == "refund"
            and transaction.status in REFUNDING_STATUSES
            and transaction.amount is not None
        ),
        Decimal(0),
    )
    quantity = sum(line.quantity for line in refund.refund_line_items or ())
    return Refund(
        order_id=f"{PREFIX}{refund.order_id}", amount=amount, quantity=quantity, note=refund.note
    )


_WEBHOOK_ID = TypeAdapter(OptionalText(MAX_WEBHOOK_ID))


def verify_signature(raw: bytes, signature: str | None, secrets: Sequence[str]) -> None:
    """Raise InvalidSignature unless one of our secrets signed this exact body."""
    if not signature:
        raise InvalidSignature("Unsigned request", "The X-Shopify-Hmac-Sha256 header is required.")
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature(
            "Invalid signature", "The X-Shopify-Hmac-Sha256 header is not base64."
        ) from None
    # Several secrets: while one is rotated, Shopify signs with the old one for a while.
    for secret in secrets:
        expected = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
        if hmac.compare_digest(expected, given):
            return
    raise InvalidSignature("Invalid signature", "The signature does not match the body.")


def webhook_id(header: str | None) -> str | None:
    """The delivery's id (the same on every retry), to record it only once.

    None when absent: the order id alone still keeps the order from being recorded twice.
    """
    try:
        return _WEBHOOK_ID.validate_python(header)
    except ValidationError as exc:
        raise InvalidPayload(field_errors(exc, prefix=WEBHOOK_ID_HEADER)) from None


def purchase_from_order(data: object) -> PurchaseInput:
    """The purchase an orders/paid order reports; InvalidPayload or Ignored otherwise."""
    order = parse(ShopifyOrder, data)
    order_id = f"{PREFIX}{order.id}"
    customer = order.customer or ShopifyCustomer()
    email = first_mailable_address(order.email, order.contact_email, customer.email)
    if email is None:
        raise Ignored(f"order {order_id} has no email address we could write to")
    return PurchaseInput(
        order_id=order_id,
        customer=CustomerInput(
            email=email,
            name=customer.full_name,
            external_id=f"{PREFIX}{customer.id}" if customer.id is not None else None,
            locale=order.customer_locale,
        ),
        # When the order was placed; created_at when Shopify did not say.
        purchased_at=order.processed_at or order.created_at,
        total=order.total_price,
        currency=order.currency,
        items=tuple(
            ItemInput(
                sku=line.sku,
                name=line.title or line.name,
                quantity=line.quantity,
                unit_price=line.price,
            )
            for line in order.line_items or ()
        ),
    )
