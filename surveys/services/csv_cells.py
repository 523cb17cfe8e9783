"""What a cell of a CSV export holds, each rule written twice: in Python, and in SQL for the
responses export that PostgreSQL writes itself (services/exports_postgresql.py).

Side by side, so a change to one is made to the other; tests/test_export_in_postgresql.py
holds the two to the same bytes on awkward values.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Numeric, String, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection);
# answers and order ids come from outside, so such cells are written as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What makes Python's csv writer (the "excel" dialect) quote a field.
QUOTED_IF_HOLDING = (",", '"', "\r", "\n")
THOUSANDTH = Decimal("0.001")

Cell = str | int | float | bool | None


def csv_cell(value: Cell) -> Cell:
    """A value as a spreadsheet should show it, never as a formula it would run."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_field_sql(text):
    """csv_cell's rule for text, then the csv writer's quoting, in SQL; NULL is ''.

    Whether to quote is read from the value itself: the ' put before a formula is
    none of the characters that call for quotes.
    """
    # The first character's code point: an integer comparison, the cheapest test there is.
    prefix = case((func.ascii(text).in_([ord(start) for start in FORMULA_STARTS]), "'"), else_="")
    needs_quotes = text.op("~")(literal("[" + "".join(QUOTED_IF_HOLDING) + "]"))
    return case(
        (needs_quotes, func.concat('"', prefix, func.replace(text, '"', '""'), '"')),
        else_=func.concat(prefix, text),
    )


def mean_sentiment(tones: list[float]) -> float | None:
    """The mean of a response's written answers' tones (in question order), to 3 places.

    Rounded half away from zero at the mean's shortest decimal form (0.1235 is 0.124),
    as PostgreSQL's numeric round does; written as Python writes a float ("0.2", "1.0").
    """
    if not tones:
        return None
    mean = sum(tones) / len(tones)
    return float(Decimal(repr(mean)).quantize(THOUSANDTH, ROUND_HALF_UP)) + 0.0  # no "-0.0"


def mean_sentiment_sql(mean):
    """mean_sentiment's rounding and writing, in SQL, of avg(tone ORDER BY position); NULL is ''.

    float8 to text is its shortest exact form (extra_float_digits = 1, set by the export).
    """
    rounded = func.trim_scale(func.round(cast(cast(mean, String), Numeric()), 3))
    written = cast(rounded, String)
    return func.coalesce(
        case((func.scale(rounded) == 0, func.concat(written, ".0")), else_=written), ""
    )


def net_score_group(value: str | None) -> str | None:
    """The 0–10 answer's group: "promoter" (9–10), "passive" (7–8) or "detractor" (0–6)."""
    try:
        score = int(value)
    except (TypeError, ValueError):
        return None
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


def net_score_group_sql(value):
    """net_score_group in SQL for what int() reads in ASCII ("7", " 7 ", "+7", "07"); else ''.

    (int() also reads "1_0" and other scripts' digits; the survey form stores only "0"
    to "10", exactly as str(int(value)) writes them, and those are looked up directly.)
    """
    stored = {str(score): net_score_group(str(score)) for score in range(11)}
    whole = value.op("~")(literal(r"^[ \t\n\r\f\v]*[+-]?[0-9]+[ \t\n\r\f\v]*$"))
    score = cast(case((whole, value)), Numeric())
    return case(
        *((value == text, group) for text, group in stored.items()),
        (score >= 9, "promoter"),
        (score >= 7, "passive"),
        (score.is_not(None), "detractor"),
        else_="",
    )


def properties_text(properties: dict[str, str] | None) -> str | None:
    """A purchase's properties as one JSON object: names sorted by code point, compact, text
    as written (no \\u escapes beyond JSON's own); None when there are none."""
    if not properties:
        return None
    return json.dumps(properties, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def properties_cell_sql(properties):
    """csv_field_sql(properties_text) in SQL over the stored JSON column; '' when there are none.

    to_json(text) escapes as json.dumps(ensure_ascii=False) does (quote, backslash, the
    control characters); names sort by code point, as UTF-8 bytes under "C" do. The field's
    rule is applied inside the subquery (its aggregate is computed once however often the rule
    names it), so each purchase's properties are read once, and not at all when there are none
    (most purchases: no subquery to start for them).
    """
    entry = func.json_each_text(properties).table_valued("key", "value").alias("entry")
    pair = func.concat(
        cast(func.to_json(entry.c.key), String), ":", cast(func.to_json(entry.c.value), String)
    )
    joined = func.string_agg(pair, aggregate_order_by(literal(","), entry.c.key.collate("C")))
    cell = (
        select(csv_field_sql(func.concat("{", joined, "}")))
        .select_from(entry)
        .having(func.count() > 0)
        .scalar_subquery()
    )
    none = properties.is_(None) | (cast(properties, String) == "{}")
    return case((none, ""), else_=func.coalesce(cell, ""))


def timestamp(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC, as the API writes it; spreadsheets read it as a date."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def timestamp_sql(moment):
    """timestamp in SQL: microseconds only when there are some, as isoformat writes them."""
    written = func.to_char(func.timezone("UTC", moment), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    return func.replace(written, ".000000Z", "Z")
