"""/admin/webhooks: add an endpoint (its secret shown once), pause, resume, new secret, delete,
test ping, recent deliveries with their status and last error. Every change is audited; owners
are refused."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from bs4 import Tag
from sqlalchemy import func, select

from surveys.models import AuditEntry, OutboxMessage, WebhookEndpoint
from surveys.outbox.retry_policy import RetryPolicy
from surveys.services.webhooks_out import events as webhooks_out
from tests.factories import PASSWORD, make_user
from tests.fake_sendgrid import Reply
from tests.journey import run_worker
from tests.pages import Page, page, text_of
from tests.web import csrf_token, log_in

SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{43}")


def token(client) -> str:
    return csrf_token(client, "/admin/webhooks")


def add(client, url: str, events=("case.opened", "case.closed")):
    return client.post(
        "/admin/webhooks", data={"csrf_token": token(client), "url": url, "events": list(events)}
    )


def act(client, endpoint: WebhookEndpoint, action: str):
    return client.post(
        f"/admin/webhooks/{endpoint.id}/{action}", data={"csrf_token": token(client)}
    )


def the_endpoint(session) -> WebhookEndpoint:
    return session.scalars(select(WebhookEndpoint)).one()


def audit(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def webhooks_page(client) -> Page:
    return page(client.get("/admin/webhooks"))


def endpoint_card(shown: Page, endpoint: WebhookEndpoint) -> Tag:
    return shown.by_id(f"endpoint-{endpoint.id}")


def badges(card: Tag) -> list[str]:
    """The badges beside the endpoint's URL: active or paused, and failed deliveries."""
    return [text_of(badge) for badge in card.select(".endpoint-head .badge")]


def deliveries(shown: Page, endpoint: WebhookEndpoint) -> list[dict[str, str]]:
    return shown.table_rows(endpoint_card(shown, endpoint).find("table"))


@pytest.fixture
def endpoint(admin_client, session, webhook_receiver) -> WebhookEndpoint:
    assert add(admin_client, webhook_receiver.url_for()).status_code == 200
    return the_endpoint(session)


# --- adding -------------------------------------------------------------------------------


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(admin_client, session, admin):
    empty = admin_client.get("/admin/webhooks")
    assert empty.status_code == 200
    assert "No endpoints yet" in text_of(page(empty).one(".empty-state"))

    response = add(
        admin_client,
        "https://crm.example.com/hooks/h2h",
        events=("case.closed", "response.created"),
    )

    assert response.status_code == 200
    endpoint = the_endpoint(session)
    assert endpoint.url == "https://crm.example.com/hooks/h2h"
    assert endpoint.events == ["response.created", "case.closed"]
    assert endpoint.active and SECRET.fullmatch(endpoint.secret)
    shown = page(response).by_id("new-secret")
    assert text_of(shown.select_one(".secret-value")) == endpoint.secret
    assert "only time we show it" in text_of(shown)
    later = webhooks_page(admin_client)
    assert not later.has_id("new-secret") and endpoint.secret not in later.html
    assert text_of(endpoint_card(later, endpoint).h2) == "https://crm.example.com/hooks/h2h"
    [entry] = audit(session)
    assert (entry.action, entry.actor_user_id) == ("webhook.created", admin.id)
    assert entry.after == {"url": endpoint.url, "events": endpoint.events, "active": True}
    assert "whsec_" not in str(entry.before) + str(entry.after)


def test_each_endpoint_gets_its_own_secret(admin_client, session):
    add(admin_client, "https://a.example.com/hooks")
    add(admin_client, "https://b.example.com/hooks")

    secrets = {endpoint.secret for endpoint in session.scalars(select(WebhookEndpoint))}
    assert len(secrets) == 2


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("", "Give the URL we should post to."),
        ("crm.example.com/hooks", "absolute http:// or https:// URL"),
        ("/hooks", "absolute http:// or https:// URL"),
        ("ftp://crm.example.com/hooks", "absolute http:// or https:// URL"),
        ("javascript:alert(1)", "absolute http:// or https:// URL"),
        ("https://", "absolute http:// or https:// URL"),
        ("https://crm.example.com:port/hooks", "not a URL we can post to"),
        ("https://user:secret@crm.example.com/hooks", "Leave the user name and password out"),
        ("https://crm.example.com/hooks#h2h", "Leave out the #fragment"),
        ("https://crm.example.com/my hooks", "cannot contain spaces"),
    ],
)
def test_a_url_we_cannot_post_to_is_refused_with_the_reason(admin_client, session, url, why):
    response = add(admin_client, url)

    assert response.status_code == 422
    [error] = page(response).field_errors("url")
    assert why in error
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0
    assert audit(session) == []


