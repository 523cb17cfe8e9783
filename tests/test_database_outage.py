"""PostgreSQL cut off by a TCP relay (never stopped): 503 and Retry-After, then recovery.

The app reaches its database only through `tests.tcp_relay.TcpRelay`. While
the relay refuses connections, every kind of client gets 503 with
`Retry-After`: the API, the Delighted endpoints and webhooks a problem
document, people a page. Once it listens again, the same requests succeed
with no restart. A request whose COMMIT never reached the server leaves
nothing behind.
"""

from __future__ import annotations

import base64
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from surveys.db import db
from surveys.errors import DATABASE_RETRY_AFTER_SECONDS
from surveys.models import Customer, OutboxMessage, Purchase
from tests.conftest import make_test_app
from tests.factories import make_api_key, make_customer, make_sent_survey, make_user
from tests.fake_sendgrid import Reply
from tests.tcp_relay import TcpRelay
from tests.test_webhooks_shopify import ORDER, SECRET, delivery
from tests.test_worker_processes import insert_due_surveys, rows, start_worker
from tests.web import csrf_token, log_in

pytestmark = pytest.mark.postgresql

POSTGRES = ("127.0.0.1", 5432)


@pytest.fixture
def relay():
    relay = TcpRelay(POSTGRES).start()
    yield relay
    relay.close()


@pytest.fixture
def database_url(template_database) -> str:
    return template_database.copy()


@pytest.fixture
def cut_off_app(database_url, relay, tmp_path):
    """An app on a database of its own that it reaches through the relay."""
    app = make_test_app(
        relay.url_for(database_url), tmp_path / "instance", SHOPIFY_WEBHOOK_SECRET=SECRET
    )
    yield app
    app.extensions["db"]["engine"].dispose()


@pytest.fixture
def direct_app(database_url, tmp_path):
    """The same database, reached directly: what the test does behind the relay's back."""
    app = make_test_app(database_url, tmp_path / "direct")
    yield app
    app.extensions["db"]["engine"].dispose()


@pytest.fixture
def known(cut_off_app):
    """An API key, an owner and a survey link, committed while the database is there."""
    with cut_off_app.app_context():
        session = db.session()
        _key, raw_key = make_api_key(session)
        owner = make_user(session, role="owner")
        customer = make_customer(session, owner=owner)
        _survey, token = make_sent_survey(session, customer)
        session.commit()
        return {"key": raw_key, "owner": owner, "token": token}


def purchase(order_id: str) -> dict:
    recently = datetime.now(UTC) - timedelta(hours=1)
    return {
        "order_id": order_id,
        "customer": {"email": f"{order_id.lower()}@example.com", "name": "Ana Diaz"},
        "purchased_at": recently.isoformat(),
        "total": "12.50",
        "currency": "EUR",
    }


def requests_of_every_kind(client, known) -> dict:
    """One request of each kind of client, each a new order; the answers by kind."""
    order = f"OUT-{uuid.uuid4().hex[:8]}"
    basic = base64.b64encode(f"{known['key']}:".encode()).decode()
    body, headers = delivery({**ORDER, "id": int(uuid.uuid4().int % 10**12)})
    return {
        "api": client.post(
            "/api/v1/purchases",
            json=purchase(order),
            headers={"Authorization": f"Bearer {known['key']}"},
        ),
        "delighted": client.post(
            "/v1/people.json",
            json={"email": f"d-{order.lower()}@example.com", "properties": {"order_id": order}},
            headers={"Authorization": f"Basic {basic}"},
        ),
        "webhook": client.post("/webhooks/shopify", data=body, headers=headers),
        "survey page": client.get(f"/s/{known['token']}", headers={"Accept": "text/html"}),
        "inbox": client.get("/inbox", headers={"Accept": "text/html"}),
    }


