"""JSON kept as it came (a webhook's whole event, echoed properties), when it can be stored and
written back."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from surveys.validation.errors import problem
from surveys.validation.text import unencodable_text_reason

# No body we read nests deeper than a few levels; far deeper ones only cost stack and time.
MAX_JSON_DEPTH = 32


def json_shape_problem(value: object, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a parsed JSON document cannot be read or written back, or None when it can.

    Python's json module reads NaN and Infinity, which no JSON column (nor JSON
    itself) takes back, and nesting deep enough to exhaust the stack when the
    document is written out again. Walked without recursion, so depth cannot hurt here.
    """
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return f"is nested more than {max_depth} levels deep"
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
        elif isinstance(item, float) and not math.isfinite(item):
            return "must not contain NaN or Infinity"
    return None


def read_storable_json(value: Any) -> Any:
    """Any JSON value a JSON column can hold as it is: every key and string encodable."""
    reason = json_shape_problem(value)
    if reason:
        raise problem(reason)
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            reason = unencodable_text_reason(item)
            if reason:
                raise problem(reason)
    return value


# Extra fields kept verbatim (a webhook's whole event, Delighted's echoed properties).
StorableJson = Annotated[Any, BeforeValidator(read_storable_json), WithJsonSchema({})]