@pytest.mark.parametrize(
    ("events", "why"),
    [
        ((), "Choose at least one event."),
        (("case.opened", "case.deleted"), "We do not send case.deleted."),
    ],
)
def test_events_must_be_ones_we_send(admin_client, session, events, why):
    response = add(admin_client, "https://crm.example.com/hooks", events=events)

    assert response.status_code == 422
    shown = page(response)
    assert shown.items(shown.by_id("events-errors")) == [why]
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0


# --- pausing, new secret, deleting ----------------------------------------------------------


def test_pause_and_resume_are_audited_and_a_second_click_changes_nothing(
    admin_client, session, endpoint
):
    assert act(admin_client, endpoint, "pause").status_code == 302
    session.refresh(endpoint)
    assert not endpoint.active
    shown = webhooks_page(admin_client)
    assert badges(endpoint_card(shown, endpoint)) == ["paused"]
    assert shown.buttons(endpoint_card(shown, endpoint)) == ["Resume", "New secret", "Delete"]
    act(admin_client, endpoint, "pause")

    act(admin_client, endpoint, "resume")

    session.refresh(endpoint)
    assert endpoint.active
    actions = [
        (
            entry.action,
            entry.before and entry.before["active"],
            entry.after and entry.after["active"],
        )
        for entry in audit(session)
    ]
    assert actions == [
        ("webhook.created", None, True),
        ("webhook.paused", True, False),
        ("webhook.resumed", False, True),
    ]


def test_a_new_secret_replaces_the_old_one_is_shown_once_and_is_audited(
    admin_client, session, endpoint
):
    old = endpoint.secret

    response = act(admin_client, endpoint, "secret")

    session.refresh(endpoint)
    assert endpoint.secret != old and SECRET.fullmatch(endpoint.secret)
    shown = page(response).by_id("new-secret")
    assert text_of(shown.select_one(".secret-value")) == endpoint.secret
    assert endpoint.secret not in webhooks_page(admin_client).html
    entry = audit(session)[-1]
    assert (entry.action, entry.before, entry.after) == ("webhook.secret_rotated", None, None)


def test_deleting_an_endpoint_cancels_what_it_has_not_received_and_is_audited(
    admin_client, session, runner, clock, endpoint, webhook_receiver
):
    act(admin_client, endpoint, "ping")
    run_worker(runner)
    act(admin_client, endpoint, "ping")  # still waiting when the endpoint goes
    endpoint_id, url = endpoint.id, endpoint.url

    response = act(admin_client, endpoint, "delete")

    assert response.status_code == 302
    shown = webhooks_page(admin_client)
    [flash] = shown.flashes()
    assert "1 undelivered event was cancelled" in flash
    assert not shown.has_id(f"endpoint-{endpoint_id}")
    assert session.get(WebhookEndpoint, endpoint_id) is None
    sent, waiting = session.scalars(
        select(OutboxMessage).where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)
    ).all()
    assert (sent.status, sent.webhook_endpoint_id) == ("sent", None)
    assert waiting.status == "cancelled" and "deleted by Ada Admin" in waiting.last_error
    entry = audit(session)[-1]
    assert entry.action == "webhook.deleted" and entry.before["url"] == url
    assert entry.after == {"cancelled_deliveries": 1}
    run_worker(runner)
    assert len(webhook_receiver.requests) == 1


def test_an_unknown_endpoint_answers_404(admin_client):
    for action in ("pause", "resume", "ping", "secret", "delete"):
        response = admin_client.post(
            f"/admin/webhooks/999/{action}", data={"csrf_token": token(admin_client)}
        )
        assert response.status_code == 404, action


# --- pings and deliveries -------------------------------------------------------------------


def test_a_test_ping_arrives_signed_and_shows_in_recent_deliveries(
    admin_client, session, runner, clock, endpoint, webhook_receiver
):
    response = act(admin_client, endpoint, "ping")

    assert response.status_code == 302
    [flash] = webhooks_page(admin_client).flashes()
    assert "is on its way" in flash
    run_worker(runner)
    [request] = webhook_receiver.requests
    body = request.json
    assert body["event"] == "ping" and request.headers["X-Surveys-Event"] == "ping"
    assert body["data"]["url"] == endpoint.url and body["data"]["endpoint_id"] == endpoint.id
    timestamp, signature = (
        part.split("=", 1)[1] for part in request.headers["X-Surveys-Signature"].split(",")
    )
    expected = hmac.new(
        endpoint.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, expected)
    [delivery] = deliveries(webhooks_page(admin_client), endpoint)
    assert delivery["Delivery"].split()[1] == "ping"
    assert delivery["Status"] == "sent 1 attempt"
    assert audit(session)[-1].action == "webhook.pinged"


