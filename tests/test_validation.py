"""The shared input types refuse, with a message, what no column or mail server could take."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from surveys.validation.addresses import EmailAddress, EmailToLookUp
from surveys.validation.codes import Currency, TimeZoneName
from surveys.validation.errors import field_errors
from surveys.validation.json_values import StorableJson, json_shape_problem
from surveys.validation.moments import OptionalTimestamp, read_unix_seconds
from surveys.validation.money import Money, RoundedMoney
from surveys.validation.numbers import WholeNumber
from surveys.validation.text import OptionalText, Text


class Line(BaseModel):
    quantity: WholeNumber(1, 10) = 1
    title: OptionalText(10, cut=True) = None


class Order(BaseModel):
    order_id: Text(12)
    note: OptionalText(50, multiline=True) = None
    email: EmailAddress
    at: OptionalTimestamp = None
    total: Money = None
    rounded: RoundedMoney = None
    currency: Currency = None
    timezone: TimeZoneName = None
    lines: list[Line] = []


def errors_of(data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        Order.model_validate(data)
    return field_errors(caught.value)


def test_a_good_order_is_read_trimmed_and_normalised():
    order = Order.model_validate(
        {
            "order_id": "  A-1 ",
            "note": "line one\nline two",
            "email": " Ana@Example.COM ",
            "at": "2026-11-22T11:00:00+01:00",
            "total": "12.5",
            "rounded": 0.125,
            "currency": "eur",
            "timezone": "Europe/Madrid",
            "lines": [{"quantity": 2, "title": "a very long product title"}],
        }
    )
    assert order.order_id == "A-1"
    assert order.email == "ana@example.com"
    assert order.at == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert order.total == Decimal("12.50")
    assert order.rounded == Decimal("0.13")
    assert order.currency == "EUR"
    assert order.lines[0].title == "a very lon"


def test_blank_optional_text_reads_as_absent_and_blank_required_text_is_refused():
    assert errors_of({"order_id": "   ", "email": "a@b.co"}) == {"order_id": ["is required"]}
    assert Order.model_validate({"order_id": "x", "email": "a@b.co", "note": " "}).note is None


@pytest.mark.parametrize(
    "value, message",
    [
        ("a\x00b", "must not contain NUL characters"),
        ("a\ud800b", "must be valid Unicode text (it contains a lone surrogate)"),
        ("a\nb", "must be a single line"),
        ("a\x1bb", "must be a single line"),
        ("x" * 13, "must be at most 12 characters"),
        (12, "must be a string"),
    ],
)
def test_text_that_cannot_be_stored_names_the_field(value, message):
    assert errors_of({"order_id": value, "email": "a@b.co"}) == {"order_id": [message]}


def test_multiline_text_keeps_line_breaks_but_refuses_other_control_characters():
    assert errors_of({"order_id": "x", "email": "a@b.co", "note": "a\x07"}) == {
        "note": ["must not contain control characters"]
    }


def test_an_unsendable_address_is_refused_and_an_international_domain_is_spelled_in_ascii():
    errors = errors_of({"order_id": "x", "email": "ñandú@example.com"})
    assert list(errors) == ["email"]
    assert "before the @-sign" in errors["email"][0]
    order = Order.model_validate({"order_id": "x", "email": "ana@bücher.de"})
    assert order.email == "ana@xn--bcher-kva.de"


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "1899-12-31T23:59:59Z",
        "2026-02-30T10:00:00Z",
        "2026-11-22 10:00",
        "yesterday",
    ],
)
def test_dates_outside_what_we_hold_are_refused(value):
    assert list(errors_of({"order_id": "x", "email": "a@b.co", "at": value})) == ["at"]


@pytest.mark.parametrize("value", ["-1", "1.234", "1e5", "NaN", True, "1" * 13, "9" * 400])
def test_amounts_our_columns_cannot_hold_are_refused(value):
    assert list(errors_of({"order_id": "x", "email": "a@b.co", "total": value})) == ["total"]


@pytest.mark.parametrize("value", ["Mars/Olympus", "x" * 300, "../../etc/passwd", "UTC\x00"])
def test_unknown_time_zones_are_refused(value):
    assert errors_of({"order_id": "x", "email": "a@b.co", "timezone": value}) == {
        "timezone": ["is not an IANA time zone (like Europe/Madrid)"]
    }


@pytest.mark.parametrize("value", [True, 0, 11, 10**200, -5, "2", 2.5, 1e300, float("inf")])
def test_whole_numbers_are_json_integers_within_their_bounds(value):
    errors = errors_of({"order_id": "x", "email": "a@b.co", "lines": [{"quantity": value}]})
    assert errors == {"lines.0.quantity": ["must be a whole number from 1 to 10"]}


def test_a_whole_number_written_with_a_point_zero_is_that_number():
    # JSON Schema's "integer" admits 2.0, and the OpenAPI description says "integer".
    order = Order.model_validate({"order_id": "x", "email": "a@b.co", "lines": [{"quantity": 2.0}]})
    assert order.lines[0].quantity == 2 and isinstance(order.lines[0].quantity, int)


def test_every_bad_field_is_named_by_its_dotted_path():
    errors = errors_of({"order_id": None, "lines": [{"quantity": 0}, "x"]})
    assert errors == {
        "order_id": ["is required"],
        "email": ["is required"],
        "lines.0.quantity": ["must be a whole number from 1 to 10"],
        "lines.1": ["must be an object"],
    }
    assert errors_of([1]) == {"body": ["must be an object"]}


def test_unix_seconds_past_the_accepted_years_are_refused():
    assert read_unix_seconds("1700000000") == datetime.fromtimestamp(1700000000, UTC)
    for value in (253402300799, -(10**30), "1e9", True):
        with pytest.raises(ValueError):
            read_unix_seconds(value)


class Kept(BaseModel):
    payload: StorableJson = None


def test_json_kept_as_it_came_refuses_only_what_no_json_column_holds():
    fine = {"reason": "550\tno such user\x1b", "tags": ["a", 1, None, 1e308, {"b": True}]}
    assert Kept.model_validate({"payload": fine}).payload == fine
    for bad in ({"a\x00": 1}, ["ok", {"deep": "\ud800"}], float("nan"), [float("inf")]):
        with pytest.raises(ValidationError) as caught:
            Kept.model_validate({"payload": bad})
        assert list(field_errors(caught.value)) == ["payload"]


def test_json_nested_deeper_than_the_limit_is_named_without_recursion():
    deep: object = 1
    for _ in range(5_000):  # far past Python's recursion limit
        deep = [deep]
    assert json_shape_problem(deep) == "is nested more than 32 levels deep"
    shallow: object = 1
    for _ in range(32):
        shallow = {"a": shallow}
    assert json_shape_problem(shallow) is None
    assert json_shape_problem({"a": shallow}) == "is nested more than 32 levels deep"


class Described(BaseModel):
    name: Text(10)
    note: OptionalText(50, multiline=True) = None
    at: OptionalTimestamp = None
    timezone: TimeZoneName = None


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "Ana"),
        ("name", " Ana\t"),
        ("name", " "),
        ("name", "Ana\nDiaz"),
        ("name", "Ana\x00"),
        ("name", "\x1b[31m"),
        ("note", "line one\r\nline two"),
        ("note", "a\x07"),
        ("at", "2026-11-22T10:00:00Z"),
        ("at", "2026-11-22t10:00:00.123456789+05:30"),
        ("at", "1901-01-01T00:00:00+23:59"),
        ("at", "8998-12-31T23:59:59-23:59"),
        ("at", "1900-01-01T00:30:00+01:00"),
        ("at", "9999-12-31T23:59:59-01:00"),
        ("at", "2026-11-22"),
        ("timezone", "Europe/Madrid"),
        ("timezone", "Mars/Olympus"),
    ],
)
def test_what_the_json_schema_accepts_the_reader_accepts(field, value):
    # The OpenAPI description is made from these schemas: a value it calls valid must be
    # taken (it may call a few more invalid than the reader refuses, never fewer).
    schema = Described.model_json_schema()["properties"][field]
    described_valid = Draft202012Validator(schema).is_valid(value)
    try:
        Described.model_validate({"name": "Ana", field: value})
        read = True
    except ValidationError:
        read = False
    assert not described_valid or read, (field, value)
    assert described_valid or not read or field == "at", (field, value)


def test_time_zones_are_the_databases_own_names_and_the_schema_lists_them():
    schema = Described.model_json_schema()["properties"]["timezone"]
    assert "Europe/Madrid" in schema["enum"] and None in schema["enum"]
    for name in ("right/UTC", "posixrules", "Europe"):
        with pytest.raises(ValidationError):
            Described.model_validate({"name": "Ana", "timezone": name})


class Lookup(BaseModel):
    owner: EmailToLookUp


@pytest.mark.parametrize(
    "value, read",
    [
        (" Olivia@Shop.TEST ", "olivia@shop.test"),
        ("ops@intranet.local", "ops@intranet.local"),
        ("olivia", None),
        ("olivia@", None),
        ("olivia\x00@shop.test", None),
        ("a@b\nBcc: x@y", None),
        ("", None),
    ],
)
def test_an_address_to_look_someone_up_by_needs_only_its_shape(value, read):
    if read is None:
        with pytest.raises(ValidationError):
            Lookup.model_validate({"owner": value})
    else:
        assert Lookup.model_validate({"owner": value}).owner == read


def test_a_json_number_is_read_to_the_nearest_cent_and_a_string_must_be_exact():
    base = {"order_id": "x", "email": "a@b.co"}
    assert Order.model_validate({**base, "total": 0.1 + 0.2}).total == Decimal("0.30")
    assert Order.model_validate({**base, "total": 35 * 0.01}).total == Decimal("0.35")
    assert errors_of({**base, "total": "0.305"}) == {
        "total": ["must have at most 2 decimal places"]
    }
