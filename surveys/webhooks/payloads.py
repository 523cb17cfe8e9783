"""What the webhooks in share: their outcomes, reading a signed body, and provider text.

The parsers (`shopify.py`, `stripe.py`, `sendgrid.py`) read a provider's
signed body through pydantic models, one per shape, and turn it into our
services' inputs or raise one of these; the views answer each with the status
the provider needs:

- `InvalidSignature`: 401, nothing read.
- A body that is not JSON, or JSON we will not read (NaN, absurd nesting): 400.
- `InvalidPayload`: 422 naming each field, nothing changed. The provider
  retries, and its delivery log shows our answer, so a payload we misread
  (a new API version, say) is visible and is recorded once we are fixed.
- `Ignored`: 200, nothing recorded. Other topics and event types, unpaid
  checkouts, orders without an address we could write to: retrying would
  never change the answer, so the provider is told not to.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

from surveys.validation.addresses import read_email
from surveys.validation.errors import field_errors
from surveys.validation.text import OptionalText, unencodable_text_reason

MAX_ITEMS = 1000
LINE_BREAKS = re.compile(r"\s*[\r\n\t]+\s*")

Model = TypeVar("Model", bound=BaseModel)


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


def parse(model: type[Model], data: object, *, prefix: str = "") -> Model:
    """The data read as `model`, or InvalidPayload naming each field by its dotted path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayload(field_errors(exc, prefix=prefix)) from None


# --- provider text ----------------------------------------------------------------------------


def _fold_line_breaks(value: Any) -> Any:
    # A shop lets people type a line break into a name; one line is what mail headers
    # and pages need, and refusing the order over it would lose the order.
    return LINE_BREAKS.sub(" ", value) if isinstance(value, str) else value


def ProviderText(max_length: int) -> Any:  # noqa: N802
    """Optional provider text on one line: breaks folded to spaces, cut to `max_length`.

    Cut rather than refused: a long product title is no reason to lose the order,
    and the provider would only send the same title again.
    """
    return Annotated[OptionalText(max_length, cut=True), BeforeValidator(_fold_line_breaks)]


def _candidate_address(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("invalid", "must be a string")
    reason = unencodable_text_reason(value)
    if reason:
        raise PydanticCustomError("invalid", reason)
    return value


# An address as the shop has it: maybe a typo, checked only when it is chosen.
CandidateAddress = Annotated[str | None, BeforeValidator(_candidate_address)]


def first_mailable_address(*candidates: str | None) -> str | None:
    """The first candidate we could write to, normalised; None when none is."""
    for candidate in candidates:
        if not candidate or not candidate.strip():
            continue
        try:
            return read_email(candidate)
        except PydanticCustomError:
            continue  # a typo the shop accepted; another field may hold a good address
    return None
