"""Refusing a value in words, and pydantic's errors by field path in the same words.

`field_errors` turns pydantic's ValidationError into `{"dotted.path": [message, …]}`,
the shape every 422 of this service names its fields with (`items.0.quantity`).
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import PydanticCustomError


def problem(message: str) -> PydanticCustomError:
    # The message is shown as it is: our messages read as the end of "<field> …".
    return PydanticCustomError("invalid", message)


_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "extra_forbidden": "is not a field we know",
    "recursion_loop": "is nested too deeply",
}


# Messages that name the limit pydantic reports in the error's context.
_MESSAGES_WITH_LIMITS = {
    "too_long": "must have at most {max_length} items",
    "too_short": "must have at least {min_length} items",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "literal_error": "must be {expected}",
    "enum": "must be {expected}",
}


# pydantic's last step of the path to a dict key that failed (rather than its value).
KEY_MARKER = "[key]"


class _Context(dict):
    def __missing__(self, key: str) -> None:
        return None


def _message(error: dict) -> str:
    kind = error["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in _MESSAGES_WITH_LIMITS:
        return _MESSAGES_WITH_LIMITS[kind].format_map(_Context(error.get("ctx") or {}))
    return error["msg"].removeprefix("Value error, ")


def field_errors(exc: ValidationError, *, prefix: str = "") -> dict[str, list[str]]:
    """Pydantic's errors by dotted field path (`items.0.quantity`), in our words."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        parts = [str(part) for part in error["loc"]]
        if parts and parts[-1] == KEY_MARKER:
            parts.pop()  # a bad key of an object is named as the key itself: `properties.colour`
        path = ".".join(([prefix] if prefix else []) + parts) or "body"
        message = _message(error)
        if message not in errors.setdefault(path, []):
            errors[path].append(message)
    return errors
