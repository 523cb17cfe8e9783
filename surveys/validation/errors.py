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


def _message(error: dict) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} items"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}"
    if kind == "enum":
        return f"must be {ctx.get('expected')}"
    return error["msg"].removeprefix("Value error, ")


def field_errors(exc: ValidationError, *, prefix: str = "") -> dict[str, list[str]]:
    """Pydantic's errors by dotted field path (`items.0.quantity`), in our words."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        parts = [str(part) for part in error["loc"]]
        path = ".".join(([prefix] if prefix else []) + parts) or "body"
        message = _message(error)
        if message not in errors.setdefault(path, []):
            errors[path].append(message)
    return errors
