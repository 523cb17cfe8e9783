"""Webhooks out: each event once per subscribed endpoint, shaped as the API shows
it, signed, and retried with backoff until a 2xx. A local server stands in for the receiver."""

from __future__ import annotations

import hashlib
import hmac
import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.mail.senders import FileSender
from surveys.models import Case, OutboxMessage, Survey, WebhookEndpoint
from surveys.outbox.retry_policy import RetryPolicy
from surveys.outbox.webhook_delivery import WebhookDelivery
from surveys.outbox.worker import LEASE, Worker
from surveys.services.webhooks_out import endpoints as webhook_endpoints
from surveys.services.webhooks_out import events as webhooks_out
from tests.factories import make_api_key, make_user
from tests.fake_sendgrid import Reply
from tests.journey import (
    answer_survey,
    bearer,
    latest_fix_check_path,
    run_worker,
    unhappy_customer,
)

ALL_EVENTS = list(webhooks_out.EVENTS)


@pytest.fixture
def people(session):
    owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    make_user(session, role="admin", name="Ada Admin")
    _key, raw_key = make_api_key(session)
    session.commit()
    return owner, raw_key


def add_endpoint(session, url: str, events=ALL_EVENTS, *, active: bool = True) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        url=url, events=list(events), secret=webhook_endpoints.new_secret(), active=active
    )
    session.add(endpoint)
    session.commit()
    return endpoint


