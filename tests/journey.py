"""Helpers for tests that live a case through HTTP the way its people do.

A shop posts a purchase with its API key; the worker delivers the survey
through the fake SendGrid; the customer follows the link from that email and
answers with the form's CSRF token; the owner works the case on its page with
the page's CSRF token. Nothing here writes rows directly.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from surveys.models import Case, Customer
from tests.web import csrf_token, csrf_token_from, log_in

SURVEY_LINK = re.compile(r"http://surveys\.test(/s/[A-Za-z0-9_-]+)")

UNHAPPY = {
    "expectations": "short",
    "one_thing": "The keyboard arrived with a broken key and nobody answered my email.",
    "time_money": "somewhat",
    "recommend": "4",
    "preferences": "I work nights, so please email rather than call.",
}


def bearer(raw_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_key}"}


def run_worker(runner) -> str:
    """One pass of `flask worker --once`: timed jobs, then every email due."""
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def post_purchase(
    client: FlaskClient,
    raw_key: str,
    *,
    order_id: str,
    email: str,
    name: str | None = None,
    owner_email: str | None = None,
) -> dict:
    body = {
        "order_id": order_id,
        "customer": {"email": email, **({"name": name} if name else {})},
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
    }
    if owner_email:
        body["owner_email"] = owner_email
    response = client.post("/api/v1/purchases", json=body, headers=bearer(raw_key))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def mails_to(fake_sendgrid, email: str) -> list:
    """Everything SendGrid accepted for this address, oldest first."""
    return [mail for mail in fake_sendgrid.accepted if mail.to_email == email]


def survey_path(mail) -> str:
    """The path of the personal survey link in an email."""
    match = SURVEY_LINK.search(mail.text)
    assert match, mail.text
    return match.group(1)


def answer_survey(client: FlaskClient, path: str, answers: dict[str, str]):
    """Open the survey page from the email's link and post the form, as the customer does."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    response = client.post(
        path, data={**answers, "csrf_token": csrf_token_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def unhappy_customer(
    client: FlaskClient,
    session,
    runner,
    fake_sendgrid,
    *,
    raw_key: str,
    owner_email: str | None,
    email: str = "ana@example.com",
    name: str = "Ana Diaz",
    order_id: str = "A-1001",
    answers: dict[str, str] | None = None,
) -> Case:
    """Purchase → survey email → an unhappy answer from its link: the case that opens."""
    post_purchase(
        client, raw_key, order_id=order_id, email=email, name=name, owner_email=owner_email
    )
    run_worker(runner)
    [survey_mail] = [m for m in mails_to(fake_sendgrid, email) if m.categories == ["survey"]]
    answer_survey(client, survey_path(survey_mail), answers or UNHAPPY)
    customer = session.scalar(select(Customer).where(Customer.email == email))
    return session.scalars(
        select(Case).where(Case.customer_id == customer.id).order_by(Case.id.desc())
    ).first()


def act_on_case(client: FlaskClient, case_id: int, action: str, **data):
    """POST one of the case page's forms with the page's CSRF token, as the browser would."""
    token = csrf_token(client, f"/cases/{case_id}")
    return client.post(f"/cases/{case_id}/{action}", data={**data, "csrf_token": token})


def latest_fix_check_path(fake_sendgrid, email: str) -> str:
    """The link of the newest fix-check survey emailed to the customer."""
    fix_checks = [
        mail
        for mail in mails_to(fake_sendgrid, email)
        if mail.categories == ["survey"] and "fixed" in mail.subject
    ]
    assert fix_checks, [mail.subject for mail in mails_to(fake_sendgrid, email)]
    return survey_path(fix_checks[-1])


def log_in_as(client: FlaskClient, user) -> None:
    """Log out whoever is logged in on this client, then log `user` in."""
    client.post("/logout", data={"csrf_token": csrf_token(client, "/inbox")})
    log_in(client, user)
