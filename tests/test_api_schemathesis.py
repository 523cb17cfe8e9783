"""Schemathesis drives every operation of /api/v1/openapi.json through the app (WSGI, no network).

For each operation it generates requests from the document itself: valid ones
(positive) and ones that break it (negative: wrong types, NUL bytes, missing fields…).
Whatever it sends, the API never answers 5xx and every answer fits what the document
says of it; a request the document calls valid is never refused. On both databases,
with a bounded, derandomized number of examples so the suite stays quick and stable.

A few rules cannot be written in JSON Schema; the document states them in words and
`fit_rules_no_schema_states` bends the generated requests to them (an owner that
exists, a purchase not dated in the future, distinct question keys…), so anything
else the API refuses is a failure.
"""

from __future__ import annotations

import calendar
from datetime import datetime

import email_validator
import pytest
import schemathesis
from babel import localedata
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks
from sqlalchemy import select

from surveys.models import Case, User
from surveys.validation.languages import language_or_none
from surveys.validation.moments import parse_rfc3339
from surveys.validation.numbers import as_whole_number
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_case, make_customer, make_user

EXAMPLES_PER_OPERATION = 20
OWNERS = ("olivia@shop.test", "ben@shop.test")
CUSTOMER = "ana@example.com"
# What each kind of generated request must get.
CHECKS = {
    GenerationMode.POSITIVE: [
        openapi_checks.positive_data_acceptance,
        openapi_checks.response_schema_conformance,
        openapi_checks.status_code_conformance,
        openapi_checks.content_type_conformance,
    ],
    GenerationMode.NEGATIVE: [
        openapi_checks.response_schema_conformance,
        openapi_checks.status_code_conformance,
        openapi_checks.content_type_conformance,
    ],
}


@pytest.fixture
def api(app, session, clock):
    """The loaded document, a key, two owners and a case owned by the first."""
    _key, raw = make_api_key(session)
    olivia = make_user(session, email=OWNERS[0], name="Olivia")
    make_user(session, email=OWNERS[1], name="Ben")
    customer = make_customer(session, email=CUSTOMER)
    case = make_case(session, owner=olivia, customer=customer, now=TEST_START)
    session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return schema, {"Authorization": f"Bearer {raw}"}, case.id


def _moment_not_after(value, latest: datetime):
    moment = parse_rfc3339(value)
    if moment is not None and moment > latest:
        return latest.isoformat().replace("+00:00", "Z")
    return value


def _outside_special_use(address: str) -> str:
    """The address, moved off a special-use domain (x@a.arpa, x@b.test), which we refuse.

    JSON Schema's "email" format allows them; the list is RFC 6761's, as email-validator keeps it.
    """
    local, _, domain = address.rpartition("@")
    if domain.rsplit(".", 1)[-1].lower() in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        return f"{local}@shop.example.com"
    return address


def fit_rules_no_schema_states(case, session, case_id: int) -> None:
    """Bend a generated request to the rules the document states only in words."""
    operation = f"{case.method.upper()} {case.operation.path}"
    body = case.body if isinstance(case.body, dict) else None
    if case.path_parameters and "case_id" in case.path_parameters:
        # Ids past 2**31 are the URL converter's to refuse (404); here, the one case there is.
        case.path_parameters["case_id"] = case_id
    if case.path_parameters and "customer_id" in case.path_parameters:
        # The customer there is (the one of the case); an unknown one answers 404.
        case.path_parameters["customer_id"] = session.scalar(
            select(Case.customer_id).where(Case.id == case_id)
        )
    if body is None:
        return
    if operation == "POST /api/v1/purchases":
        customer = body.get("customer")
        if isinstance(customer, dict) and isinstance(customer.get("email"), str):
            customer["email"] = _outside_special_use(customer["email"])
        if isinstance(customer, dict) and isinstance(customer.get("locale"), str):
            # A tag Babel knows (the document says so in words; generated text rarely is one).
            customer["locale"] = KNOWN_LANGUAGES[len(customer["locale"]) % len(KNOWN_LANGUAGES)]
        if body.get("owner_email") is not None:
            body["owner_email"] = OWNERS[0]  # an existing owner
        if "purchased_at" in body:  # at most a day ahead
            body["purchased_at"] = _moment_not_after(body["purchased_at"], TEST_START)
    elif operation == "POST /api/v1/touchpoints":
        body["customer_email"] = CUSTOMER  # a customer we know
        if "occurred_at" in body:  # not in the future
            body["occurred_at"] = _moment_not_after(body["occurred_at"], TEST_START)
    elif operation == "POST /api/v1/customers/{customer_id}/dates":
        _fit_day_to_month(body)
    elif operation == "POST /api/v1/cases/{case_id}/reassign":
        current = session.scalar(
            select(User.email).join(Case, Case.owner_id == User.id).where(Case.id == case_id)
        )
        body["owner_email"] = OWNERS[1] if current == OWNERS[0] else OWNERS[0]  # not the owner
    elif operation == "PUT /api/v1/question-sets/{key}":
        if body.get("key") is not None:  # the address's key
            body["key"] = case.path_parameters["key"]
        if isinstance(body.get("questions"), list):
            _fit_questions(body["questions"])


