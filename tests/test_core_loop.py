"""The whole loop, through HTTP, as the people involved live it.

A shop posts a purchase; the worker emails the survey through SendGrid (a fake
one on a local port); the customer follows the one-click link from that email,
answers unhappily; exactly one case opens for one owner, who is emailed at once
and finds it in their inbox.
"""

import re

from sqlalchemy import func, select

from surveys.models import Case, OutboxMessage, Response
from tests.factories import make_api_key, make_user
from tests.pages import page
from tests.web import csrf_token_from, log_in

LINK = re.compile(r"http://surveys\.test(/s/[A-Za-z0-9_-]+)\?a=(\w+)")


def one_click_links(mail) -> dict[str, str]:
    """The survey email's answer links, by answer value (paths only)."""
    return {value: f"{path}?a={value}" for path, value in LINK.findall(mail.text)}


def test_a_negative_answer_reaches_one_owner_who_finds_it_in_the_inbox(
    client, session, runner, fake_sendgrid
):
    owner = make_user(session, role="owner", email="olivia@shop.example", name="Olivia Bennett")
    make_user(session, role="admin", email="alex@shop.example", name="Alex Morgan")
    _key, api_key = make_api_key(session)
    session.commit()

    created = client.post(
        "/api/v1/purchases",
        headers={"Authorization": f"Bearer {api_key}"},
        json={
            "order_id": "A-1001",
            "customer": {"email": "ana@example.com", "name": "Ana Diaz"},
            "total": "129.90",
            "currency": "EUR",
            "items": [
                {
                    "sku": "KB-1",
                    "name": "Keyboard",
                    "category": "hardware",
                    "quantity": 1,
                    "unit_price": "129.90",
                }
            ],
            "owner_email": "olivia@shop.example",
        },
    )
    assert created.status_code == 201
    assert created.json["survey"]["status"] == "scheduled"

    # The worker delivers the survey through SendGrid.
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    [survey_mail] = fake_sendgrid.accepted
    assert survey_mail.to_email == "ana@example.com"
    assert "your keyboard" in survey_mail.text
    links = one_click_links(survey_mail)
    assert set(links) == {"exceeding", "meeting", "short"}

    # Ana follows "falling short" from the email: the answer is chosen, nothing recorded yet.
    survey_page = client.get(links["short"])
    assert survey_page.status_code == 200
    shown = page(survey_page)
    assert shown.field_value("expectations") == "short"
    assert session.scalar(select(func.count(Response.id))) == 0

    survey_path = links["short"].split("?")[0]
    answered = client.post(
        survey_path,
        data={
            "csrf_token": shown.field_value("csrf_token"),
            "expectations": "short",
            "one_thing": "The keyboard arrived with a broken key.",
            "time_money": "somewhat",
            "recommend": "4",
        },
    )
    assert answered.status_code == 200
    assert "Thank you" in answered.get_data(as_text=True)

    [case] = session.scalars(select(Case)).all()
    assert case.owner_id == owner.id
    assert case.status == "open"

    # Olivia is emailed at once, with Ana's words and the link to the case.
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    owner_mails = [m for m in fake_sendgrid.accepted if m.to_email == "olivia@shop.example"]
    assert len(owner_mails) == 1
    assert "The keyboard arrived with a broken key." in owner_mails[0].text
    assert f"http://surveys.test/cases/{case.id}" in owner_mails[0].text
    assert (
        session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status != "sent"))
        == 0
    )

    # And finds it in her inbox.
    log_in(client, owner)
    inbox = client.get("/inbox").get_data(as_text=True)
    assert f"/cases/{case.id}" in inbox
    assert "Ana Diaz" in inbox
    case_page = client.get(f"/cases/{case.id}")
    assert case_page.status_code == 200
    assert "The keyboard arrived with a broken key." in case_page.get_data(as_text=True)


def test_a_positive_answer_from_the_email_opens_no_case(client, session, runner, fake_sendgrid):
    make_user(session, role="admin")
    _key, api_key = make_api_key(session)
    session.commit()
    client.post(
        "/api/v1/purchases",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"order_id": "A-2001", "customer": {"email": "ben@example.com"}},
    )
    runner.invoke(args=["worker", "--once"])
    [mail] = fake_sendgrid.accepted
    link = one_click_links(mail)["exceeding"]

    page = client.get(link).get_data(as_text=True)
    client.post(
        link.split("?")[0],
        data={"csrf_token": csrf_token_from(page), "expectations": "exceeding", "recommend": "10"},
    )

    assert session.scalar(select(func.count(Response.id))) == 1
    assert session.scalar(select(func.count(Case.id))) == 0