def test_while_the_database_is_cut_off_every_client_gets_503_and_then_recovers(
    cut_off_app, relay, known
):
    client = cut_off_app.test_client()
    log_in(client, known["owner"])
    working = requests_of_every_kind(client, known)  # the pool holds live connections now
    assert {kind: r.status_code for kind, r in working.items()} == {
        "api": 201,
        "delighted": 200,
        "webhook": 201,
        "survey page": 200,
        "inbox": 200,
    }

    relay.cut()
    answers = requests_of_every_kind(client, known)

    assert {kind: r.status_code for kind, r in answers.items()} == dict.fromkeys(answers, 503)
    for kind, answer in answers.items():
        assert answer.headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS), kind
    for kind in ("api", "delighted", "webhook"):
        problem = answers[kind].get_json()
        assert answers[kind].mimetype == "application/problem+json", kind
        assert problem["status"] == 503 and problem["title"] == "Service Unavailable", kind
        assert problem["type"].endswith("/database-unavailable") and problem["detail"], kind
    assert answers["delighted"].get_json()["message"] == "Service Unavailable"
    for kind in ("survey page", "inbox"):
        page = answers[kind].get_data(as_text=True)
        assert answers[kind].mimetype == "text/html", kind
        assert "We cannot reach our database right now" in page, kind

    relay.restore()
    recovered = requests_of_every_kind(client, known)

    assert {kind: r.status_code for kind, r in recovered.items()} == {
        kind: r.status_code for kind, r in working.items()
    }


def test_a_form_posted_while_the_database_is_cut_off_is_asked_to_be_sent_again(
    cut_off_app, relay, known
):
    client = cut_off_app.test_client()
    token = csrf_token(client, f"/s/{known['token']}")
    relay.cut()

    answer = client.post(
        f"/s/{known['token']}", data={"expectations": "exceeding", "csrf_token": token}
    )

    assert answer.status_code == 503 and "Retry-After" in answer.headers
    page = answer.get_data(as_text=True)
    assert "go back and send it again" in page and "Try again" not in page


def count_rows(app, model, *where) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(model).where(*where))


def test_a_purchase_cut_off_before_its_commit_leaves_nothing_and_can_be_sent_again(
    cut_off_app, relay, known
):
    client = cut_off_app.test_client()
    auth = {"Authorization": f"Bearer {known['key']}"}
    order = purchase("CUT-1")
    customers_before = count_rows(cut_off_app, Customer)
    outbox_before = count_rows(cut_off_app, OutboxMessage)

    relay.cut_on(b"COMMIT")  # every row is written; the COMMIT never arrives
    cut = client.post("/api/v1/purchases", json=order, headers=auth)

    assert cut.status_code == 503 and relay.cuts == 1
    relay.restore()
    assert count_rows(cut_off_app, Purchase, Purchase.order_id == "CUT-1") == 0
    assert count_rows(cut_off_app, Customer) == customers_before
    assert count_rows(cut_off_app, OutboxMessage) == outbox_before
    again = client.post("/api/v1/purchases", json=order, headers=auth)
    assert again.status_code == 201, again.get_json()  # new, not "already received"
    assert again.get_json()["survey"]["status"] == "scheduled"
    assert count_rows(cut_off_app, Purchase, Purchase.order_id == "CUT-1") == 1


def test_a_database_error_that_is_not_an_outage_stays_a_500_and_is_logged(
    cut_off_app, known, caplog
):
    # The server refuses a statement (here: its table is gone). The database
    # is there, so this is a fault of ours to look into, not an outage.
    client = cut_off_app.test_client()
    engine = cut_off_app.extensions["db"]["engine"]
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE surveys RENAME TO surveys_moved")
    try:
        answer = client.get(f"/s/{known['token']}")
        api_answer = client.get(
            "/api/v1/responses", headers={"Authorization": f"Bearer {known['key']}"}
        )
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE surveys_moved RENAME TO surveys")

    assert answer.status_code == 500 and "Retry-After" not in answer.headers
    assert api_answer.status_code == 500 and api_answer.get_json()["status"] == 500
    assert "Unhandled error on GET /s/" in caplog.text and "UndefinedTable" in caplog.text


