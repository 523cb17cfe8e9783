"""Shopify's `orders/paid` webhook: checking its signature, reading its order.

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
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from surveys.services.purchases import CustomerInput, ItemInput, PurchaseInput
from surveys.webhooks.payloads import (
    MAX_ITEMS,
    FieldErrors,
    Ignored,
    InvalidPayload,
    InvalidSignature,
    currency,
    iso_timestamp,
    mailable_email,
    mapping,
    money,
    text,
    whole_number,
)

ORDERS_PAID = "orders/paid"
PREFIX = "shopify:"
MAX_WEBHOOK_ID = 200  # ReceivedWebhook.external_id


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
    """The delivery's id (the same on every retry), to record it only once."""
    if not header or not header.strip():
        return None  # the order id alone still keeps the order from being recorded twice
    if len(header.strip()) > MAX_WEBHOOK_ID:
        raise InvalidPayload(
            {"X-Shopify-Webhook-Id": [f"must be at most {MAX_WEBHOOK_ID} characters"]}
        )
    return header.strip()


def purchase_from_order(order: object) -> PurchaseInput:
    """The purchase an orders/paid order reports; InvalidPayload or Ignored otherwise."""
    if not isinstance(order, dict):
        raise InvalidPayload({"body": ["must be a JSON object (the order)"]})
    errors = FieldErrors()
    order_id = _order_id(errors, order.get("id"))
    customer = mapping(errors, order.get("customer"), "customer")
    email = mailable_email(
        errors,
        [
            ("email", order.get("email")),
            ("contact_email", order.get("contact_email")),
            ("customer.email", customer.get("email")),
        ],
    )
    name = _full_name(errors, customer)
    customer_id = whole_number(customer.get("id"))
    purchased_at = iso_timestamp(
        errors, order.get("processed_at"), "processed_at"
    ) or iso_timestamp(errors, order.get("created_at"), "created_at")
    total = money(errors, order.get("total_price"), "total_price")
    order_currency = currency(errors, order.get("currency"), "currency")
    items = _items(errors, order.get("line_items"))
    errors.raise_if_any()
    if email is None:
        raise Ignored(f"order {order_id} has no email address we could write to")
    return PurchaseInput(
        order_id=order_id,
        customer=CustomerInput(
            email=email,
            name=name,
            external_id=f"{PREFIX}{customer_id}" if customer_id is not None else None,
        ),
        purchased_at=purchased_at,
        total=total,
        currency=order_currency,
        items=items,
    )


def _order_id(errors: FieldErrors, value: object) -> str:
    number = whole_number(value)
    if number is None:
        errors.add("id", "is required: the order's numeric id")
        return ""
    return f"{PREFIX}{number}"


def _full_name(errors: FieldErrors, customer: dict) -> str | None:
    parts = [
        text(errors, customer.get(key), f"customer.{key}", 200)
        for key in ("first_name", "last_name")
    ]
    return " ".join(part for part in parts if part)[:200] or None


def _items(errors: FieldErrors, value: object) -> tuple[ItemInput, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.add("line_items", "must be a list")
        return ()
    if len(value) > MAX_ITEMS:
        errors.add("line_items", f"must have at most {MAX_ITEMS} lines")
        return ()
    items = []
    for index, line in enumerate(value):
        path = f"line_items.{index}"
        if not isinstance(line, dict):
            errors.add(path, "must be an object")
            continue
        quantity = whole_number(line.get("quantity", 1))
        if quantity is None or not 1 <= quantity <= 1_000_000:
            errors.add(f"{path}.quantity", "must be a whole number from 1 to 1000000")
            continue
        items.append(
            ItemInput(
                sku=text(errors, line.get("sku"), f"{path}.sku", 128),
                name=(
                    text(errors, line.get("title"), f"{path}.title", 300)
                    or text(errors, line.get("name"), f"{path}.name", 300)
                ),
                quantity=quantity,
                unit_price=money(errors, line.get("price"), f"{path}.price"),
            )
        )
    return tuple(items)
