"""/admin/channels: add a Slack or Teams channel by its incoming-webhook URL (refused unless it is
one of theirs), send a test message, pause, resume, delete. Every change is audited; owners are
refused; a POST without a CSRF token changes nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from surveys.models import AuditEntry, OutboxMessage, WebhookEndpoint
from tests.factories import PASSWORD, make_user
from tests.journey import run_worker
from tests.pages import Page, page, text_of
from tests.web import csrf_token, log_in

SLACK_URL = "https://hooks.slack.com/services/T0AAA/B0BBB/abcdefghijklmnop"
TEAMS_URL = "https://shop.webhook.office.com/webhookb2/1234@5678/IncomingWebhook/abcd/efgh"
WORKFLOWS_URL = (
    "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sig=xyz"
)


def token(client) -> str:
    return csrf_token(client, "/admin/channels")


def add(client, url: str, kind="slack", events=("case_opened",), name="", owner_id=""):
    return client.post(
        "/admin/channels",
        data={
            "csrf_token": token(client),
            "kind": kind,
            "url": url,
            "name": name,
            "events": list(events),
            "owner_id": owner_id,
        },
    )


def act(client, channel: WebhookEndpoint, action: str):
    return client.post(f"/admin/channels/{channel.id}/{action}", data={"csrf_token": token(client)})


def channels(session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def audit(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def channels_page(client) -> Page:
    return page(client.get("/admin/channels"))


@pytest.fixture
def local_receiver_allowed(app):
    """Let channels post to the local fake receiver instead of Slack's or Microsoft's hosts."""
    app.config["CHAT_WEBHOOKS_ANY_HOST"] = True


# --- adding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, url", [("slack", SLACK_URL), ("teams", TEAMS_URL), ("teams", WORKFLOWS_URL)]
)
def test_an_admin_adds_a_channel_by_its_webhook_url_and_it_is_audited_without_the_url(
    admin_client, session, admin, kind, url
):
    empty = channels_page(admin_client)
    assert "No channels yet" in text_of(empty.one(".empty-state"))
    olivia = make_user(session, name="Olivia Owner")
    session.commit()

    response = add(
        admin_client,
        url,
        kind=kind,
        name="#customer-care",
        events=("weekly_summary", "case_opened", "negative_response"),
        owner_id=str(olivia.id),
    )

    assert response.status_code == 302
    [channel] = channels(session)
    assert (channel.kind, channel.url, channel.name) == (kind, url, "#customer-care")
    assert channel.events == ["negative_response", "case_opened", "weekly_summary"]
    assert channel.owner_id == olivia.id and channel.active
    shown = channels_page(admin_client)
    card = shown.by_id(f"channel-{channel.id}")
    assert text_of(card.h2) == "#customer-care"
    assert "Cases of: Olivia Owner" in text_of(card)
    [entry] = audit(session)
    assert (entry.action, entry.actor_user_id) == ("chat_channel.created", admin.id)
    assert entry.after["host"] and entry.after["events"] == channel.events
    # The webhook URL is the channel's password: the audit log keeps its host only.
    assert url.split("/")[-1] not in str(entry.after)


def test_channels_are_not_listed_among_the_webhooks_and_their_routes_answer_404(
    admin_client, session
):
    add(admin_client, SLACK_URL)
    [channel] = channels(session)

    assert not page(admin_client.get("/admin/webhooks")).has_id(f"endpoint-{channel.id}")
    assert "No endpoints yet" in admin_client.get("/admin/webhooks").get_data(as_text=True)
    for action in ("pause", "ping", "secret", "delete"):
        response = admin_client.post(
            f"/admin/webhooks/{channel.id}/{action}", data={"csrf_token": token(admin_client)}
        )
        assert response.status_code == 404, action


@pytest.mark.parametrize(
    ("kind", "url", "why"),
    [
        ("slack", "", "Paste the incoming-webhook URL"),
        ("slack", "hooks.slack.com/services/T0/B0/x", "absolute http:// or https:// URL"),
        ("slack", "http://hooks.slack.com/services/T0/B0/x", "start with https://"),
        ("slack", "https://hooks.slack.com.evil.example/services/T0/B0/x", "not a Slack"),
        ("slack", "https://127.0.0.1/services/T0/B0/x", "not a Slack"),
        ("slack", "https://hooks.slack.com/apps/A0", "paste the whole URL"),
        ("slack", TEAMS_URL, "not a Slack"),
        ("teams", SLACK_URL, "not a Microsoft Teams"),
        ("teams", "https://webhook.office.com.example/webhookb2/x", "not a Microsoft Teams"),
        ("teams", "https://localhost:8443/webhookb2/x", "not a Microsoft Teams"),
        ("slack", "https://user:pw@hooks.slack.com/services/T0/B0/x", "Leave the user name"),
        ("slack", "javascript:alert(1)", "absolute http:// or https:// URL"),
        ("chat", SLACK_URL, "Choose Slack or Microsoft Teams."),
    ],
)
def test_a_url_that_is_not_the_services_webhook_is_refused_and_nothing_is_saved(
    admin_client, session, kind, url, why
):
    response = add(admin_client, url, kind=kind)

    assert response.status_code == 422
    shown = page(response)
    # The radio buttons share one list of errors, as the event boxes do.
    errors = (
        shown.items(shown.by_id("kind-errors")) if kind == "chat" else shown.field_errors("url")
    )
    assert any(why in error for error in errors), errors
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0
    assert audit(session) == []


@pytest.mark.parametrize(
    ("form", "field", "why"),
    [
        ({"events": ()}, "events", "Choose at least one event."),
        ({"events": ("case_opened", "case_deleted")}, "events", "We do not post case_deleted."),
        ({"owner_id": "999999"}, "owner_id", "Choose someone who can own cases"),
        ({"owner_id": "99999999999999999999"}, "owner_id", "Choose someone who can own cases"),
        ({"owner_id": "olivia"}, "owner_id", "Choose someone who can own cases"),
        ({"name": "x" * 81}, "name", "81"),
    ],
)
def test_events_owner_and_name_are_checked_and_nothing_is_saved(
    admin_client, session, form, field, why
):
    response = add(admin_client, SLACK_URL, **form)

    assert response.status_code == 422
    shown = page(response)
    errors = (
        shown.items(shown.by_id("events-errors"))
        if field == "events"
        else shown.field_errors(field)
    )
    assert errors and (why in errors[0] or field == "name"), errors
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0
    assert audit(session) == []


def test_a_post_without_a_csrf_token_changes_nothing(admin_client, session):
    add(admin_client, SLACK_URL)
    [channel] = channels(session)
    before = len(audit(session))

    refused = [
        admin_client.post(
            "/admin/channels", data={"kind": "slack", "url": SLACK_URL, "events": ["case_opened"]}
        ),
        admin_client.post(f"/admin/channels/{channel.id}/pause", data={"csrf_token": "forged"}),
        admin_client.post(f"/admin/channels/{channel.id}/test"),
        admin_client.post(f"/admin/channels/{channel.id}/delete"),
    ]

    assert [response.status_code for response in refused] == [400] * 4
    session.refresh(channel)
    assert channel.active and len(channels(session)) == 1
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert len(audit(session)) == before


# --- test message, pause, resume, delete ------------------------------------------------------


def test_the_test_message_arrives_in_slacks_shape_and_shows_in_recent_messages(
    admin_client, session, runner, clock, webhook_receiver, local_receiver_allowed
):
    add(admin_client, webhook_receiver.url_for("/services/T0/B0/x"), name="#care")
    [channel] = channels(session)

    response = act(admin_client, channel, "test")

    assert response.status_code == 302
    assert "is on its way" in channels_page(admin_client).flashes()[0]
    run_worker(runner)
    [request] = webhook_receiver.requests
    body = request.json
    assert set(body) == {"text", "blocks"} and "test message" in body["text"]
    assert [block["type"] for block in body["blocks"]] == ["section", "section", "context"]
    assert "X-Surveys-Signature" not in request.headers  # Slack checks no signature
    [row] = page(admin_client.get("/admin/channels")).table_rows(
        channels_page(admin_client).by_id(f"channel-{channel.id}").find("table")
    )
    assert row["Message"].split()[1] == "chat.test" and row["Status"] == "sent 1 attempt"
    entry = audit(session)[-1]
    assert entry.action == "chat_channel.tested"


def test_pause_resume_and_delete_are_audited_and_a_paused_channel_gets_no_test(
    admin_client, session
):
    add(admin_client, TEAMS_URL, kind="teams")
    [channel] = channels(session)

    act(admin_client, channel, "pause")
    act(admin_client, channel, "pause")  # a second click changes nothing
    refused = act(admin_client, channel, "test")
    assert refused.status_code == 302
    assert "resume it to send a test message" in channels_page(admin_client).flashes()[0]
    session.refresh(channel)
    assert not channel.active and channel.paused_reason is None
    shown = channels_page(admin_client)
    assert shown.buttons(shown.by_id(f"channel-{channel.id}")) == ["Resume", "Delete"]
    act(admin_client, channel, "resume")
    act(admin_client, channel, "test")
    response = act(admin_client, channel, "delete")

    assert response.status_code == 302
    assert "1 unsent message was cancelled" in channels_page(admin_client).flashes()[0]
    assert channels(session) == []
    [test] = session.scalars(select(OutboxMessage)).all()
    assert test.status == "cancelled" and "deleted by Ada Admin" in test.last_error
    assert [entry.action for entry in audit(session)] == [
        "chat_channel.created",
        "chat_channel.paused",
        "chat_channel.resumed",
        "chat_channel.tested",
        "chat_channel.deleted",
    ]


def test_an_unknown_channel_answers_404(admin_client):
    for action in ("test", "pause", "resume", "delete"):
        response = admin_client.post(
            f"/admin/channels/999/{action}", data={"csrf_token": token(admin_client)}
        )
        assert response.status_code == 404, action


def test_the_page_is_in_the_admin_navigation_and_linked_from_the_webhooks_page(admin_client):
    shown = page(admin_client.get("/admin/dashboard"))
    assert shown.links(shown.by_label("Admin"))["Slack and Teams"] == "/admin/channels"
    webhooks = page(admin_client.get("/admin/webhooks"))
    assert webhooks.links()["Slack and Teams"] == "/admin/channels"


def test_owners_are_refused_and_nothing_changes(client, session):
    channel = WebhookEndpoint(
        kind="slack", url=SLACK_URL, events=["case_opened"], secret="whsec_test", active=True
    )
    session.add(channel)
    owner = make_user(session, role="owner")
    session.commit()
    log_in(client, owner)
    form = {"csrf_token": csrf_token(client, "/inbox")}

    assert client.get("/admin/channels").status_code == 403
    assert (
        client.post("/admin/channels", data={**form, "kind": "slack", "url": SLACK_URL}).status_code
        == 403
    )
    for action in ("test", "pause", "resume", "delete"):
        assert client.post(f"/admin/channels/{channel.id}/{action}", data=form).status_code == 403

    session.refresh(channel)
    assert channel.active and len(channels(session)) == 1
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert audit(session) == []


# --- in a browser -----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("width", [360, 1280])
def test_an_admin_adds_a_teams_channel_in_a_browser_and_sends_a_test_message(
    committed_app, live_server, browser, artifacts_dir, backend, webhook_receiver, width
):
    committed_app.config["CHAT_WEBHOOKS_ANY_HOST"] = True
    base = live_server(committed_app)
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        admin_email = make_user(session, role="admin", name="Ada Admin").email
        make_user(session, name="Olivia Owner")
        session.commit()
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    tab.goto(f"{base}/login?next=/admin/channels")
    tab.fill("input[name=email]", admin_email)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base}/admin/channels")

    tab.get_by_label("Microsoft Teams").check()
    tab.fill("input[name=url]", webhook_receiver.url_for("/webhookb2/care"))
    tab.fill("input[name=name]", "Customer care")
    tab.get_by_role("checkbox", name=re.compile("weekly summary")).check()
    tab.select_option("select[name=owner_id]", label="Olivia Owner's cases")
    tab.get_by_role("button", name="Add the channel").click()
    expect(tab.get_by_role("heading", name="Customer care")).to_be_visible()
    tab.get_by_role("button", name=re.compile("Send a test message")).click()
    expect(tab.locator(".flash, [role=status]").first).to_be_visible()
    result = committed_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    tab.reload()

    [request] = webhook_receiver.requests
    assert request.json["attachments"][0]["content"]["type"] == "AdaptiveCard"
    assert tab.locator(".deliveries .badge-sent").count() == 1
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    tab.screenshot(
        path=str(artifacts_dir / f"admin-channels-{width}-{backend}.png"), full_page=True
    )
    context.close()
