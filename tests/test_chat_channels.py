"""Slack and Teams channels: each event posted once, formatted as each service documents (Slack
Block Kit with a `text` fallback; Teams a message with one Adaptive Card), the customer's words
first, then the score, the owner and the link to the case, nothing more about them; the owner
filter; retries on a 500; a channel answering 404 or 410 paused with the reason; the weekly
summary once a week. A local server stands in for Slack and Teams."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from surveys.clock import FrozenClock
from surveys.models import Case, OutboxMessage, WebhookEndpoint
from surveys.services.chat_channels.events import EVENTS
from surveys.services.chat_channels.notify import notify_case, queue_weekly_summaries
from surveys.services.customers.erasure import erase_customer
from surveys.services.webhooks_out.endpoints import send_ping
from tests.conftest import TEST_START
from tests.factories import make_api_key, make_user
from tests.fake_sendgrid import Reply
from tests.journey import (
    UNHAPPY,
    answer_survey,
    bearer,
    latest_fix_check_path,
    run_worker,
    unhappy_customer,
)
from tests.pages import page, text_of
from tests.test_inbound_email import ANA, address, post_parsed
from tests.web import csrf_token, log_in

WORDS = UNHAPPY["one_thing"]
ALL_EVENTS = list(EVENTS)


@pytest.fixture
def people(session):
    owner = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    other = make_user(session, email="ben@shop.example", name="Ben Baker")
    make_user(session, role="admin", name="Ada Admin")
    _key, raw_key = make_api_key(session)
    session.commit()
    return {"owner": owner, "other": other, "raw_key": raw_key}


def add_channel(session, url, kind="slack", events=ALL_EVENTS, owner=None) -> WebhookEndpoint:
    channel = WebhookEndpoint(
        kind=kind,
        url=url,
        events=list(events),
        secret="whsec_unused",
        owner_id=owner.id if owner else None,
        active=True,
        # Added when the test starts (Monday 09:00): its first summary is the next Monday's.
        created_at=TEST_START,
    )
    session.add(channel)
    session.commit()
    return channel


def open_a_case(client, session, runner, fake_sendgrid, people, owner=None, **kwargs) -> Case:
    owner = owner or people["owner"]
    return unhappy_customer(
        client,
        session,
        runner,
        fake_sendgrid,
        raw_key=people["raw_key"],
        owner_email=owner.email,
        **kwargs,
    )


def templates(receiver_requests) -> list[str]:
    return [request.headers["X-Surveys-Event"] for request in receiver_requests]


def slack_words(body: dict) -> str:
    return body["blocks"][0]["text"]["text"]


def slack_context(body: dict) -> list[str]:
    return [element["text"] for element in body["blocks"][-1]["elements"]]


def assert_slack_shape(body: dict) -> None:
    """Block Kit as Slack documents it for incoming webhooks: `text` and `blocks`."""
    assert set(body) == {"text", "blocks"} and body["text"].strip()
    for block in body["blocks"]:
        assert block["type"] in ("section", "context")
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= 3000
        else:
            assert 1 <= len(block["elements"]) <= 10
            assert all(element["type"] == "mrkdwn" for element in block["elements"])


def teams_card(body: dict) -> dict:
    """The Adaptive Card of a Teams message, after checking the message's documented shape."""
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert all(item["type"] in ("TextBlock", "FactSet") for item in card["body"])
    return card


# --- what the messages say --------------------------------------------------------------------


def test_slack_gets_the_customers_words_first_then_score_owner_and_the_case_link(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_channel(session, webhook_receiver.url_for(), events=["case_opened"])

    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    [request] = webhook_receiver.requests
    body = request.json
    assert_slack_shape(body)
    assert slack_words(body) == f"> {WORDS}"
    assert body["blocks"][1]["text"]["text"] == f"*Case #{case.id} opened*"
    assert slack_context(body) == [
        "*Score:* 4 out of 10",
        "*Owner:* Olivia Bennett",
        "*Status:* open",
        f"<http://surveys.test/cases/{case.id}|Open case #{case.id}>",
    ]
    assert body["text"].startswith(f"“{WORDS}” — Case #{case.id} opened")
    # Nothing about the customer beyond their words: no name, no address.
    assert "Ana" not in request.body.decode() and "example.com" not in request.body.decode()
    assert "X-Surveys-Signature" not in request.headers


def test_teams_gets_an_adaptive_card_with_the_words_first_and_a_button_to_the_case(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_channel(session, webhook_receiver.url_for(), kind="teams", events=["case_opened"])

    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    [request] = webhook_receiver.requests
    card = teams_card(request.json)
    words, headline, facts = card["body"]
    assert words == {"type": "TextBlock", "text": f"“{WORDS}”", "wrap": True, "size": "Medium"}
    assert headline["text"] == f"Case #{case.id} opened" and headline["weight"] == "Bolder"
    assert facts["facts"] == [
        {"title": "Score", "value": "4 out of 10"},
        {"title": "Owner", "value": "Olivia Bennett"},
        {"title": "Status", "value": "open"},
    ]
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": f"Open case #{case.id}",
            "url": f"http://surveys.test/cases/{case.id}",
        }
    ]
    assert "Ana" not in request.body.decode()


