"""Every 4xx of the API answers an RFC 9457 problem document and changes nothing."""

from __future__ import annotations

import http.client
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from surveys.db import db
from surveys.models import Customer, OutboxMessage, Purchase, PurchaseItem, Survey
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_user

GOOD = {"order_id": "A-1001", "customer": {"email": "ana@example.com"}}
KEYED_ENDPOINTS = [
    ("POST", "/api/v1/purchases"),
    ("GET", "/api/v1/cases"),
    ("GET", "/api/v1/cases/1"),
    ("GET", "/api/v1/responses"),
]


@pytest.fixture
def api_key(session):
    return make_api_key(session)


@pytest.fixture
def auth(session, api_key):
    session.commit()
    return {"Authorization": f"Bearer {api_key[1]}"}


def assert_problem(response, status: int) -> dict:
    """The response is a problem document for `status`; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data())
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    return body


def nothing_recorded(session) -> bool:
    return all(
        session.scalar(select(func.count()).select_from(model)) == 0
        for model in (Customer, Purchase, PurchaseItem, Survey, OutboxMessage)
    )


# --- 401 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", KEYED_ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer h2h_not-a-key", "Basic dXNlcjpwdw==", "Bearer", "h2h_raw-key-without-scheme"],
)
def test_missing_or_wrong_key_is_refused_with_401(client, session, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = client.open(path, method=method, json=GOOD, headers=headers)

    body = assert_problem(response, 401)
    assert body["title"] == "Unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert nothing_recorded(session)


def test_revoked_key_is_refused(client, session, api_key):
    key, raw = api_key
    key.revoked_at = TEST_START - timedelta(days=1)
    session.commit()

    response = client.post(
        "/api/v1/purchases", json=GOOD, headers={"Authorization": f"Bearer {raw}"}
    )

    assert_problem(response, 401)
    assert nothing_recorded(session)


def test_key_is_checked_before_the_body(client, session):
    response = client.post("/api/v1/purchases", data="not json", content_type="text/plain")

    assert_problem(response, 401)


# --- 415, 400, 413 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_body_not_sent_as_json_is_refused_with_415(client, session, auth, content_type):
    response = client.post(
        "/api/v1/purchases",
        data=json.dumps(GOOD),
        headers={**auth, **({"Content-Type": content_type} if content_type else {})},
    )

    assert_problem(response, 415)
    assert nothing_recorded(session)


def test_json_with_a_charset_parameter_is_accepted(client, session, auth):
    response = client.post(
        "/api/v1/purchases",
        data=json.dumps(GOOD),
        headers={**auth, "Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201
    assert session.scalars(select(Purchase.order_id)).all() == ["A-1001"]


@pytest.mark.parametrize(
    "raw", [b'{"order_id": ', b"", b"{'order_id': 'A-1'}", b"\xff\xfe{}", b"[" * 100_000]
)
def test_body_that_does_not_parse_is_refused_with_400(client, session, auth, raw):
    response = client.post(
        "/api/v1/purchases", data=raw, headers={**auth, "Content-Type": "application/json"}
    )

    body = assert_problem(response, 400)
    assert body["title"] == "Malformed JSON"
    assert nothing_recorded(session)


def _too_large_body() -> bytes:
    padding = "x" * (1024 * 1024)
    return json.dumps({**GOOD, "customer": {"email": "ana@example.com", "name": padding}}).encode()


def test_body_over_one_mebibyte_is_refused_with_413(client, session, auth):
    response = client.post(
        "/api/v1/purchases",
        data=_too_large_body(),
        headers={**auth, "Content-Type": "application/json"},
    )

    assert_problem(response, 413)
    assert nothing_recorded(session)


def _post_chunked(port: int, key: str, payload: bytes) -> tuple[int, str, dict]:
    """POST a body in chunks, with no Content-Length, as streaming clients do."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = (payload[i : i + 65536] for i in range(0, len(payload), 65536))
        connection.request(
            "POST",
            "/api/v1/purchases",
            body=chunks,
            encode_chunked=True,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Transfer-Encoding": "chunked",
            },
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        connection.close()