def test_a_paused_endpoint_cannot_be_pinged(admin_client, session, endpoint):
    act(admin_client, endpoint, "pause")

    response = act(admin_client, endpoint, "ping")

    assert response.status_code == 302
    [flash] = webhooks_page(admin_client).flashes()
    assert "resume it to ping it" in flash
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_failed_delivery_shows_its_reason_on_the_webhooks_and_outbox_pages(
    admin_client, session, runner, clock, endpoint, webhook_receiver
):
    attempts = RetryPolicy().max_attempts
    webhook_receiver.respond_with(*[Reply(410, message="this hook is gone")] * attempts)
    act(admin_client, endpoint, "ping")
    delivery = session.scalars(select(OutboxMessage)).one()
    run_worker(runner)

    [retrying] = deliveries(webhooks_page(admin_client), endpoint)
    assert retrying["Status"] == "retrying 1 attempt"
    assert "410 Gone: this hook is gone" in retrying["Last error"]
    for _ in range(attempts - 1):
        session.refresh(delivery)
        clock.set(delivery.next_attempt_at)
        run_worker(runner)

    session.refresh(delivery)
    reason = f"gave up after {attempts} attempts: the endpoint answered 410 Gone: this hook is gone"
    assert (delivery.status, delivery.last_error) == ("failed", reason)
    shown = webhooks_page(admin_client)
    assert badges(endpoint_card(shown, endpoint)) == ["active", "1 failed"]
    [failed] = deliveries(shown, endpoint)
    assert failed["Status"] == f"failed {attempts} attempts"
    assert failed["Last error"] == f"{reason} Retry it from the outbox"
    [in_outbox] = page(admin_client.get("/admin/outbox?status=failed")).table_rows()
    assert in_outbox["id"] == f"message-{delivery.id}"
    assert (in_outbox["To"], in_outbox["Last error"]) == (f"webhook endpoint {endpoint.id}", reason)


def test_the_webhooks_page_is_in_the_admin_navigation(admin_client):
    shown = page(admin_client.get("/admin/dashboard"))
    assert shown.links(shown.by_label("Admin"))["Webhooks"] == "/admin/webhooks"


# --- who may ----------------------------------------------------------------------------------


def test_owners_are_refused_and_nothing_changes(app, client, session, clock):
    endpoint = WebhookEndpoint(
        url="https://crm.example.com/hooks",
        events=["case.opened"],
        secret="whsec_test",
        active=True,
    )
    session.add(endpoint)
    owner = make_user(session, role="owner")
    session.commit()
    log_in(client, owner)
    form = {"csrf_token": csrf_token(client, "/inbox")}

    assert client.get("/admin/webhooks").status_code == 403
    assert (
        client.post(
            "/admin/webhooks",
            data={**form, "url": "https://evil.example.com/", "events": ["case.opened"]},
        ).status_code
        == 403
    )
    for action in ("pause", "resume", "ping", "secret", "delete"):
        assert (
            client.post(f"/admin/webhooks/{endpoint.id}/{action}", data=form).status_code == 403
        ), action

    session.refresh(endpoint)
    assert (endpoint.active, endpoint.secret) == (True, "whsec_test")
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 1
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert audit(session) == []


def test_every_event_an_admin_can_choose_is_one_we_send(admin_client):
    offered = webhooks_page(admin_client).all('input[name="events"]')
    assert [box["value"] for box in offered] == list(webhooks_out.EVENTS)


# --- in a browser, on a phone -----------------------------------------------------------------


@pytest.mark.browser
def test_on_a_phone_an_admin_adds_an_endpoint_pings_it_and_sees_it_arrive(
    committed_app,
    live_server,
    browser,
    artifacts_dir,
    backend,
    webhook_receiver,
):
    base = live_server(committed_app)
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        admin_email = make_user(session, role="admin", name="Ada Admin").email
        session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{base}/login?next=/admin/webhooks")
    page.fill("input[name=email]", admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/webhooks")

    page.fill("input[name=url]", webhook_receiver.url_for("/hooks/h2h"))
    page.get_by_role("checkbox", name=re.compile("response.created")).uncheck()
    page.get_by_role("button", name="Add the endpoint").click()
    secret = page.locator(".secret-value").inner_text()
    assert SECRET.fullmatch(secret)
    page.screenshot(
        path=str(artifacts_dir / f"admin-webhooks-secret-{backend}.png"), full_page=True
    )
    page.goto(f"{base}/admin/webhooks")
    page.get_by_role("button", name=re.compile("Send a test ping")).click()
    result = committed_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    page.reload()

    [request] = webhook_receiver.requests
    assert request.json["event"] == "ping"
    assert page.locator(".deliveries .badge-sent").count() == 1
    assert secret not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(artifacts_dir / f"admin-webhooks-phone-{backend}.png"), full_page=True)
    context.close()
