"""SendGrid's signed Event Webhook at /webhooks/sendgrid.

Each test signs its batches the way SendGrid does: ECDSA P-256 over the
timestamp header followed by the raw body, base64 of the DER signature, with
a key pair generated for the test.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select

from surveys.models import Customer, EmailEvent, OutboxMessage, Survey, Touchpoint
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_api_key, make_customer, make_sent_survey

URL = "/webhooks/sendgrid"


class SendGridSigner:
    """Signs Event Webhook batches as SendGrid does, with its own key pair."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        der = self.private_key.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        )
        # What SendGrid's settings page shows: the DER key in base64, on one line.
        self.public_key = base64.b64encode(der).decode()

    def sign(self, body: bytes, timestamp: str) -> str:
        signature = self.private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()

    def headers(self, body: bytes, moment) -> dict[str, str]:
        timestamp = str(int(moment.timestamp()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": self.sign(body, timestamp),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }


@pytest.fixture
def signer(app) -> SendGridSigner:
    signer = SendGridSigner()
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = signer.public_key
    return signer


def post_events(client, signer, clock, events: list[dict], *, signed_at=None):
    body = json.dumps(events).encode()
    return client.post(URL, data=body, headers=signer.headers(body, signed_at or clock.now()))


def event(
    kind: str, email: str, clock, *, sg_event_id: str | None = None, minutes_ago: int = 1, **fields
) -> dict:
    """One event as SendGrid posts it (our custom_args travel as top-level fields)."""
    return {
        "email": email,
        "timestamp": int((clock.now() - timedelta(minutes=minutes_ago)).timestamp()),
        "event": kind,
        "sg_event_id": sg_event_id or f"{kind}-{email}-{minutes_ago}",
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        **fields,
    }


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def ana(session):
    return make_customer(session, email="ana@example.com", name="Ana Diaz")


@pytest.fixture
def sent_survey(session, ana, clock):
    survey, _token = make_sent_survey(session, ana, sent_at=clock.now() - timedelta(hours=1))
    session.commit()
    return survey


# --- who may post ----------------------------------------------------------------------


def test_endpoint_does_not_exist_while_no_public_key_is_configured(client, session, clock):
    body = json.dumps([{"event": "delivered", "email": "ana@example.com"}]).encode()
    response = client.post(URL, data=body, headers=SendGridSigner().headers(body, clock.now()))

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert count(session, EmailEvent) == 0


def test_signed_batch_is_recorded_and_answered_200(client, session, signer, clock, sent_survey):
    events = [
        event("processed", "ana@example.com", clock, survey_id=str(sent_survey.id)),
        event("delivered", "ana@example.com", clock, survey_id=str(sent_survey.id)),
    ]

    response = post_events(client, signer, clock, events)

    assert response.status_code == 200
    assert response.json == {"received": 2, "recorded": 2}
    recorded = session.scalars(select(EmailEvent).order_by(EmailEvent.id)).all()
    assert [(e.event, e.email, e.survey_id) for e in recorded] == [
        ("processed", "ana@example.com", sent_survey.id),
        ("delivered", "ana@example.com", sent_survey.id),
    ]
    assert recorded[0].payload == events[0]
    assert recorded[0].occurred_at == clock.now().replace(second=0) - timedelta(minutes=1)


def test_batch_signed_with_another_key_is_refused_and_changes_nothing(
    client, session, signer, clock, ana
):
    impostor = SendGridSigner()
    body = json.dumps([event("unsubscribe", "ana@example.com", clock)]).encode()

    response = client.post(URL, data=body, headers=impostor.headers(body, clock.now()))

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Invalid signature"
    assert count(session, EmailEvent) == 0
    assert session.get(Customer, ana.id).suppressed_at is None


def test_body_changed_after_signing_is_refused(client, session, signer, clock, ana):
    signed = json.dumps([event("delivered", "ana@example.com", clock)]).encode()
    tampered = json.dumps([event("spamreport", "ana@example.com", clock)]).encode()

    response = client.post(URL, data=tampered, headers=signer.headers(signed, clock.now()))

    assert response.status_code == 401
    assert session.get(Customer, ana.id).suppressed_at is None


def test_timestamp_changed_after_signing_is_refused(client, session, signer, clock):
    body = json.dumps([event("delivered", "ana@example.com", clock)]).encode()
    headers = signer.headers(body, clock.now() - timedelta(minutes=1))
    headers["X-Twilio-Email-Event-Webhook-Timestamp"] = str(int(clock.now().timestamp()))

    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert count(session, EmailEvent) == 0


@pytest.mark.parametrize(
    "missing",
    [
        ("X-Twilio-Email-Event-Webhook-Signature", "X-Twilio-Email-Event-Webhook-Timestamp"),
        ("X-Twilio-Email-Event-Webhook-Signature",),
        ("X-Twilio-Email-Event-Webhook-Timestamp",),
    ],
)
def test_unsigned_batch_is_refused(client, session, signer, clock, ana, missing):
    body = json.dumps([event("unsubscribe", "ana@example.com", clock)]).encode()
    headers = {
        name: value
        for name, value in signer.headers(body, clock.now()).items()
        if name not in missing
    }

    response = client.post(URL, data=body, headers=headers)

    assert response.status_code == 401
    assert response.json["status"] == 401
    assert count(session, EmailEvent) == 0
    assert session.get(Customer, ana.id).suppressed_at is None


@pytest.mark.parametrize("signature", ["not base64 at all!", base64.b64encode(b"junk").decode()])
def test_garbage_signature_is_refused(client, session, signer, clock, signature):
    body = json.dumps([event("delivered", "ana@example.com", clock)]).encode()
    headers = signer.headers(body, clock.now())
    headers["X-Twilio-Email-Event-Webhook-Signature"] = signature

    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert count(session, EmailEvent) == 0


@pytest.mark.parametrize("age", [timedelta(minutes=11), timedelta(hours=3), -timedelta(minutes=11)])
def test_stale_or_future_signature_is_refused_though_valid(
    client, session, signer, clock, ana, age
):
    response = post_events(
        client,
        signer,
        clock,
        [event("unsubscribe", "ana@example.com", clock)],
        signed_at=clock.now() - age,
    )

    assert response.status_code == 401
    assert response.json["title"] == "Stale request"
    assert session.get(Customer, ana.id).suppressed_at is None


def test_signature_a_few_minutes_old_is_accepted(client, session, signer, clock):
    response = post_events(
        client,
        signer,
        clock,
        [event("delivered", "ana@example.com", clock)],
        signed_at=clock.now() - timedelta(minutes=9),
    )

    assert response.status_code == 200


def test_signed_body_that_is_not_a_list_of_events_is_400(client, session, signer, clock):
    body = json.dumps({"event": "delivered"}).encode()
    response = client.post(URL, data=body, headers=signer.headers(body, clock.now()))

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


# --- duplicates ----------------------------------------------------------------------------


def test_a_batch_posted_twice_records_and_acts_once(client, session, signer, clock, ana):
    events = [
        event("bounce", "ana@example.com", clock, reason="550 5.1.1 No such user", type="bounce"),
        event("delivered", "ben@example.com", clock),
    ]

    first = post_events(client, signer, clock, events)
    clock.advance(minutes=2)
    again = post_events(client, signer, clock, events)

    assert first.json == {"received": 2, "recorded": 2}
    assert again.status_code == 200 and again.json == {"received": 2, "recorded": 0}
    assert count(session, EmailEvent) == 2
    customer = session.get(Customer, ana.id)
    # Suppressed once, at the first post (a bounce is no touch point: see the ledger).
    assert customer.suppressed_at == clock.now() - timedelta(minutes=2)


def test_the_same_event_twice_in_one_batch_counts_once(client, session, signer, clock, sent_survey):
    delivered = event("delivered", "ana@example.com", clock, survey_id=str(sent_survey.id))

    response = post_events(client, signer, clock, [delivered, delivered])

    assert response.json == {"received": 2, "recorded": 1}
    assert count(session, EmailEvent) == 1


# --- suppressing events ------------------------------------------------------------------------


SUPPRESSING = [
    (
        {
            "event": "bounce",
            "type": "bounce",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        },
        "bounced (550 5.1.1 The email account that you tried to reach does not exist)",
    ),
    ({"event": "dropped", "reason": "Bounced Address"}, "dropped by SendGrid (Bounced Address)"),
    ({"event": "spamreport"}, "reported our email as spam"),
    ({"event": "unsubscribe"}, "unsubscribed through SendGrid"),
    ({"event": "group_unsubscribe", "asm_group_id": 42}, "unsubscribed from SendGrid group 42"),
]


@pytest.mark.parametrize(
    ("fields", "reason"), SUPPRESSING, ids=[fields["event"] for fields, _ in SUPPRESSING]
)
def test_each_suppressing_event_suppresses_the_address_with_its_reason(
    client, session, signer, clock, ana, fields, reason
):
    waiting = schedule_survey(
        session,
        customer=ana,
        kind="fix_check",
        now=clock.now(),
        question_set=get_question_set(session, "fix-check"),
        send_at=clock.now() + timedelta(days=1),
    )
    session.commit()

    response = post_events(
        client, signer, clock, [event(fields["event"], "Ana@Example.com", clock, **fields)]
    )

    assert response.status_code == 200
    customer = session.get(Customer, ana.id)
    assert customer.suppressed_at == clock.now()
    assert customer.suppression_reason == reason
    # What was waiting to ask her something is cancelled.
    assert session.get(Survey, waiting.id).status == "cancelled"
    assert (
        session.scalar(select(OutboxMessage.status).where(OutboxMessage.survey_id == waiting.id))
        == "cancelled"
    )


@pytest.mark.parametrize(
    ("fields", "reason"), SUPPRESSING, ids=[fields["event"] for fields, _ in SUPPRESSING]
)
def test_a_suppressed_customer_gets_suppressed_on_their_next_purchase(
    client, session, signer, clock, ana, fields, reason
):
    _key, api_key = make_api_key(session)
    session.commit()
    post_events(client, signer, clock, [event(fields["event"], "ana@example.com", clock, **fields)])

    response = client.post(
        "/api/v1/purchases",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"order_id": "A-3001", "customer": {"email": "ana@example.com"}},
    )

    assert response.status_code == 201
    assert response.json["survey"]["status"] == "suppressed"
    survey = session.get(Survey, response.json["survey"]["id"])
    assert survey.status_reason == reason
    assert count(session, OutboxMessage, OutboxMessage.survey_id == survey.id) == 0


def test_a_bounce_suppresses_but_is_no_touch_point_the_customer_never_saw_it(
    client, session, signer, clock, ana, sent_survey
):
    post_events(
        client,
        signer,
        clock,
        [
            event(
                "bounce",
                "ana@example.com",
                clock,
                type="bounce",
                reason="550 No such user",
                survey_id=str(sent_survey.id),
                minutes_ago=3,
            )
        ],
    )

    assert session.scalars(select(Touchpoint).where(Touchpoint.customer_id == ana.id)).all() == []
    customer = session.get(Customer, ana.id)
    session.refresh(customer)
    assert customer.suppression_reason == "bounced (550 No such user)"
    assert customer.negative_touches == 0


def test_a_blocked_bounce_is_recorded_but_does_not_suppress(client, session, signer, clock, ana):
    # "blocked" is SendGrid's temporary refusal (our reputation, their rate limit), not the address.
    post_events(
        client,
        signer,
        clock,
        [event("bounce", "ana@example.com", clock, type="blocked", reason="421 Try again later")],
    )

    assert count(session, EmailEvent) == 1
    assert session.get(Customer, ana.id).suppressed_at is None
    assert count(session, Touchpoint) == 0


def test_the_first_suppression_reason_is_kept(client, session, signer, clock, ana):
    post_events(client, signer, clock, [event("unsubscribe", "ana@example.com", clock)])
    clock.advance(hours=1)
    post_events(client, signer, clock, [event("spamreport", "ana@example.com", clock)])

    customer = session.get(Customer, ana.id)
    assert customer.suppression_reason == "unsubscribed through SendGrid"
    assert customer.suppressed_at == clock.now() - timedelta(hours=1)


def test_a_suppressing_event_for_an_address_we_do_not_survey_is_only_recorded(
    client, session, signer, clock
):
    response = post_events(
        client, signer, clock, [event("bounce", "olivia@shop.example", clock, type="bounce")]
    )

    assert response.json == {"received": 1, "recorded": 1}
    assert count(session, Customer) == 0


# --- delivered, open, click ----------------------------------------------------------------------


def test_delivered_open_and_click_are_stamped_on_the_survey(
    client, session, signer, clock, sent_survey
):
    survey_id = str(sent_survey.id)
    post_events(
        client,
        signer,
        clock,
        [
            event("delivered", "ana@example.com", clock, survey_id=survey_id, minutes_ago=30),
            event("open", "ana@example.com", clock, survey_id=survey_id, minutes_ago=20),
            event(
                "click",
                "ana@example.com",
                clock,
                survey_id=survey_id,
                minutes_ago=19,
                url="http://surveys.test/s/x?a=short",
            ),
        ],
    )

    survey = session.get(Survey, sent_survey.id)
    start = clock.now().replace(second=0)
    assert survey.delivered_at == start - timedelta(minutes=30)
    assert survey.opened_at == start - timedelta(minutes=20)
    assert survey.clicked_at == start - timedelta(minutes=19)


def test_out_of_order_and_repeated_opens_keep_the_first_moment(
    client, session, signer, clock, sent_survey
):
    survey_id = str(sent_survey.id)
    post_events(
        client,
        signer,
        clock,
        [event("open", "ana@example.com", clock, survey_id=survey_id, minutes_ago=5)],
    )
    # An earlier open arrives late, then a later one: the earliest stays.
    post_events(
        client,
        signer,
        clock,
        [
            event("open", "ana@example.com", clock, survey_id=survey_id, minutes_ago=9),
            event("delivered", "ana@example.com", clock, survey_id=survey_id, minutes_ago=10),
        ],
    )
    clock.advance(hours=2)
    post_events(
        client,
        signer,
        clock,
        [event("open", "ana@example.com", clock, survey_id=survey_id, minutes_ago=1)],
    )

    survey = session.get(Survey, sent_survey.id)
    start = (clock.now() - timedelta(hours=2)).replace(second=0)
    assert survey.opened_at == start - timedelta(minutes=9)
    assert survey.delivered_at == start - timedelta(minutes=10)
    assert count(session, EmailEvent, EmailEvent.event == "open") == 3


def test_events_naming_surveys_or_messages_we_do_not_have_are_kept_without_them(
    client, session, signer, clock
):
    response = post_events(
        client,
        signer,
        clock,
        [
            event("delivered", "ana@example.com", clock, survey_id="999999", message_id="888888"),
            event("open", "ana@example.com", clock, survey_id="not-a-number"),
        ],
    )

    assert response.status_code == 200
    assert session.execute(select(EmailEvent.survey_id, EmailEvent.outbox_message_id)).all() == [
        (None, None),
        (None, None),
    ]


def test_custom_args_of_a_sent_survey_lead_its_events_back_to_it(
    client, session, signer, clock, runner, fake_sendgrid, ana
):
    survey = schedule_survey(
        session,
        customer=ana,
        kind="manual",
        now=clock.now(),
        question_set=get_question_set(session, "heart-to-heart"),
    )
    session.commit()
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    [mail] = fake_sendgrid.accepted

    post_events(
        client,
        signer,
        clock,
        [
            event("delivered", mail.to_email, clock, **mail.custom_args, minutes_ago=0),
        ],
    )

    recorded = session.scalars(select(EmailEvent)).one()
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.survey_id == survey.id)
    ).one()
    assert (recorded.survey_id, recorded.outbox_message_id) == (survey.id, message.id)
    assert session.get(Survey, survey.id).delivered_at == clock.now().replace(microsecond=0)