def test_chunked_body_over_one_mebibyte_is_refused_with_413_too(committed_app):
    # No Content-Length: the limit must hold while reading the stream, on a real server.
    with committed_app.app_context():
        session = db.session()
        _key, raw = make_api_key(session)
        session.commit()
    server = make_server("127.0.0.1", 0, committed_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        too_large = _post_chunked(server.server_port, raw, _too_large_body())
        with committed_app.app_context():
            nothing_after_the_large_one = nothing_recorded(db.session())
        small = _post_chunked(server.server_port, raw, json.dumps(GOOD).encode())
    finally:
        server.shutdown()
        thread.join(timeout=10)

    status, content_type, body = too_large
    assert (status, content_type, body["status"]) == (413, "application/problem+json", 413)
    assert nothing_after_the_large_one
    # A chunked body within the limit is read whole.
    assert small[0] == 201 and small[2]["order_id"] == "A-1001"


# --- 422 -------------------------------------------------------------------------------------

LONG = "x" * 129


@pytest.mark.parametrize(
    "change,field",
    [
        ({"order_id": None}, "order_id"),
        ({"order_id": "   "}, "order_id"),
        ({"order_id": 1001}, "order_id"),
        ({"order_id": LONG}, "order_id"),
        ({"customer": None}, "customer.email"),
        ({"customer": "ana@example.com"}, "customer"),
        ({"customer": {}}, "customer.email"),
        ({"customer": {"email": "not-an-address"}}, "customer.email"),
        ({"customer": {"email": "ana@@example.com"}}, "customer.email"),
        ({"customer": {"email": ["ana@example.com"]}}, "customer.email"),
        ({"customer": {"email": "ana@example.com", "name": "n" * 201}}, "customer.name"),
        (
            {"customer": {"email": "ana@example.com", "timezone": "Mars/Olympus"}},
            "customer.timezone",
        ),
        (
            {"customer": {"email": "ana@example.com", "timezone": "../../etc/passwd"}},
            "customer.timezone",
        ),
        ({"purchased_at": "yesterday"}, "purchased_at"),
        ({"purchased_at": "2026-11-22T10:00:00"}, "purchased_at"),
        ({"purchased_at": "2026-11-22"}, "purchased_at"),
        ({"purchased_at": "2026-02-30T10:00:00Z"}, "purchased_at"),
        ({"purchased_at": 1763805600}, "purchased_at"),
        ({"purchased_at": "2026-11-25T09:00:01Z"}, "purchased_at"),
        ({"total": "-1.00"}, "total"),
        ({"total": -1}, "total"),
        ({"total": "12.345"}, "total"),
        ({"total": "1e3"}, "total"),
        ({"total": "NaN"}, "total"),
        ({"total": "lots"}, "total"),
        ({"total": True}, "total"),
        ({"total": "1000000000000.00"}, "total"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "E1R"}, "currency"),
        ({"items": {"sku": "KB-1"}}, "items"),
        ({"items": ["KB-1"]}, "items.0"),
        ({"items": [{"sku": "KB-1", "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"sku": "KB-1"}, {"sku": "KB-2", "quantity": 1.5}]}, "items.1.quantity"),
        ({"items": [{"sku": "KB-1", "quantity": "2"}]}, "items.0.quantity"),
        ({"items": [{"sku": "KB-1", "unit_price": "-3"}]}, "items.0.unit_price"),
        ({"items": [{"sku": "s" * 129}]}, "items.0.sku"),
        ({"owner_email": "nobody@shop.test"}, "owner_email"),
        ({"owner_email": "not an address"}, "owner_email"),
    ],
)
def test_invalid_field_is_refused_with_422_naming_it(client, session, auth, clock, change, field):
    body = {**GOOD, **change}

    response = client.post("/api/v1/purchases", json=body, headers=auth)

    problem = assert_problem(response, 422)
    assert list(problem["errors"]) == [field]
    assert all(isinstance(message, str) and message for message in problem["errors"][field])
    assert nothing_recorded(session)


def test_every_bad_field_is_named_at_once(client, session, auth, clock):
    body = {
        "order_id": "",
        "customer": {"email": "nope", "timezone": "Nowhere/Town"},
        "total": "-5",
        "items": [{"quantity": -1}],
    }

    problem = assert_problem(client.post("/api/v1/purchases", json=body, headers=auth), 422)

    assert set(problem["errors"]) == {
        "order_id",
        "customer.email",
        "customer.timezone",
        "total",
        "items.0.quantity",
    }


def test_body_that_is_not_an_object_is_refused_with_422(client, session, auth):
    problem = assert_problem(client.post("/api/v1/purchases", json=[GOOD], headers=auth), 422)

    assert problem["errors"] == {"body": ["must be a JSON object"]}


def test_inactive_owner_is_not_an_owner(client, session, auth, clock):
    make_user(session, email="left@shop.test", active=False)
    session.commit()

    response = client.post(
        "/api/v1/purchases", json={**GOOD, "owner_email": "left@shop.test"}, headers=auth
    )

    # The service refuses it (PurchaseRejected), answered like any field that does not fit.
    assert assert_problem(response, 422) == {
        "type": "https://hearttoheart.dev/problems/validation-error",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "Some fields are not valid: owner_email.",
        "errors": {"owner_email": ["is not an active owner or admin"]},
    }
    assert nothing_recorded(session)


def test_unknown_fields_are_ignored(client, session, auth, clock):
    response = client.post(
        "/api/v1/purchases",
        headers=auth,
        json={**GOOD, "coupon": "XMAS", "customer": {"email": "ana@example.com", "vip": True}},
    )

    assert response.status_code == 201
    [purchase] = session.scalars(select(Purchase)).all()
    assert (purchase.order_id, purchase.customer.email) == ("A-1001", "ana@example.com")


# --- reads -----------------------------------------------------------------------------------


def test_unknown_case_is_404(client, auth):
    body = assert_problem(client.get("/api/v1/cases/999999", headers=auth), 404)

    assert body["detail"] == "There is no case 999999."


def test_unknown_api_path_and_wrong_method_are_problem_documents(client, auth):
    assert_problem(client.get("/api/v1/nothing-here", headers=auth), 404)
    assert_problem(client.get("/api/v1/purchases", headers=auth), 405)


@pytest.mark.parametrize(
    "path,field",
    [
        ("/api/v1/cases?status=pending", "status"),
        ("/api/v1/cases?limit=0", "limit"),
        ("/api/v1/cases?limit=101", "limit"),
        ("/api/v1/cases?limit=ten", "limit"),
        ("/api/v1/cases?cursor=not-a-cursor", "cursor"),
        ("/api/v1/responses?since=last-week", "since"),
        ("/api/v1/responses?since=2026-11-22", "since"),
        ("/api/v1/responses?cursor=%%%", "cursor"),
        ("/api/v1/responses?cursor=MjAyNi0xMS0yMlQxMDowMDowMHx4", "cursor"),
        ("/api/v1/responses?limit=-1", "limit"),
    ],
)
def test_bad_query_parameter_is_refused_with_422_naming_it(client, auth, path, field):
    problem = assert_problem(client.get(path, headers=auth), 422)

    assert list(problem["errors"]) == [field]
