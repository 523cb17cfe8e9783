"""The rules mailbox providers hold bulk senders to (RFC 8058, RFC 2369), on every customer email.

Every email to a customer carries `List-Unsubscribe: <BASE_URL/u/<token>>` and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`, a visible unsubscribe
link and a plain-text part; the one-click POST works as a provider sends it;
following links (as mail scanners do) changes nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from surveys.mail.render import EMAIL_TEMPLATES
from surveys.models import (
    Case,
    Customer,
    EmailEvent,
    OutboxMessage,
    Response,
    Survey,
    SurveyToken,
    Touchpoint,
)
from surveys.services.cases.actions import reassign_case, reply_to_customer
from surveys.services.customers.goodbyes import end_relationship
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.reminders import queue_reminders
from surveys.services.surveys.scheduling import schedule_survey
from surveys.services.surveys.tokens import find_token
from tests.factories import make_case, make_customer, make_purchase, make_sent_survey, make_user

BASE = "http://surveys.test"
CUSTOMER_TEMPLATES = sorted(name for name, spec in EMAIL_TEMPLATES.items() if spec.to_customer)


# --- one email of each kind the customer can receive --------------------------------------------


def _survey(kind: str, question_set: str):
    def queue(session, clock):
        customer = make_customer(session, name="Ana Diaz")
        case = None
        if kind == "fix_check":
            # Resolved: a fix-check goes only while its case waits for the answer.
            case = make_case(
                session,
                owner=make_user(session),
                customer=customer,
                now=clock.now(),
                status="resolved",
            )
        purchase = make_purchase(session, customer, purchased_at=clock.now())
        schedule_survey(
            session,
            customer=customer,
            kind=kind,
            now=clock.now(),
            case=case,
            question_set=get_question_set(session, question_set),
            purchase=purchase if kind == "purchase" else None,
        )
        return customer

    return queue


def _reminder(session, clock):
    customer = make_customer(session, name="Ana Diaz")
    make_sent_survey(session, customer, sent_at=clock.now() - timedelta(days=3))
    queue_reminders(session, clock.now())
    return customer


def _reply(session, clock):
    owner = make_user(session, name="Olivia Moreno")
    case = make_case(session, owner=owner, now=clock.now())
    reply_to_customer(
        session,
        case,
        now=clock.now(),
        by_user=owner,
        message="I am so sorry. A new keyboard is on its way to you today.",
    )
    return case.customer


def _handed_over(session, clock):
    owner, admin = make_user(session), make_user(session, role="admin")
    case = make_case(session, owner=owner, now=clock.now())
    reassign_case(
        session,
        case,
        new_owner=make_user(session, name="Sam Lee"),
        now=clock.now(),
        reason="Sam knows keyboards best.",
        by_user=admin,
    )
    return case.customer


def _goodbye_letter(session, clock):
    owner = make_user(session, name="Olivia Moreno")
    customer = make_customer(session, name="Ana Diaz", owner=owner)
    end_relationship(
        session,
        customer,
        owner=owner,
        letter="Dear Ana,\n\nThank you for these years together.\n\nOlivia",
        now=clock.now(),
    )
    return customer


# Every email a customer can receive, queued the way the service queues it. A
# new customer email must be added here: the test below fails until it is.
CUSTOMER_EMAILS = {
    "survey after a purchase": ("survey", _survey("purchase", "heart-to-heart")),
    "survey sent by hand": ("survey", _survey("manual", "heart-to-heart")),
    "relationship review": ("survey", _survey("relationship_review", "relationship-review")),
    "fix-check": ("survey", _survey("fix_check", "fix-check")),
    "reminder": ("reminder", _reminder),
    "personal reply": ("reply", _reply),
    "hand-over to a new owner": ("case_reassigned_customer", _handed_over),
    "goodbye letter": ("goodbye_letter", _goodbye_letter),
}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.links.append(dict(attrs)["href"])


def html_links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def run_worker(runner) -> str:
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_customer_email_is_covered_below():
    assert sorted({template for template, _queue in CUSTOMER_EMAILS.values()}) == (
        CUSTOMER_TEMPLATES
    )


@pytest.mark.parametrize("which", sorted(CUSTOMER_EMAILS))
def test_every_customer_email_carries_one_click_headers_a_visible_link_and_a_text_part(
    session, runner, clock, fake_sendgrid, which
):
    template, queue = CUSTOMER_EMAILS[which]
    customer = queue(session, clock)
    session.commit()

    run_worker(runner)

    [mail] = [m for m in fake_sendgrid.accepted if m.categories == [template]]
    assert mail.to_email == customer.email
    header = mail.headers["List-Unsubscribe"]
    assert re.fullmatch(rf"<{re.escape(BASE)}/u/[A-Za-z0-9_-]{{43}}>", header), header
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    token = find_token(session, url.rsplit("/", 1)[1])
    assert token is not None and token.customer_id == customer.id
    # A plain-text part and an HTML part, each showing the same unsubscribe link.
    assert mail.text and mail.html and "<html" in mail.html
    assert url in mail.text
    assert url in html_links(mail.html)
    assert "[h2h:" not in mail.subject + mail.text + mail.html


def test_staff_emails_carry_no_unsubscribe_headers(session, runner, clock, fake_sendgrid):
    owner = make_user(session)
    case = make_case(session, owner=owner, now=clock.now())
    case.acknowledge_by = clock.now() - timedelta(minutes=1)  # overdue: escalated
    session.commit()

    run_worker(runner)

    staff = [m for m in fake_sendgrid.accepted if m.to_email == owner.email]
    assert staff
    for mail in staff:
        assert "List-Unsubscribe" not in mail.headers and "/u/" not in mail.text


def test_an_eml_file_is_multipart_alternative_with_the_headers(app, session, runner, clock):
    customer = _survey("purchase", "heart-to-heart")(session, clock)
    session.commit()

    run_worker(runner)

    [path] = Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")
    email = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert email.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in email.iter_parts()] == ["text/plain", "text/html"]
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = email["List-Unsubscribe"].strip()[1:-1]
    assert find_token(session, url.rsplit("/", 1)[1]).customer_id == customer.id
    assert url in email.get_body(("plain",)).get_content()


# --- the one-click POST ---------------------------------------------------------------------------


@pytest.fixture
def delivered(session, runner, clock, fake_sendgrid):
    """Ana's survey as it reached her mailbox: (customer, survey, mail)."""
    customer = _survey("purchase", "heart-to-heart")(session, clock)
    waiting = schedule_survey(
        session,
        customer=customer,
        kind="fix_check",
        now=clock.now(),
        question_set=get_question_set(session, "fix-check"),
        send_at=clock.now() + timedelta(days=2),
    )
    session.commit()
    run_worker(runner)
    [mail] = fake_sendgrid.accepted
    survey = session.scalars(
        select(Survey).where(Survey.customer_id == customer.id, Survey.status == "sent")
    ).one()
    return customer, survey, mail, waiting