@pytest.mark.browser
@pytest.mark.parametrize("width", [360, 1280])
def test_a_person_sees_a_page_saying_we_are_back_in_a_moment(
    cut_off_app, relay, known, live_server, browser, artifacts_dir, width
):
    base_url = live_server(cut_off_app)
    relay.cut()
    page = browser.new_page(viewport={"width": width, "height": 740})

    answer = page.goto(f"{base_url}/s/{known['token']}")

    assert answer.status == 503 and answer.headers["retry-after"] == str(
        DATABASE_RETRY_AFTER_SECONDS
    )
    assert page.get_by_role("heading", name="We'll be back in a moment").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=artifacts_dir / f"database-unavailable-{width}.png", full_page=True)
    relay.restore()
    page.get_by_role("link", name="Try again").click()
    # The link starts a navigation; wait for the survey to arrive rather than read the old page.
    expect(page.get_by_role("button", name="Send my answers")).to_be_visible()
    page.close()


# --- the worker ------------------------------------------------------------------------------


def test_the_worker_waits_out_an_outage_in_one_line_then_delivers_what_came_meanwhile(
    cut_off_app, direct_app, relay, fake_sendgrid_server, tmp_path
):
    insert_due_surveys(direct_app, 1)
    worker = start_worker(cut_off_app, fake_sendgrid_server, tmp_path)
    try:
        assert fake_sendgrid_server.wait_for_requests(1, timeout=60)  # it is at work

        relay.cut()
        insert_due_surveys(direct_app, 1)  # due while the worker cannot see it
        time.sleep(8)  # several tries: after 1, 2 and 4 s
        assert worker.poll() is None  # still running
        relay.restore()

        assert fake_sendgrid_server.wait_for_requests(2, timeout=45)
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=60)

    assert worker.returncode == 0, err
    assert "Traceback" not in err, err
    [went] = [line for line in err.splitlines() if "Database unreachable" in line]
    assert "Connection refused" in went or "closed the connection" in went, went
    [back] = [line for line in err.splitlines() if "Database reachable again" in line]
    assert err.splitlines() == [went, back, "Stopping after the request in hand…"]
    assert {status for (status,) in rows(direct_app, OutboxMessage, "status")} == {"sent"}


def test_what_sendgrid_accepted_during_an_outage_is_recorded_when_it_ends_not_sent_again(
    cut_off_app, direct_app, relay, fake_sendgrid_server, tmp_path
):
    insert_due_surveys(direct_app, 3)
    fake_sendgrid_server.default = Reply(202, delay=2)
    worker = start_worker(cut_off_app, fake_sendgrid_server, tmp_path)
    try:
        assert fake_sendgrid_server.wait_for_requests(1, timeout=60)
        relay.cut()  # while SendGrid takes its time over the request
        time.sleep(6)
        relay.restore()
        deadline = time.monotonic() + 45
        while statuses(direct_app) != {"sent"} and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=60)

    assert statuses(direct_app) == {"sent"}, err
    assert len(fake_sendgrid_server.requests) == 1
    assert len(fake_sendgrid_server.accepted) == 3
    assert set(rows(direct_app, OutboxMessage, "attempts")) == {(1,)}


def statuses(app) -> set[str]:
    return {status for (status,) in rows(app, OutboxMessage, "status")}


def test_worker_once_says_in_one_line_that_the_database_cannot_be_reached(
    cut_off_app, relay, fake_sendgrid_server, tmp_path
):
    relay.cut()
    worker = start_worker(cut_off_app, fake_sendgrid_server, tmp_path, "--once")

    _out, err = worker.communicate(timeout=60)

    assert worker.returncode == 1
    assert err.startswith("Error: the database cannot be reached (connection failed"), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
