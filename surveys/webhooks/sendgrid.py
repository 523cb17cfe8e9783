"""SendGrid's signed Event Webhook: checking its signature, reading its batch of events.

SendGrid signs the timestamp header followed by the raw body with ECDSA
(P-256, SHA-256); `SENDGRID_WEBHOOK_PUBLIC_KEY` is the verification key its
settings page shows. A batch is a JSON array of events, each with at least
`event`, `email`, `timestamp` (Unix seconds) and `sg_event_id`; the
`custom_args` we put on each message (`survey_id`, `message_id`) come back as
top-level fields of its events. Each event is kept whole, as it came, so every
field of it must be something a JSON column can hold.
"""

from __future__ import annotations

import binascii
import functools
import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sendgrid.helpers.eventwebhook import EventWebhook

from surveys.errors import ApiProblem
from surveys.services.email_events import EmailEventInput
from surveys.validation.addresses import MAX_EMAIL_LENGTH
from surveys.validation.errors import field_errors
from surveys.validation.json_values import StorableJson
from surveys.validation.moments import read_unix_seconds
from surveys.validation.numbers import MAX_DATABASE_ID
from surveys.validation.text import OptionalText, Text, unencodable_text_reason
from surveys.webhooks.payloads import InvalidPayload, InvalidSignature

log = logging.getLogger(__name__)

# A signed request older than this is refused: a captured one cannot be replayed later.
TOLERANCE = timedelta(minutes=10)


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


def _event_moment(value: Any) -> Any:
    # SendGrid writes whole seconds; a float of them is read too, rounded down.
    if isinstance(value, float) and math.isfinite(value) and abs(value) < 1e15:
        value = math.floor(value)
    return read_unix_seconds(value)


def _text_id(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _our_id(value: Any) -> int | None:
    """An id from our custom_args; anything else (another sender's args) names nothing."""
    if isinstance(value, str):
        reason = unencodable_text_reason(value)
        if reason:
            raise _problem(reason)
        value = value.strip()
        value = int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= MAX_DATABASE_ID else None


OurId = Annotated[int | None, BeforeValidator(_our_id)]


class SendGridEvent(BaseModel):
    """One event of a batch; fields we do not read are kept in `payload` as they came."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, StorableJson]

    event: Text(32, cut=True)
    email: Text(MAX_EMAIL_LENGTH)
    timestamp: Annotated[datetime, BeforeValidator(_event_moment)]
    sg_event_id: Annotated[OptionalText(100, cut=True), BeforeValidator(_text_id)] = None
    survey_id: OurId = None
    message_id: OurId = None

    @model_validator(mode="before")
    @classmethod
    def _storable_field_names(cls, data: Any) -> Any:
        for name in data if isinstance(data, dict) else ():
            reason = unencodable_text_reason(name)
            if reason:
                raise _problem(f"field names {reason}")
        return data


_BATCH = TypeAdapter(list[SendGridEvent])


def events_from_batch(batch: object) -> list[EmailEventInput]:
    """The batch's events, or 400 when it is not a list and InvalidPayload naming each field."""
    if not isinstance(batch, list):
        raise ApiProblem(400, "Not a list of events", "The body must be a JSON array of events.")
    try:
        events = _BATCH.validate_python(batch)
    except ValidationError as exc:
        raise InvalidPayload(field_errors(exc)) from None
    return [
        EmailEventInput(
            sg_event_id=event.sg_event_id,
            event=event.event,
            email=event.email.lower(),
            occurred_at=event.timestamp,
            survey_id=event.survey_id,
            message_id=event.message_id,
            payload=item,
        )
        for event, item in zip(events, batch, strict=True)
    ]


def verify_signature(
    raw: bytes,
    *,
    signature: str | None,
    timestamp: str | None,
    public_key: EllipticCurvePublicKey,
    now: datetime,
) -> None:
    """Raise InvalidSignature unless SendGrid signed `timestamp + body` recently."""
    if not signature or not timestamp:
        raise InvalidSignature(
            "Unsigned request", "The SendGrid signature and timestamp headers are required."
        )
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidSignature("Invalid signature", "The timestamp is not a Unix time.") from None
    if abs(now - signed_at) > TOLERANCE:
        raise InvalidSignature(
            "Stale request", "The signature is more than 10 minutes away from our clock."
        )
    try:
        valid = EventWebhook().verify_signature(
            raw.decode("utf-8"), signature, timestamp, public_key=public_key
        )
    except (UnicodeDecodeError, binascii.Error, ValueError):
        valid = False
    if not valid:
        raise InvalidSignature(
            "Invalid signature", "The signature does not match the body and timestamp."
        )


@functools.lru_cache(maxsize=4)
def public_key(key_text: str) -> EllipticCurvePublicKey:
    """The configured key (SendGrid's base64, with or without the PEM lines), parsed once."""
    body = "".join(line for line in key_text.strip().splitlines() if "-----" not in line)
    try:
        return EventWebhook().convert_public_key_to_ecdsa(body)
    except ValueError as exc:
        # A configuration mistake: 500, so SendGrid keeps retrying until it is fixed.
        log.error("SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid public key: %s", exc)
        raise