def deliveries(session, endpoint: WebhookEndpoint | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.channel == "webhook")
    if endpoint is not None:
        query = query.where(OutboxMessage.webhook_endpoint_id == endpoint.id)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def verifies(header: str, body: bytes, secret: str) -> bool:
    """What a receiver does: HMAC-SHA256 of "t.body" with the secret, compared in constant time."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(
        secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def api_case(client, raw_key: str, case_id: int) -> dict:
    response = client.get(f"/api/v1/cases/{case_id}", headers=bearer(raw_key))
    assert response.status_code == 200
    return response.get_json()


def api_response_item(client, raw_key: str, response_id: int) -> dict:
    listed = client.get("/api/v1/responses", headers=bearer(raw_key)).get_json()["items"]
    [item] = [item for item in listed if item["id"] == response_id]
    return item


def open_a_case(client, session, runner, fake_sendgrid, people) -> Case:
    owner, raw_key = people
    return unhappy_customer(
        client, session, runner, fake_sendgrid, raw_key=raw_key, owner_email=owner.email
    )


# --- which events, and what they say ------------------------------------------------------


def test_an_unhappy_answer_sends_response_created_and_case_opened_once_as_the_api_shows_them(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    endpoint = add_endpoint(session, webhook_receiver.url_for())

    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)
    run_worker(runner)

    assert webhook_receiver.events() == ["response.created", "case.opened"]
    created, opened = (request.json for request in webhook_receiver.requests)
    _owner, raw_key = people
    assert created["data"] == api_response_item(client, raw_key, case.response_id)
    assert opened["data"] == api_case(client, raw_key, case.id)
    assert opened["data"]["status"] == "open" and opened["data"]["reasons"]
    for body in (created, opened):
        assert set(body) == {"id", "event", "created_at", "data"}
        assert body["id"].startswith("evt_")
        assert body["created_at"] == "2026-11-23T09:00:00Z"
    assert created["id"] != opened["id"]
    assert [d.status for d in deliveries(session, endpoint)] == ["sent", "sent"]


def test_resolving_and_a_confirmed_fix_send_case_resolved_response_created_and_case_closed(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    owner, raw_key = people
    case = open_a_case(client, session, runner, fake_sendgrid, people)
    add_endpoint(session, webhook_receiver.url_for())

    clock.advance(hours=1)
    answer = client.post(
        f"/api/v1/cases/{case.id}/resolve",
        headers=bearer(raw_key),
        json={"resolution": "Sent a new keyboard by express.", "ask_in_days": 0},
    )
    assert answer.status_code == 200
    resolved_then = api_case(client, raw_key, case.id)
    run_worker(runner)  # the resolved event, and the fix-check email
    clock.advance(hours=1)
    answer_survey(
        client, latest_fix_check_path(fake_sendgrid, "ana@example.com"), {"fix_worked": "yes"}
    )
    run_worker(runner)

    assert webhook_receiver.events() == ["case.resolved", "response.created", "case.closed"]
    resolved, fix_check, closed = (request.json for request in webhook_receiver.requests)
    assert resolved["data"] == resolved_then
    assert resolved["data"]["status"] == "resolved"
    assert resolved["created_at"] == "2026-11-23T10:00:00Z"
    fix_check_survey = session.scalar(select(Survey).where(Survey.case_id == case.id))
    assert fix_check["data"] == api_response_item(client, raw_key, fix_check_survey.response.id)
    assert fix_check["data"]["answers"] == {"fix_worked": "yes"}
    assert closed["data"] == api_case(client, raw_key, case.id)
    assert closed["data"]["status"] == "closed"
    assert closed["data"]["closed_at"] == "2026-11-23T11:00:00Z"


def test_a_case_closed_unconfirmed_sends_case_closed(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    owner, raw_key = people
    case = open_a_case(client, session, runner, fake_sendgrid, people)
    add_endpoint(session, webhook_receiver.url_for(), events=["case.closed"])
    client.post(
        f"/api/v1/cases/{case.id}/resolve",
        headers=bearer(raw_key),
        json={"resolution": "Sent a new keyboard.", "ask_in_days": 0},
    )
    run_worker(runner)  # the fix-check reaches Ana

    clock.advance(days=7, minutes=1)
    run_worker(runner)  # closes the case and delivers its event in the same pass

    [closed] = [request.json for request in webhook_receiver.requests]
    assert closed["event"] == "case.closed"
    assert closed["data"] == api_case(client, raw_key, case.id)
    assert closed["data"]["closed_at"] == "2026-11-30T09:01:00Z"


def test_the_body_is_what_was_true_when_the_event_happened(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    owner, raw_key = people
    add_endpoint(session, webhook_receiver.url_for(), events=["case.opened"])
    webhook_receiver.respond_with(503)  # the first try fails; the case moves on meanwhile
    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)
    client.post(
        f"/api/v1/cases/{case.id}/comments",
        headers=bearer(raw_key),
        json={"body": "Called the courier."},
    )
    client.post(f"/api/v1/cases/{case.id}/acknowledge", headers=bearer(raw_key), json={})

    [delivery] = deliveries(session)
    clock.set(delivery.next_attempt_at)
    run_worker(runner)

    first, second = (request.json for request in webhook_receiver.requests)
    assert first == second
    assert second["data"]["status"] == "open" and second["data"]["comments"] == []
    assert api_case(client, raw_key, case.id)["status"] == "acknowledged"


def test_only_active_endpoints_subscribed_to_an_event_hear_of_it(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    everything = add_endpoint(session, webhook_receiver.url_for("/everything"))
    cases_only = add_endpoint(session, webhook_receiver.url_for("/cases"), ["case.opened"])
    paused = add_endpoint(session, webhook_receiver.url_for("/paused"), active=False)

    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    by_path: dict[str, list[dict]] = {}
    for request in webhook_receiver.requests:
        by_path.setdefault(request.path, []).append(request.json)
    assert [body["event"] for body in by_path["/everything"]] == ["response.created", "case.opened"]
    assert [body["event"] for body in by_path["/cases"]] == ["case.opened"]
    assert "/paused" not in by_path
    assert deliveries(session, paused) == []
    # One event, one id, whoever hears of it; each delivery its own.
    assert by_path["/everything"][1] == by_path["/cases"][0]
    assert len(deliveries(session, everything)) == 2 and len(deliveries(session, cases_only)) == 1


def test_an_installation_without_endpoints_queues_nothing(
    client, session, runner, fake_sendgrid, people
):
    open_a_case(client, session, runner, fake_sendgrid, people)

    assert deliveries(session) == []


def test_an_unknown_event_is_refused(session, clock):
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhooks_out.emit(session, "case.deleted", {}, now=clock.now())


# --- signing ------------------------------------------------------------------------------


def test_every_delivery_is_signed_with_the_endpoints_secret(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    endpoint = add_endpoint(session, webhook_receiver.url_for(), events=["case.opened"])
    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    [request] = webhook_receiver.requests
    [delivery] = deliveries(session)
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "HeartToHeart-Webhooks/1"
    assert headers["X-Surveys-Event"] == "case.opened"
    assert headers["X-Surveys-Delivery"] == str(delivery.id)
    signature = headers["X-Surveys-Signature"]
    assert signature.startswith(f"t={int(clock.now().timestamp())},v1=")
    assert verifies(signature, request.body, endpoint.secret)
    assert not verifies(signature, request.body, webhook_endpoints.new_secret())
    assert not verifies(signature, request.body.replace(b'"open"', b'"closed"'), endpoint.secret)


# --- retries ------------------------------------------------------------------------------


def test_a_500_and_a_timeout_are_retried_with_growing_backoff_until_a_2xx(
    app, client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 0.2
    endpoint = add_endpoint(session, webhook_receiver.url_for(), events=["case.opened"])
    webhook_receiver.respond_with(Reply(500, message="database is down"), Reply(200, delay=3), 204)
    base = RetryPolicy().base_seconds

    open_a_case(client, session, runner, fake_sendgrid, people)
    assert "retrying 1" in run_worker(runner)
    [delivery] = deliveries(session)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == (
        "the endpoint answered 500 Internal Server Error: database is down"
    )
    first_wait = delivery.next_attempt_at - clock.now()
    assert timedelta(seconds=base) <= first_wait <= timedelta(seconds=2 * base)

    run_worker(runner)  # not due yet
    assert len(webhook_receiver.requests) == 1

    clock.set(delivery.next_attempt_at)
    run_worker(runner)
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("pending", 2)
    assert delivery.last_error == "the endpoint did not answer within 0.2 s"
    second_wait = delivery.next_attempt_at - clock.now()
    assert timedelta(seconds=2 * base) <= second_wait <= timedelta(seconds=4 * base)

    clock.set(delivery.next_attempt_at)
    run_worker(runner)
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 3, clock.now())
    bodies = {request.body for request in webhook_receiver.requests}
    assert len(bodies) == 1  # the same event each time …
    stamps = [
        request.headers["X-Surveys-Signature"].split(",")[0]
        for request in webhook_receiver.requests
    ]
    assert len(set(stamps)) == 3  # … signed afresh at each attempt
    assert all(
        verifies(request.headers["X-Surveys-Signature"], request.body, endpoint.secret)
        for request in webhook_receiver.requests
    )


def test_a_4xx_is_retried_too_and_fails_with_the_reason_after_the_last_attempt(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    attempts = RetryPolicy().max_attempts
    add_endpoint(session, webhook_receiver.url_for(), events=["case.opened"])
    webhook_receiver.respond_with(*[Reply(404, message="no such hook")] * attempts)

    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)
    [delivery] = deliveries(session)
    for _ in range(attempts - 1):
        assert delivery.status == "pending"
        clock.set(delivery.next_attempt_at)
        run_worker(runner)
        session.refresh(delivery)

    assert len(webhook_receiver.requests) == attempts
    assert (delivery.status, delivery.attempts) == ("failed", attempts)
    assert delivery.last_error == (
        f"gave up after {attempts} attempts: the endpoint answered 404 Not Found: no such hook"
    )
    clock.advance(days=30)
    run_worker(runner)
    assert len(webhook_receiver.requests) == attempts


def test_a_refused_connection_is_retried(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    endpoint = add_endpoint(session, f"http://127.0.0.1:{port}/hooks", events=["case.opened"])

    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    [delivery] = deliveries(session)
    assert delivery.status == "pending" and "could not reach the endpoint" in delivery.last_error
    endpoint.url = webhook_receiver.url_for()
    session.commit()
    clock.set(delivery.next_attempt_at)
    run_worker(runner)
    session.refresh(delivery)
    assert delivery.status == "sent" and len(webhook_receiver.requests) == 1


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_endpoint(session, webhook_receiver.url_for(), events=["case.opened"])
    webhook_receiver.respond_with(Reply(302, headers={"Location": "/elsewhere"}))

    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    [delivery] = deliveries(session)
    assert delivery.status == "pending"
    assert delivery.last_error == (
        "the endpoint answered 302 Found (redirects are not followed; to /elsewhere)"
    )
    assert [request.path for request in webhook_receiver.requests] == ["/hooks"]


def test_a_429_waits_at_least_as_long_as_retry_after_asks(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_endpoint(session, webhook_receiver.url_for(), events=["case.opened"])
    webhook_receiver.respond_with(Reply(429, headers={"Retry-After": "900"}))

    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    [delivery] = deliveries(session)
    assert delivery.next_attempt_at - clock.now() >= timedelta(seconds=900)


# --- paused endpoints and several workers --------------------------------------------------


def test_a_paused_endpoint_gets_nothing(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    admin = make_user(session, role="admin")
    endpoint = add_endpoint(session, webhook_receiver.url_for())
    webhook_endpoints.pause_endpoint(session, endpoint, actor=admin, now=clock.now())
    session.commit()

    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    assert deliveries(session) == []
    assert webhook_receiver.requests == []


def test_what_was_queued_before_a_pause_waits_and_goes_when_resumed(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    admin = make_user(session, role="admin")
    endpoint = add_endpoint(session, webhook_receiver.url_for(), events=["case.opened"])
    webhook_receiver.respond_with(503)
    open_a_case(client, session, runner, fake_sendgrid, people)
    [delivery] = deliveries(session)
    webhook_endpoints.pause_endpoint(session, endpoint, actor=admin, now=clock.now())
    session.commit()

    clock.advance(days=1)
    run_worker(runner)
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert webhook_receiver.requests == []

    webhook_endpoints.resume_endpoint(session, endpoint, actor=admin, now=clock.now())
    session.commit()
    run_worker(runner)  # 503
    clock.set(session.get(OutboxMessage, delivery.id).next_attempt_at)
    run_worker(runner)
    session.refresh(delivery)
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_a_delivery_claimed_by_one_worker_is_not_claimed_by_another_until_its_lease_ends(
    app, session, clock, tmp_path, webhook_receiver
):
    endpoint = add_endpoint(session, webhook_receiver.url_for(), events=["case.opened"])
    payload = webhooks_out.event_payload("case.opened", {"id": 1}, now=clock.now())
    webhooks_out.queue_delivery(session, endpoint, payload, now=clock.now())
    session.commit()

    with app.app_context():
        first = WebhookDelivery(Worker(FileSender(tmp_path), worker_id="first").claims)
        second = WebhookDelivery(Worker(FileSender(tmp_path), worker_id="second").claims)
        claimed = first.claim()
        assert len(claimed) == 1
        assert second.claim() == []

        clock.advance(seconds=LEASE.total_seconds() + 1)  # the first worker died
        assert second.claim() == claimed
        assert first.deliver(claimed[0])["skipped"] == 1  # no longer its to send
        assert second.deliver(claimed[0])["sent"] == 1

    assert len(webhook_receiver.requests) == 1
    assert (
        session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent"))
        == 1
    )