def _fit_day_to_month(body: dict) -> None:
    """A day the month has (30 April, 29 February only in a leap year, or with no year)."""
    day, month, year = (as_whole_number(body.get(name)) for name in ("day", "month", "year"))
    if day is None or month is None or not 1 <= month <= 12:
        return
    longest = calendar.monthrange(year if year and 1 <= year <= 9999 else 2000, month)[1]
    body["day"] = min(day, longest)


def _known_languages() -> list[str]:
    """Language codes Babel knows (the document asks for those, in words), enough for any map."""
    known = []
    for identifier in sorted(localedata.locale_identifiers()):
        tag = language_or_none(identifier)
        if tag is not None and tag not in known:
            known.append(tag)
    return known


KNOWN_LANGUAGES = _known_languages()


def _in_known_languages(texts):
    """The same texts, each under a language Babel knows (generated codes rarely are one)."""
    if not isinstance(texts, dict):
        return texts
    return dict(zip(KNOWN_LANGUAGES, texts.values(), strict=False))


def _fit_questions(questions: list) -> None:
    """Distinct keys and option values; rules that name options; scales of 2 to 11 points;
    translations and word lists under languages Babel knows."""
    keys: set[str] = set()
    for index, question in enumerate(questions):
        if not isinstance(question, dict):
            continue
        question["translations"] = _in_known_languages(question.get("translations"))
        if question["translations"] is None:
            del question["translations"]
        for option in question.get("options") or ():
            if isinstance(option, dict) and "translations" in option:
                option["translations"] = _in_known_languages(option["translations"])
        rule = question.get("negative")
        if isinstance(rule, dict) and isinstance(rule.get("words"), dict):
            rule["words"] = _in_known_languages(rule["words"])
        if question.get("key") in keys:
            question["key"] = f"q{index}_{question.get('key') or ''}"[:64]
        keys.add(question.get("key"))
        if question.get("type") == "choice":
            seen: set[str] = set()
            for number, option in enumerate(question.get("options") or ()):
                if option.get("value") in seen:
                    option["value"] = f"{number}{option['value']}"[:64]
                seen.add(option.get("value"))
            rule = question.get("negative")
            if isinstance(rule, dict) and isinstance(rule.get("values"), list):
                values = [value for value in rule["values"] if value in seen][: len(seen) - 1]
                question["negative"] = {"values": values} if values else None
        elif question.get("type") == "scale" and all(
            isinstance(question.get(end), int | float) for end in ("min", "max")
        ):
            # Negative mode may leave an end out or make it text: the API's to refuse as it is.
            low = min(question["min"], 99)
            high = max(low + 1, min(question["max"], low + 10))
            question["min"], question["max"] = low, high
            rule = question.get("negative")
            if isinstance(rule, dict) and isinstance(rule.get("at_most"), int):
                rule["at_most"] = max(low, min(rule["at_most"], high - 1))


def _still_valid(case, document: dict) -> bool:
    """Whether the bent body still fits its schema (else it would not test acceptance)."""
    body_schema = (
        document["paths"][case.operation.path][case.method.lower()]
        .get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema")
    )
    if body_schema is None or case.body is None or not isinstance(case.body, dict):
        return True
    schema = {**body_schema, "components": document["components"]}
    return Draft202012Validator(schema).is_valid(case.body)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_keeps_to_the_openapi_document(api, client, session, mode):
    schema, auth, case_id = api
    # The document describes the JSON itself; compression (which real HTTP clients undo, and
    # the in-process client does not) is asked for elsewhere (tests/test_light_pages.py).
    auth = {**auth, "Accept-Encoding": "identity"}
    document = client.get("/api/v1/openapi.json").get_json()
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(generated=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(generated):
            fit_rules_no_schema_states(generated, session, case_id)
            if mode is GenerationMode.POSITIVE:
                assert _still_valid(generated, document), generated.body
            response = generated.call(headers=auth)
            assert response.status_code < 500, response.text
            generated.validate_response(response, checks=CHECKS[mode], headers=auth)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # each operation's, then one report
            failures.append(f"{operation.label}:\n{exc}")
    assert not failures, "\n\n".join(failures)


def test_a_wrong_method_answers_405_with_allow(client):
    response = client.delete("/api/v1/purchases")

    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}
