"""Replies by email: SendGrid Inbound Parse posts what comes back to a case's signed address.

Each path goes through HTTP as SendGrid would post it (the parsed form, or the
raw MIME), with messages built by Python's email library as mail programs write
them: a Gmail-style "On … wrote:" quote, a signature, a Latin-1 body, files.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from surveys.mail.reply_addresses import case_address
from surveys.models import Case, CaseAttachment, CaseEvent, OutboxMessage
from tests.factories import make_api_key, make_user
from tests.journey import act_on_case, mails_to, run_worker, unhappy_customer
from tests.pages import page
from tests.test_webhooks_out import add_endpoint
from tests.web import log_in

ANA = "ana@example.com"
OLIVIA = "olivia@shop.example"
DOMAIN = "reply.shop.test"
PASSWORD = "parse-password-123"
QUOTE = (
    "\n\nOn Mon, Nov 23, 2026 at 10:00 AM Olivia Bennett <{address}> wrote:\n"
    "> Dear Ana,\n> I am so sorry about the broken key.\n"
)


@pytest.fixture
def people(session):
    owner = make_user(session, email=OLIVIA, name="Olivia Bennett")
    other = make_user(session, email="ben@shop.example", name="Ben Baker")
    admin = make_user(session, role="admin", email="alex@shop.example", name="Alex Morgan")
    _key, raw = make_api_key(session, "Shop")
    session.commit()
    return {"owner": owner, "other": other, "admin": admin, "raw_key": raw}


@pytest.fixture
def inbound(app):
    app.config.update(INBOUND_DOMAIN=DOMAIN, INBOUND_PARSE_PASSWORD=PASSWORD)


@pytest.fixture
def case(client, session, runner, clock, fake_sendgrid, people, inbound):
    return unhappy_customer(
        client, session, runner, fake_sendgrid, raw_key=people["raw_key"], owner_email=OLIVIA
    )


def address(case_id: int, audience: str = "customer") -> str:
    return case_address("test-secret-key", DOMAIN, case_id, audience)


def basic(password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"inbound:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def multipart(fields: dict[str, bytes], files: dict[str, tuple[str, str, bytes]] | None = None):
    """The body SendGrid posts: every field as raw bytes (in the charset `charsets` names)."""
    boundary = b"xYzZY-inbound-parse"
    body = b""
    for name, value in fields.items():
        body += b"--" + boundary + b"\r\n"
        body += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
    for name, (filename, content_type, content) in (files or {}).items():
        body += b"--" + boundary + b"\r\n"
        body += (
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        body += content + b"\r\n"
    body += b"--" + boundary + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary.decode()}"


def post_parsed(
    client,
    *,
    sender,
    to,
    text,
    subject="Re: Your keyboard",
    charset="UTF-8",
    files=None,
    headers_text="",
    password=PASSWORD,
    extra=None,
):
    encoded = text.encode(charset)
    fields = {
        "from": sender.encode(),
        "to": to.encode(),
        "subject": subject.encode(),
        "text": encoded,
        "headers": (headers_text or f"From: {sender}\nTo: {to}\n").encode(),
        "envelope": json.dumps({"to": [to], "from": sender}).encode(),
        "charsets": json.dumps(
            {"from": "UTF-8", "to": "UTF-8", "subject": "UTF-8", "text": charset}
        ).encode(),
        "SPF": b"pass",
    }
    if files:
        fields["attachments"] = str(len(files)).encode()
        fields["attachment-info"] = json.dumps(
            {name: {"filename": f, "type": t} for name, (f, t, _c) in files.items()}
        ).encode()
    fields.update(extra or {})
    body, content_type = multipart(fields, files)
    return client.post(
        "/webhooks/inbound", data=body, content_type=content_type, headers=basic(password)
    )


def post_raw(client, message: EmailMessage, *, to: str):
    fields = {
        "email": message.as_bytes(),
        "envelope": json.dumps({"to": [to], "from": message["From"]}).encode(),
        "charsets": b'{"to": "UTF-8"}',
    }
    body, content_type = multipart(fields)
    return client.post("/webhooks/inbound", data=body, content_type=content_type, headers=basic())


def mime(sender: str, to: str, text: str, *, charset: str = "utf-8") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: Your keyboard"
    message.set_content(text, charset=charset)
    return message


def events(session, case_id: int, kind: str) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            .order_by(CaseEvent.id)
        )
    )


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- the customer ----------------------------------------------------------------------------


def test_the_customers_reply_lands_on_the_case_without_the_quote_and_the_owner_is_emailed(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people["owner"])
    act_on_case(
        client,
        case.id,
        "replies",
        understood="Your keyboard stopped working within a week of buying it.",
        will_do="A new keyboard leaves today; you will have it by Thursday.",
    )
    run_worker(runner)
    [reply_mail] = [m for m in mails_to(fake_sendgrid, ANA) if m.categories == ["reply"]]
    # The reply's Reply-To is the case's signed address, not Olivia's own.
    assert reply_mail.reply_to == address(case.id)

    clock.advance(hours=30)
    words = "Merci Olivia! Ça marche, mais la touche « é » colle encore."
    response = post_parsed(
        client,
        sender=f"Ana Diaz <{ANA}>",
        to=reply_mail.reply_to,
        text=words + "\n\nBest regards,\nAna" + QUOTE.format(address=reply_mail.reply_to),
        charset="iso-8859-1",
    )
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "customer_replied"

    [event] = events(session, case.id, "customer_replied")
    assert event.body == words
    assert event.data["subject"] == "Re: Your keyboard"
    # It was waiting on Ana: Olivia's clock starts again, as for a new case.
    reloaded = session.get(Case, case.id)
    assert reloaded.acknowledge_by == clock.now() + timedelta(hours=4)
    assert reloaded.resolve_by == clock.now() + timedelta(hours=48)

    run_worker(runner)
    [to_owner] = [
        m for m in mails_to(fake_sendgrid, OLIVIA) if m.categories == ["customer_replied"]
    ]
    assert words in to_owner.text
    assert "wrote:" not in to_owner.text
    assert f"http://surveys.test/cases/{case.id}" in to_owner.text
    # Olivia may answer from her phone: her Reply-To is the owner's address of the case.
    assert to_owner.reply_to == address(case.id, "owner")

    shown = page(client.get(f"/cases/{case.id}"))
    assert "Replied by Ana Diaz" in shown.text
    assert words in shown.text


def test_a_resolved_case_reopens_when_the_customer_writes_back(
    client, session, runner, clock, fake_sendgrid, people, case
):
    log_in(client, people["owner"])
    act_on_case(
        client, case.id, "resolve", ask_in_days="0", resolution="Sent a new keyboard by express."
    )
    run_worker(runner)
    [fix_check] = [m for m in mails_to(fake_sendgrid, ANA) if "fixed" in m.subject]
    assert fix_check.reply_to == address(case.id)

    clock.advance(days=1)
    post_parsed(
        client, sender=ANA, to=fix_check.reply_to, text="The new one has the same sticky key."
    )

    reopened = session.get(Case, case.id)
    assert reopened.status == "acknowledged"
    assert reopened.resolve_by == clock.now() + timedelta(hours=48)
    [event] = events(session, case.id, "reopened")
    assert event.data["by"] == "customer_reply"
    run_worker(runner)
    [to_owner] = [
        m for m in mails_to(fake_sendgrid, OLIVIA) if m.categories == ["customer_replied"]
    ]
    assert "open again" in to_owner.subject
    assert "same sticky key" in to_owner.text


def test_the_customer_replied_webhook_goes_out(
    client, session, runner, clock, fake_sendgrid, webhook_receiver, people, case
):
    add_endpoint(session, webhook_receiver.url_for(), events=["case.customer_replied"])
    post_parsed(client, sender=ANA, to=address(case.id), text="Any news about my keyboard?")
    run_worker(runner)
    assert webhook_receiver.events() == ["case.customer_replied"]
    [request] = webhook_receiver.requests
    assert request.json["data"]["id"] == case.id


# --- the owner, from their mailbox -----------------------------------------------------------


def test_the_owners_answer_from_their_mailbox_goes_to_the_customer_as_a_reply(
    client, session, runner, clock, fake_sendgrid, people, case
):
    run_worker(runner)
    [new_case] = [m for m in mails_to(fake_sendgrid, OLIVIA) if m.categories == ["owner_new_case"]]
    assert new_case.reply_to == address(case.id, "owner")

    words = "Dear Ana, I am so sorry. A new keyboard leaves today by express."
    message = mime(
        f"Olivia Bennett <{OLIVIA}>",
        new_case.reply_to,
        words + QUOTE.format(address=new_case.reply_to),
    )
    response = post_raw(client, message, to=new_case.reply_to)
    assert response.get_json()["outcome"] == "owner_replied"

    [event] = events(session, case.id, "reply")
    assert event.body == words
    assert event.data["via"] == "email"
    assert event.actor_user_id == people["owner"].id
    assert session.get(Case, case.id).status == "acknowledged"
    run_worker(runner)
    [to_ana] = [m for m in mails_to(fake_sendgrid, ANA) if m.categories == ["reply"]]
    assert words in to_ana.text
    assert "wrote:" not in to_ana.text
    assert to_ana.reply_to == address(case.id)


def test_the_owner_writing_to_the_customers_address_is_not_relayed(
    client, session, runner, clock, fake_sendgrid, people, case
):
    # Whoever knows the customer's address could pretend to be the owner.
    message = mime(OLIVIA, address(case.id), "Please send me your card number.")
    response = post_raw(client, message, to=address(case.id))
    assert response.get_json()["outcome"] == "unverified"
    assert events(session, case.id, "reply") == []
    [kept] = events(session, case.id, "unverified_message")
    assert kept.data["from"] == OLIVIA


# --- anyone else -----------------------------------------------------------------------------


def test_a_stranger_is_kept_aside_and_never_relayed(
    client, session, runner, clock, fake_sendgrid, people, case
):
    response = post_parsed(
        client, sender="mallory@evil.example", to=address(case.id), text="Click this link."
    )
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "unverified"
    [kept] = events(session, case.id, "unverified_message")
    assert kept.body == "Click this link."
    assert "neither the customer nor the owner" in kept.data["reason"]
    assert events(session, case.id, "customer_replied") == []
    run_worker(runner)
    assert not [m for m in fake_sendgrid.accepted if "Click this link" in (m.text or "")]
    log_in(client, people["owner"])
    assert "Unverified message" in page(client.get(f"/cases/{case.id}")).text


@pytest.mark.parametrize("signature", ["wrongwrongwrong0", ""])
def test_a_bad_or_missing_signature_is_kept_aside(
    client, session, runner, clock, fake_sendgrid, people, case, signature
):
    to = f"case-{case.id}-{signature}@{DOMAIN}" if signature else f"case-{case.id}@{DOMAIN}"
    response = post_parsed(client, sender=ANA, to=to, text="Hello?")
    assert response.get_json()["outcome"] == "unverified"
    [kept] = events(session, case.id, "unverified_message")
    assert "signature" in kept.data["reason"]
    assert events(session, case.id, "customer_replied") == []


def test_automatic_replies_and_unknown_addresses_are_ignored_with_200(
    client, session, runner, clock, fake_sendgrid, people, case
):
    before = count(session, CaseEvent)
    out_of_office = post_parsed(
        client,
        sender=ANA,
        to=address(case.id),
        text="I am away until Monday.",
        headers_text=f"From: {ANA}\nAuto-Submitted: auto-replied\n",
    )
    elsewhere = post_parsed(client, sender=ANA, to="sales@shop.test", text="Hello")
    no_case = post_parsed(client, sender=ANA, to=address(99999), text="Hello")
    for response in (out_of_office, elsewhere, no_case):
        assert response.status_code == 200
        assert response.get_json()["outcome"] == "ignored"
    assert count(session, CaseEvent) == before


# --- the door --------------------------------------------------------------------------------


def test_a_wrong_or_missing_password_is_401_and_records_nothing(
    client, session, runner, clock, fake_sendgrid, people, case
):
    before = count(session, CaseEvent)
    wrong = post_parsed(client, sender=ANA, to=address(case.id), text="Hi", password="guess")
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    missing = client.post("/webhooks/inbound", data={"text": "Hi"})
    assert missing.status_code == 401
    assert count(session, CaseEvent) == before


def test_the_endpoint_is_404_while_the_password_is_unset(app, client, session):
    app.config["INBOUND_PARSE_PASSWORD"] = None
    assert client.post("/webhooks/inbound", headers=basic("anything")).status_code == 404


def test_garbage_is_answered_200_and_stored_clean(
    client, session, runner, clock, fake_sendgrid, people, case
):
    not_a_form = client.post("/webhooks/inbound", data=b"\x00\xff", headers=basic())
    assert not_a_form.status_code == 200
    assert not_a_form.get_json()["outcome"] == "ignored"

    fields = {
        "from": ANA.encode(),
        "to": address(case.id).encode(),
        "subject": b"Re: \xed\xa0\x80 broken \x00",
        "text": b"Nul\x00 here \xff\xfe and a lone \xed\xa0\x80 surrogate",
        "charsets": b'{"text": "no-such-charset", "subject": "utf-8"}',
        "envelope": b"{not json",
    }
    body, content_type = multipart(fields)
    response = client.post(
        "/webhooks/inbound", data=body, content_type=content_type, headers=basic()
    )
    assert response.status_code == 200
    [event] = events(session, case.id, "customer_replied")
    assert "\x00" not in event.body and "Nul" in event.body
    event.body.encode("utf-8")  # storable: no lone surrogate


# --- attachments -----------------------------------------------------------------------------


def test_files_are_kept_up_to_10_mb_and_only_the_owner_and_admins_download_them(
    client, session, runner, clock, fake_sendgrid, people, case
):
    photo = b"\x89PNG\r\n\x1a\n" + b"x" * 1000
    big = b"v" * (10 * 1024 * 1024)
    response = post_parsed(
        client,
        sender=ANA,
        to=address(case.id),
        text="Here is a photo of the key, and a video.",
        files={
            "attachment1": ("../../key photo.png", "image/png", photo),
            "attachment2": ("video.mp4", "video/mp4", big),
        },
    )
    assert response.status_code == 200
    [event] = events(session, case.id, "customer_replied")
    kept, refused = event.data["attachments"]
    assert kept["filename"] == "key photo.png" and kept["size"] == len(photo)
    assert refused["id"] is None and "10 MB" in refused["not_kept"]
    assert count(session, CaseAttachment) == 1

    url = f"/cases/{case.id}/attachments/{kept['id']}"
    log_in(client, people["owner"])
    shown = page(client.get(f"/cases/{case.id}"))
    assert "video.mp4" in shown.text and "key photo.png" in shown.text
    download = client.get(url)
    assert download.status_code == 200
    assert download.data == photo
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    from tests.journey import log_in_as

    log_in_as(client, people["other"])
    assert client.get(url).status_code == 404
    log_in_as(client, people["admin"])
    assert client.get(url).status_code == 200
    assert client.get(f"/cases/{case.id}/attachments/{kept['id'] + 1}").status_code == 404


def test_an_html_file_is_downloaded_as_bytes(
    client, session, runner, clock, fake_sendgrid, people, case
):
    post_parsed(
        client,
        sender=ANA,
        to=address(case.id),
        text="See attached.",
        files={"attachment1": ("page.html", "text/html", b"<script>alert(1)</script>")},
    )
    [event] = events(session, case.id, "customer_replied")
    log_in(client, people["owner"])
    download = client.get(f"/cases/{case.id}/attachments/{event.data['attachments'][0]['id']}")
    assert download.mimetype == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")


# --- without INBOUND_DOMAIN, and offline ------------------------------------------------------


def test_without_inbound_domain_the_reply_to_stays_the_owner(
    app, client, session, runner, clock, fake_sendgrid, people, case
):
    app.config["INBOUND_DOMAIN"] = None
    log_in(client, people["owner"])
    act_on_case(
        client,
        case.id,
        "replies",
        understood="Your keyboard stopped working within a week of buying it.",
        will_do="A new keyboard leaves today; you will have it by Thursday.",
    )
    run_worker(runner)
    [reply_mail] = [m for m in mails_to(fake_sendgrid, ANA) if m.categories == ["reply"]]
    assert reply_mail.reply_to == OLIVIA


def test_mail_receive_feeds_one_eml_file_through_the_same_code(
    client, session, runner, clock, fake_sendgrid, people, case, tmp_path
):
    message = mime(
        f"Ana Diaz <{ANA}>",
        address(case.id),
        "Still waiting, thanks." + QUOTE.format(address=address(case.id)),
    )
    message.add_attachment(
        b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf"
    )
    path = tmp_path / "reply.eml"
    path.write_bytes(message.as_bytes())
    result = runner.invoke(args=["mail", "receive", str(path)])
    assert result.exit_code == 0, result.output
    assert f"customer_replied on case {case.id}" in result.output
    assert "receipt.pdf" in result.output
    [event] = events(session, case.id, "customer_replied")
    assert event.body == "Still waiting, thanks."
    assert [item["filename"] for item in event.data["attachments"]] == ["receipt.pdf"]
    assert session.scalars(select(OutboxMessage.template)).all().count("customer_replied") == 1
