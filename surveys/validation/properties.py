"""Custom properties of a purchase ({"plan": "gold", "store": "Madrid"}): names and values as text.

The same rules at every door (`POST /api/v1/purchases`, Delighted's `POST /v1/people`, the
history import): at most 50 properties, names of at most 64 characters on one line, values of
at most 500 characters, strings only, nothing a database cannot store (NUL, lone surrogates).
A bad property is named by its path, `properties.<name>`, like any other field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, TypeAdapter, ValidationError, WithJsonSchema

from surveys.validation.errors import field_errors, problem
from surveys.validation.text import text_pattern, unstorable_text_reason

MAX_PROPERTIES = 50
MAX_PROPERTY_NAME = 64
MAX_PROPERTY_VALUE = 500


def _read_name(value: Any) -> str:
    if not isinstance(value, str):
        raise problem("is a property name that is not a string")
    reason = unstorable_text_reason(value, multiline=False)
    if reason:
        raise problem(f"is a property name that {reason}")
    value = value.strip()
    if not value:
        raise problem("is a blank property name")
    if len(value) > MAX_PROPERTY_NAME:
        raise problem(f"is a property name of more than {MAX_PROPERTY_NAME} characters")
    return value


def _read_value(value: Any) -> str:
    if not isinstance(value, str):
        raise problem("must be a string")
    reason = unstorable_text_reason(value, multiline=True)
    if reason:
        raise problem(reason)
    value = value.strip()
    if len(value) > MAX_PROPERTY_VALUE:
        raise problem(f"must be at most {MAX_PROPERTY_VALUE} characters")
    return value


def _object_of_few(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise problem("must be an object of names and text values")
    if len(value) > MAX_PROPERTIES:
        raise problem(f"must have at most {MAX_PROPERTIES} properties")
    return value


PropertyName = Annotated[str, BeforeValidator(_read_name)]
PropertyValue = Annotated[str, BeforeValidator(_read_value)]

PROPERTIES_SCHEMA = {
    "type": ["object", "null"],
    "maxProperties": MAX_PROPERTIES,
    "propertyNames": {
        "maxLength": MAX_PROPERTY_NAME,
        "pattern": text_pattern(multiline=False, required=True),
    },
    "additionalProperties": {
        "type": "string",
        "maxLength": MAX_PROPERTY_VALUE,
        "pattern": text_pattern(multiline=True, required=False),
    },
    "description": f"Anything else about the purchase, as text: at most {MAX_PROPERTIES} "
    f"properties, names of at most {MAX_PROPERTY_NAME} characters on one line, values of "
    f"at most {MAX_PROPERTY_VALUE} characters; no NUL or other control characters (line "
    "breaks only in values), no lone surrogates. Shown to owners, usable "
    "in routing rules and dashboard filters, exported with the responses.",
}

# An optional `properties` field of a request model.
Properties = Annotated[
    dict[PropertyName, PropertyValue] | None,
    BeforeValidator(_object_of_few),
    WithJsonSchema(PROPERTIES_SCHEMA),
]

_adapter: TypeAdapter = TypeAdapter(Properties)


def check_properties(
    value: object, *, field: str = "properties"
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The properties cleaned (names and values trimmed), or {} and every bad one by path."""
    try:
        return dict(_adapter.validate_python(value) or {}), {}
    except ValidationError as exc:
        return {}, field_errors(exc, prefix=field)