def test_what_a_customer_wrote_is_shown_as_written_not_as_slack_markup(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_channel(session, webhook_receiver.url_for(), events=["negative_response"])

    open_a_case(
        client,
        session,
        runner,
        fake_sendgrid,
        people,
        answers={**UNHAPPY, "one_thing": "Broken <!channel> & <http://x.example|click>"},
    )
    run_worker(runner)

    [request] = webhook_receiver.requests
    assert slack_words(request.json) == (
        "> Broken &lt;!channel&gt; &amp; &lt;http://x.example|click&gt;"
    )


# --- each event -------------------------------------------------------------------------------


def test_a_negative_answer_posts_negative_response_and_case_opened_once_each(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_channel(session, webhook_receiver.url_for())

    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)
    run_worker(runner)

    assert templates(webhook_receiver.requests) == ["chat.case_opened", "chat.negative_response"]
    negative = webhook_receiver.requests[1].json
    assert negative["blocks"][1]["text"]["text"] == f"*A negative answer on case #{case.id}*"
    assert WORDS in slack_words(negative)
    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    chat = [m for m in messages if m.template.startswith("chat.")]
    assert [(m.status, m.case_id) for m in chat] == [("sent", case.id)] * 2


def test_a_missed_deadline_posts_case_overdue_once(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    case = open_a_case(client, session, runner, fake_sendgrid, people)
    add_channel(session, webhook_receiver.url_for(), events=["case_overdue"])

    clock.advance(hours=4, minutes=1)
    run_worker(runner)
    run_worker(runner)

    assert templates(webhook_receiver.requests) == ["chat.case_overdue"]
    body = webhook_receiver.requests[0].json
    assert body["blocks"][1]["text"]["text"] == (
        f"*Case #{case.id} is overdue: not acknowledged by the deadline*"
    )
    assert WORDS in slack_words(body)


def test_a_fix_that_did_not_work_posts_case_reopened_and_one_that_did_fix_confirmed(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    case = open_a_case(client, session, runner, fake_sendgrid, people)
    add_channel(session, webhook_receiver.url_for(), events=["case_reopened", "fix_confirmed"])

    def resolve_and_answer(fix_worked: str):
        answer = client.post(
            f"/api/v1/cases/{case.id}/resolve",
            headers=bearer(people["raw_key"]),
            json={"resolution": "Sent a new keyboard.", "ask_in_days": 0},
        )
        assert answer.status_code == 200, answer.get_json()
        run_worker(runner)
        clock.advance(hours=1)
        answer_survey(client, latest_fix_check_path(fake_sendgrid, ANA), {"fix_worked": fix_worked})
        run_worker(runner)

    resolve_and_answer("no")
    resolve_and_answer("yes")

    assert templates(webhook_receiver.requests) == ["chat.case_reopened", "chat.fix_confirmed"]
    reopened, confirmed = (request.json for request in webhook_receiver.requests)
    assert reopened["blocks"][1]["text"]["text"] == f"*Case #{case.id} reopened*"
    assert "*Status:* acknowledged" in slack_context(reopened)
    assert confirmed["blocks"][1]["text"]["text"] == (
        f"*The customer confirmed the fix on case #{case.id}*"
    )
    assert "*Status:* closed" in slack_context(confirmed)


def test_a_customers_emailed_reply_posts_customer_replied_with_their_reply_first(
    app, client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    app.config.update(INBOUND_DOMAIN="reply.shop.test", INBOUND_PARSE_PASSWORD="parse-password-123")
    case = open_a_case(client, session, runner, fake_sendgrid, people)
    add_channel(session, webhook_receiver.url_for(), kind="teams", events=["customer_replied"])

    post_parsed(client, sender=ANA, to=address(case.id), text="Any news about my keyboard?")
    run_worker(runner)

    assert templates(webhook_receiver.requests) == ["chat.customer_replied"]
    card = teams_card(webhook_receiver.requests[0].json)
    assert card["body"][0]["text"] == "“Any news about my keyboard?”"
    assert card["body"][1]["text"] == f"The customer replied on case #{case.id}"


def test_a_channel_hears_only_the_events_it_chose(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_channel(session, webhook_receiver.url_for(), events=["fix_confirmed", "weekly_summary"])

    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    assert webhook_receiver.requests == []
    assert not [m for m in session.scalars(select(OutboxMessage)) if m.template.startswith("chat.")]


def test_the_owner_filter_posts_only_that_owners_cases(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_channel(session, webhook_receiver.url_for(), events=["case_opened"], owner=people["owner"])

    bens = open_a_case(
        client, session, runner, fake_sendgrid, people, owner=people["other"], order_id="B-1"
    )
    olivias = open_a_case(
        client,
        session,
        runner,
        fake_sendgrid,
        people,
        email="carla@example.com",
        name="Carla",
        order_id="C-1",
    )
    run_worker(runner)

    assert bens.owner_id == people["other"].id and olivias.owner_id == people["owner"].id
    [request] = webhook_receiver.requests
    assert f"Case #{olivias.id} opened" in request.json["text"]


# --- delivery: retries, pausing -------------------------------------------------------------


def test_a_500_is_retried_with_backoff_until_slack_takes_it(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_channel(session, webhook_receiver.url_for(), events=["case_opened"])
    webhook_receiver.respond_with(Reply(500, message="rollup_error"), Reply(503))
    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "chat.case_opened")
    ).one()

    for _ in range(2):
        session.refresh(message)
        assert message.status == "pending" and message.next_attempt_at > clock.now()
        clock.set(message.next_attempt_at)
        run_worker(runner)

    session.refresh(message)
    assert (message.status, message.attempts) == ("sent", 3)
    assert [request.status for request in webhook_receiver.requests] == [500, 503, 200]
    assert len({request.body for request in webhook_receiver.requests}) == 1


@pytest.mark.parametrize(("status", "said"), [(410, "channel_is_archived"), (404, "no_service")])
def test_a_channel_that_is_gone_is_paused_with_the_reason_and_resumed_by_an_admin(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver, status, said
):
    channel = add_channel(
        session, webhook_receiver.url_for(), events=["case_opened", "negative_response"]
    )
    webhook_receiver.respond_with(Reply(status, message=said))
    open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)

    session.refresh(channel)
    assert not channel.active
    assert channel.paused_reason.startswith(f"the endpoint answered {status}")
    assert said in channel.paused_reason
    # Paused: the second message is not even tried, and the first waits with it.
    clock.advance(hours=2)
    run_worker(runner)
    assert len(webhook_receiver.requests) == 1
    waiting = session.scalars(
        select(OutboxMessage).where(OutboxMessage.webhook_endpoint_id == channel.id)
    ).all()
    assert [m.status for m in waiting] == ["pending", "pending"]

    admin = make_user(session, role="admin", name="Alex Admin")
    session.commit()
    log_in(client, admin)
    shown = page(client.get("/admin/channels"))
    card = shown.by_id(f"channel-{channel.id}")
    assert said in text_of(card.select_one(".paused-reason"))
    assert "2 messages wait until you resume it" in text_of(card)
    client.post(
        f"/admin/channels/{channel.id}/resume",
        data={"csrf_token": csrf_token(client, "/admin/channels")},
    )
    run_worker(runner)

    session.refresh(channel)
    assert channel.active and channel.paused_reason is None
    assert [request.status for request in webhook_receiver.requests] == [status, 200, 200]
    outbox = page(client.get("/admin/outbox?status=sent"))
    links = [
        row["To"] for row in outbox.table_rows() if row["Message"].split()[1].startswith("chat.")
    ]
    assert links == [f"Slack or Teams channel {channel.id}"] * 2


def test_a_plain_webhook_endpoint_answering_410_is_not_paused(
    session, runner, clock, webhook_receiver
):
    endpoint = WebhookEndpoint(
        url=webhook_receiver.url_for(), events=["case.opened"], secret="whsec_x", active=True
    )
    session.add(endpoint)
    session.flush()
    admin = make_user(session, role="admin")
    webhook_receiver.respond_with(Reply(410))
    send_ping(session, endpoint, actor=admin, now=clock.now())
    session.commit()
    run_worker(runner)

    session.refresh(endpoint)
    assert endpoint.active and endpoint.paused_reason is None


# --- the weekly summary -----------------------------------------------------------------------


def test_the_weekly_summary_goes_on_monday_morning_once_a_week(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    case = open_a_case(client, session, runner, fake_sendgrid, people)  # Monday 23 Nov
    add_channel(session, webhook_receiver.url_for(), kind="teams", events=["weekly_summary"])

    run_worker(runner)  # added after this Monday's 08:00: its first summary is next week's
    assert webhook_receiver.requests == []
    clock.set(datetime.fromisoformat("2026-11-30T07:59:00+00:00"))
    run_worker(runner)
    assert webhook_receiver.requests == []
    clock.set(datetime.fromisoformat("2026-11-30T08:00:00+00:00"))
    run_worker(runner)
    run_worker(runner)
    clock.advance(days=3)
    run_worker(runner)

    [request] = webhook_receiver.requests
    card = teams_card(request.json)
    assert card["body"][0]["text"] == "Last week in Heart to Heart: 23 Nov – 29 Nov 2026"
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts == {
        "Answers": "1",
        "Negative": "1",
        "Cases opened": "1",
        "Cases closed": "0",
        "Open now": "1",
        "Overdue now": "1",
    }
    assert card["actions"][0]["url"] == "http://surveys.test/admin/dashboard"
    assert case.id
    clock.set(datetime.fromisoformat("2026-12-07T09:00:00+00:00"))
    run_worker(runner)
    assert len(webhook_receiver.requests) == 2


def test_an_owners_channel_summarises_that_owners_cases_only(
    client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    open_a_case(client, session, runner, fake_sendgrid, people)
    add_channel(
        session, webhook_receiver.url_for(), events=["weekly_summary"], owner=people["other"]
    )

    clock.set(datetime.fromisoformat("2026-11-30T09:00:00+00:00"))
    run_worker(runner)

    [request] = webhook_receiver.requests
    assert "Ben Baker's cases" in request.json["text"]
    assert slack_context(request.json) == [
        "*Cases opened:* 0",
        "*Cases closed:* 0",
        "*Open now:* 0",
        "*Overdue now:* 0",
        "<http://surveys.test/admin/dashboard|Open the dashboard>",
    ]


def test_two_workers_queue_the_weeks_summary_once(committed_app, tmp_path):
    with committed_app.app_context():
        factory = committed_app.extensions["db"]["sessionmaker"]
        with factory() as session:
            channel = WebhookEndpoint(
                kind="slack",
                url="https://hooks.slack.com/services/T/B/x",
                events=["weekly_summary"],
                secret="whsec_x",
                created_at=datetime.fromisoformat("2026-11-01T00:00:00+00:00"),
            )
            session.add(channel)
            session.commit()
        committed_app.extensions["clock"] = FrozenClock(
            datetime.fromisoformat("2026-11-30T09:00:00+00:00")
        )
        now = datetime.fromisoformat("2026-11-30T09:00:00+00:00")
        first, second = factory(), factory()
        assert queue_weekly_summaries(first, now) == 1
        first.commit()
        assert queue_weekly_summaries(second, now + timedelta(minutes=1)) == 0
        second.commit()
        first.close()
        second.close()
        with factory() as session:
            queued = session.scalars(
                select(OutboxMessage).where(OutboxMessage.template == "chat.weekly_summary")
            ).all()
            assert len(queued) == 1


# --- erasure ----------------------------------------------------------------------------------


def test_erasing_the_customer_removes_the_words_from_every_chat_message_and_stops_unsent_ones(
    app, client, session, runner, clock, fake_sendgrid, people, webhook_receiver
):
    add_channel(session, webhook_receiver.url_for(), events=["case_opened", "case_reopened"])
    case = open_a_case(client, session, runner, fake_sendgrid, people)
    run_worker(runner)  # case_opened is posted
    with app.app_context():  # the worker's, or a request's, in the app: links need BASE_URL
        notify_case(session, "case_reopened", case, now=clock.now())  # queued, not posted yet
    session.flush()

    erase_customer(session, case.customer, now=clock.now())
    session.commit()

    chat = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.template.like("chat.%"))
        .order_by(OutboxMessage.id)
    ).all()
    assert [(m.template, m.status, m.payload) for m in chat] == [
        ("chat.case_opened", "sent", {}),
        ("chat.case_reopened", "cancelled", {}),
    ]
    run_worker(runner)
    assert len(webhook_receiver.requests) == 1
