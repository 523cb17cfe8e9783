"""Text any door takes: storable (no NUL, no lone surrogate, no control characters), of a
bounded length."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from surveys.validation.errors import problem


def unstorable_text_reason(value: str, *, multiline: bool = True) -> str | None:
    """Why this text cannot be stored or sent as it is, or None when it can.

    Shared with the forms, which re-show themselves with the same message.
    """
    reason = unencodable_text_reason(value)
    if reason:
        return reason
    allowed = "\n\r\t" if multiline else "\t"
    if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
        return "must not contain control characters" if multiline else "must be a single line"
    return None


def unencodable_text_reason(value: str) -> str | None:
    """Why no database column (or UTF-8 at all) can hold this text, or None when one can.

    Narrower than unstorable_text_reason: for text kept as it came (a provider's
    JSON), where control characters are the sender's business.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it contains a lone surrogate)"
    return None


def _text_reader(max_length: int, *, required: bool, multiline: bool, cut: bool):
    def read(value: Any) -> str | None:
        if value is None:
            if required:
                raise problem("is required")
            return None
        if not isinstance(value, str):
            raise problem("must be a string")
        reason = unstorable_text_reason(value, multiline=multiline)
        if reason:
            raise problem(reason)
        value = value.strip()
        if not value:
            if required:
                raise problem("is required")
            return None  # blank counts as absent
        if len(value) > max_length:
            if not cut:
                raise problem(f"must be at most {max_length} characters")
            value = value[:max_length].rstrip()
        return value

    return read


# The same rules as unstorable_text_reason, for the OpenAPI description: no control
# characters (line breaks only in multi-line text) and, for required text, one character
# that is not a space. Lone surrogates cannot be written in a pattern; the description says it.
_CONTROL = r"\x00-\x08\x0a-\x1f\x7f-\x9f"
_MULTILINE_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_TEXT_DESCRIPTION = "No NUL or other control characters, no lone surrogates."


def text_pattern(*, multiline: bool, required: bool) -> str:
    """The JSON Schema pattern of the text Text and OptionalText accept."""
    control = _MULTILINE_CONTROL if multiline else _CONTROL
    if not required:
        return f"^[^{control}]*$"
    return f"^[^{control}]*[^\\s{control}][^{control}]*$"


def _text_schema(max_length: int, *, multiline: bool, required: bool, cut: bool) -> dict:
    schema: dict = {"type": "string"} if required else {"type": ["string", "null"]}
    if required:
        schema["minLength"] = 1
    if not cut:
        schema["maxLength"] = max_length
    schema["pattern"] = text_pattern(multiline=multiline, required=required)
    schema["description"] = _TEXT_DESCRIPTION + ("" if multiline else " One line.")
    return schema


def Text(max_length: int, *, multiline: bool = False, cut: bool = False) -> Any:  # noqa: N802
    """A required string, trimmed, not blank, at most `max_length` characters.

    `multiline` allows line breaks (answers, notes); otherwise it is one line (names,
    ids, anything that may end up in a mail header). `cut` shortens an over-long value
    instead of refusing it (a provider would only send the same long title again).
    """
    schema = _text_schema(max_length, multiline=multiline, required=True, cut=cut)
    reader = _text_reader(max_length, required=True, multiline=multiline, cut=cut)
    return Annotated[str, BeforeValidator(reader), WithJsonSchema(schema)]


def OptionalText(max_length: int, *, multiline: bool = False, cut: bool = False) -> Any:  # noqa: N802
    """Like Text, but absent, null and blank all read as None."""
    schema = _text_schema(max_length, multiline=multiline, required=False, cut=cut)
    reader = _text_reader(max_length, required=False, multiline=multiline, cut=cut)
    return Annotated[str | None, BeforeValidator(reader), WithJsonSchema(schema)]
