"""What the Shopify and Stripe webhooks share: their outcomes and small field readers.

The parsers (`shopify.py`, `stripe.py`) turn a provider's signed payload
into a `PurchaseInput` or raise one of these; the views answer each with the
status the provider needs:

- `InvalidSignature`: 401, nothing read.
- `InvalidPayload`: 422 naming each field, nothing changed. The provider
  retries, and its delivery log shows our answer, so a payload we misread
  (a new API version, say) is visible and is recorded once we are fixed.
- `Ignored`: 200, nothing recorded. Other topics and event types, unpaid
  checkouts, orders without an address we could write to: retrying would
  never change the answer, so the provider is told not to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email

CENT = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")  # what Numeric(14, 2) holds
MAX_ITEMS = 1000


class InvalidSignature(Exception):
    """The request is not signed with our secret (or not recently enough)."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail


class InvalidPayload(ValueError):
    """A signed payload without the shape we expect; `errors` names each field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors


class Ignored(Exception):
    """A genuine delivery that records nothing, and never would on a retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FieldErrors:
    """Collects messages by field path, so one 422 names every field that does not fit."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidPayload(self.errors)


def mapping(errors: FieldErrors, value: object, path: str) -> dict:
    """A nested JSON object; absent (or null) reads as empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add(path, "must be an object")
        return {}
    return value


def text(errors: FieldErrors, value: object, path: str, max_length: int) -> str | None:
    """A trimmed string, cut to what our column holds; blank counts as absent.

    Cut rather than refused: a long product title is no reason to lose the
    order, and the provider would only send the same title again.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(path, "must be a string")
        return None
    return value.strip()[:max_length] or None


def mailable_email(errors: FieldErrors, candidates: list[tuple[str, object]]) -> str | None:
    """The first address among (path, value) pairs that we could write to, or None."""
    for path, value in candidates:
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            errors.add(path, "must be a string")
            continue
        try:
            return validate_email(value.strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            continue  # a typo the shop accepted; another field may hold a good address
    return None


def money(errors: FieldErrors, value: object, path: str) -> Decimal | None:
    """A non-negative amount from a decimal string ("129.90"), rounded to cents."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        errors.add(path, 'must be a decimal string, like "129.90"')
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(path, 'must be a decimal string, like "129.90"')
        return None
    return checked_amount(errors, amount, path)


def checked_amount(errors: FieldErrors, amount: Decimal, path: str) -> Decimal | None:
    """The amount rounded to cents, or None (and an error) when we could not store it."""
    if not amount.is_finite() or amount < 0:
        errors.add(path, "must be a finite amount, not negative")
        return None
    if amount > MAX_MONEY:
        errors.add(path, f"must be at most {MAX_MONEY}")
        return None
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def currency(errors: FieldErrors, value: object, path: str) -> str | None:
    """An ISO 4217 code, upper case (Stripe sends them lower case)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() or not value.isalpha():
        errors.add(path, "must be a three-letter ISO 4217 code")
        return None
    return value.upper()


def iso_timestamp(errors: FieldErrors, value: object, path: str) -> datetime | None:
    """An ISO 8601 timestamp with an offset ("2026-11-22T10:00:00-05:00"), in UTC."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors.add(path, "must be an ISO 8601 timestamp with an offset")
        return None
    return moment.astimezone(UTC)


def whole_number(value: object) -> int | None:
    """An int that JSON gave as a number or a string of digits (ids, quantities)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        return int(value)
    return None