def test_one_click_post_as_a_mailbox_provider_sends_it_unsubscribes_at_once(
    app, session, clock, delivered
):
    customer, _survey_sent, mail, waiting = delivered
    path = urlsplit(mail.headers["List-Unsubscribe"].strip("<>")).path
    # A provider's server: no cookie jar, no CSRF token, no Referer, just the RFC 8058 body.
    provider = app.test_client(use_cookies=False)

    response = provider.post(
        path, data=b"List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    session.expire_all()
    customer = session.get(Customer, customer.id)
    assert customer.suppressed_at == clock.now()
    assert customer.suppression_reason == "unsubscribed"
    assert session.get(Survey, waiting.id).status == "cancelled"


def test_one_click_post_twice_is_still_200_and_keeps_the_first_moment(
    app, session, clock, delivered
):
    customer, _survey_sent, mail, _waiting = delivered
    path = urlsplit(mail.headers["List-Unsubscribe"].strip("<>")).path
    provider = app.test_client(use_cookies=False)
    provider.post(
        path, data=b"List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    first = clock.now()
    clock.advance(minutes=3)

    again = provider.post(
        path, data=b"List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert again.status_code == 200
    session.expire_all()
    assert session.get(Customer, customer.id).suppressed_at == first


# --- links followed by scanners -----------------------------------------------------------


def snapshot(session, customer, survey) -> dict:
    """Everything a followed link could wrongly change."""
    session.expire_all()
    counts = {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (Response, Case, OutboxMessage, Touchpoint, EmailEvent, SurveyToken)
    }
    current = session.get(Customer, customer.id)
    answered = session.get(Survey, survey.id)
    statuses = sorted(session.scalars(select(OutboxMessage.status)))
    return {
        **counts,
        "suppressed_at": current.suppressed_at,
        "survey": answered.status,
        "answered_at": answered.answered_at,
        "outbox": statuses,
    }


def test_following_every_link_of_the_email_changes_nothing(app, session, clock, delivered):
    customer, survey, mail, _waiting = delivered
    links = set(html_links(mail.html)) | set(re.findall(rf"{re.escape(BASE)}/\S+", mail.text))
    links.add(mail.headers["List-Unsubscribe"].strip("<>"))
    assert {urlsplit(link).path.split("/")[1] for link in links} == {"s", "u"}
    assert len([link for link in links if "?a=" in link]) == 3
    before = snapshot(session, customer, survey)
    scanner = app.test_client(use_cookies=False)

    for link in sorted(links):
        parts = urlsplit(link)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        for method in ("GET", "HEAD"):
            response = scanner.open(target, method=method)
            assert response.status_code == 200, (method, link, response.status_code)

    assert snapshot(session, customer, survey) == before
