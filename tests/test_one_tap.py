"""The email's one tap through HTTP: the tapped answer is sent by one button, and the thank-you
page offers the other questions, which add to the same response (never change it)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from surveys.models import (
    Answer,
    Case,
    CaseEvent,
    CustomerPreference,
    OutboxMessage,
    Question,
    Response,
    Survey,
    Touchpoint,
)
from surveys.services.question_sets.versions import get_question_set
from surveys.services.surveys.scheduling import schedule_survey
from tests.factories import make_case, make_customer, make_purchase, make_sent_survey, make_user
from tests.pages import page
from tests.web import csrf_token_from

REST = ["one_thing", "time_money", "recommend", "preferences"]


def counts(session) -> dict[str, int]:
    """How many rows each table the survey pages can write holds."""
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (
            Response,
            Answer,
            Case,
            CaseEvent,
            OutboxMessage,
            CustomerPreference,
            Touchpoint,
        )
    }


def answers_of(session) -> dict[str, str]:
    response = session.scalars(select(Response)).one()
    return {answer.question.key: answer.value for answer in response.answers}


def fields(html: str) -> set[str]:
    """The names of the questions a page's forms ask (not the CSRF token)."""
    return {
        control["name"]
        for control in page(html).all("input[name], textarea[name]")
        if control["name"] != "csrf_token"
    }


@pytest.fixture
def owner(session):
    return make_user(session, role="owner", name="Olivia Moreno", email="olivia@shop.test")


@pytest.fixture
def sent(session, clock, owner):
    """A purchase survey in Ana's mailbox (her account owner is Olivia) and its link's token."""
    customer = make_customer(session, name="Ana Diaz", email="ana@example.com", owner=owner)
    survey, token = make_sent_survey(
        session, customer, purchase=make_purchase(session, customer), sent_at=clock.now()
    )
    session.commit()
    return survey, token


def tap(client, token: str, answer: str) -> tuple[str, str]:
    """Follow the email's link for `answer`; the page and its CSRF token."""
    opened = client.get(f"/s/{token}?a={answer}")
    assert opened.status_code == 200
    html = opened.get_data(as_text=True)
    return html, csrf_token_from(html)


def send_this_answer(client, token: str, answer: str, field: str = "expectations"):
    _html, csrf = tap(client, token, answer)
    return client.post(f"/s/{token}/answer", data={field: answer, "csrf_token": csrf})


def add_more(client, token: str, csrf: str, answers: dict[str, str]):
    return client.post(f"/s/{token}/more", data={**answers, "csrf_token": csrf})


# --- the tap opens the page; only its button records ----------------------------------------


def test_tapped_answer_is_shown_chosen_with_a_send_button_and_nothing_is_recorded(
    client, session, sent
):
    _survey, token = sent
    before = counts(session)
    html, _csrf = tap(client, token, "short")
    shown = page(html)
    assert shown.checked() == {("expectations", "short")}
    # Only the tapped question; the others come after it is sent.
    assert fields(html) == {"expectations"}
    button = shown.one("form button[type=submit]")
    assert button.get_text(strip=True) == "Send this answer"
    assert shown.one("form")["action"] == f"/s/{token}/answer"
    assert "Nothing is saved until you send it." in shown.text
    assert counts(session) == before
    assert session.get(Survey, sent[0].id).status == "sent"


def test_a_link_without_a_fitting_answer_opens_the_whole_survey(client, sent):
    _survey, token = sent
    html = client.get(f"/s/{token}?a=bogus").get_data(as_text=True)
    assert fields(html) == {"expectations", *REST}
    assert "Send my answers" in html and "Send this answer" not in html


def test_send_this_answer_records_the_response_with_that_one_answer(
    client, session, sent, owner, clock
):
    survey, token = sent
    response = send_this_answer(client, token, "short")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Thank you, Ana." in html
    assert "<strong>Olivia</strong> already has your message" in html

    recorded = session.scalars(select(Response)).one()
    assert (recorded.survey_id, recorded.negative) == (survey.id, True)
    assert answers_of(session) == {"expectations": "short"}
    case = session.scalars(select(Case)).one()
    assert (case.response_id, case.owner_id) == (recorded.id, owner.id)
    assert session.scalars(select(OutboxMessage.template)).all() == ["owner_new_case"]
    survey = session.get(Survey, survey.id)
    assert (survey.status, survey.answered_at) == ("answered", clock.now())

    # The thank-you page offers the rest, all optional, posting to the same response.
    shown = page(html)
    assert fields(html) == set(REST)
    assert shown.one(".more-questions form")["action"] == f"/s/{token}/more"
    assert "(required)" not in shown.one(".more-questions").get_text()
    assert shown.one(".more-questions button").get_text(strip=True) == "Send these answers"


def test_a_positive_tap_opens_no_case(client, session, sent):
    _survey, token = sent
    html = send_this_answer(client, token, "exceeding").get_data(as_text=True)
    assert "already has your message" not in html
    assert session.scalars(select(Response)).one().negative is False
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert fields(html) == set(REST)


def test_required_questions_after_the_first_wait_for_the_thank_you_page(client, session, sent):
    """The one tap sends one answer, even when a later question is marked required."""
    survey, token = sent
    time_money = next(q for q in survey.version.questions if q.key == "time_money")
    time_money.required = True
    session.commit()
    thanks = send_this_answer(client, token, "meeting")
    assert thanks.status_code == 200
    assert answers_of(session) == {"expectations": "meeting"}
    # Offered with the rest, and optional there like them.
    offered = page(thanks.get_data(as_text=True)).one(".more-questions")
    assert "Did we save you time and money?" in offered.get_text()
    assert "(required)" not in offered.get_text()


def test_sending_without_an_answer_or_with_a_made_up_one_is_refused(client, session, sent):
    _survey, token = sent
    _html, csrf = tap(client, token, "short")
    before = counts(session)
    for data in ({}, {"expectations": "bogus"}, {"expectations": ""}):
        refused = client.post(f"/s/{token}/answer", data={**data, "csrf_token": csrf})
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        assert "Send this answer" in html
    assert counts(session) == before
    assert client.post(f"/s/{token}/answer", data={"expectations": "short"}).status_code == 400
    assert counts(session) == before


def test_a_second_tap_changes_nothing_and_offers_the_rest(client, session, sent):
    _survey, token = sent
    _html, csrf = tap(client, token, "short")
    client.post(f"/s/{token}/answer", data={"expectations": "short", "csrf_token": csrf})
    before = counts(session)
    again = client.post(
        f"/s/{token}/answer", data={"expectations": "exceeding", "csrf_token": csrf}
    )
    assert again.status_code == 200
    html = again.get_data(as_text=True)
    assert "You have already answered, Ana" in html
    assert fields(html) == set(REST)
    assert counts(session) == before
    assert answers_of(session) == {"expectations": "short"}
    # The email's link, opened again, says the same: nothing to send, the rest on offer.
    reopened = client.get(f"/s/{token}?a=meeting").get_data(as_text=True)
    assert "You have already answered, Ana" in reopened
    assert fields(reopened) == set(REST)


# --- the rest add to the same response ------------------------------------------------------


def test_the_rest_add_to_the_same_response_and_tell_its_case(client, session, sent, clock):
    _survey, token = sent
    thanks = send_this_answer(client, token, "short").get_data(as_text=True)
    case = session.scalars(select(Case)).one()
    clock.advance(minutes=3)

    added = add_more(
        client,
        token,
        csrf_token_from(thanks),
        {
            "one_thing": "The box arrived crushed.",
            "time_money": "no",
            "recommend": "3",
            "preferences": "Email is best; I work nights.",
            "expectations": "exceeding",  # already answered: never changed from here
        },
    )
    assert added.status_code == 200
    html = added.get_data(as_text=True)
    assert "Thank you, Ana." in html and fields(html) == set()
    response = session.scalars(select(Response)).one()
    assert answers_of(session) == {
        "expectations": "short",
        "one_thing": "The box arrived crushed.",
        "time_money": "no",
        "recommend": "3",
        "preferences": "Email is best; I work nights.",
    }
    assert response.negative is True
    # Still one case and one email to its owner; the case learns of the new negative answers.
    assert session.scalars(select(Case.id)).all() == [case.id]
    assert session.scalars(select(OutboxMessage.template)).all() == ["owner_new_case"]
    [told] = session.scalars(
        select(CaseEvent).where(CaseEvent.kind == "negative_answer", CaseEvent.case_id == case.id)
    ).all()
    assert told.created_at == clock.now()
    # "crushed" is one of the default complaint words of the written question.
    assert [reason["key"] for reason in told.data["reasons"]] == [
        "one_thing",
        "time_money",
        "recommend",
    ]
    assert "Did we save you time and money? No" in told.body
    assert session.scalars(select(CustomerPreference.body)).all() == [
        "Email is best; I work nights."
    ]

    # Posting again (a second tap, another tab) changes nothing.
    before = counts(session)
    again = add_more(
        client, token, csrf_token_from(thanks), {"time_money": "yes", "recommend": "10"}
    )
    assert again.status_code == 200
    assert counts(session) == before
    assert answers_of(session)["recommend"] == "3"


def test_a_later_negative_answer_opens_the_case_a_positive_tap_did_not(
    client, session, sent, owner
):
    _survey, token = sent
    thanks = send_this_answer(client, token, "exceeding").get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    add_more(client, token, csrf_token_from(thanks), {"recommend": "2"})

    response = session.scalars(select(Response)).one()
    assert response.negative is True
    case = session.scalars(select(Case)).one()
    assert (case.response_id, case.owner_id) == (response.id, owner.id)
    assert session.scalars(select(OutboxMessage.template)).all() == ["owner_new_case"]
    [opened] = session.scalars(select(CaseEvent).where(CaseEvent.kind == "opened")).all()
    assert [reason["key"] for reason in opened.data["reasons"]] == ["recommend"]


def test_positive_additions_open_no_case(client, session, sent):
    _survey, token = sent
    thanks = send_this_answer(client, token, "exceeding").get_data(as_text=True)
    add_more(client, token, csrf_token_from(thanks), {"recommend": "9", "time_money": "yes"})
    assert session.scalars(select(Response)).one().negative is False
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_bad_addition_is_refused_in_place_and_adds_nothing(client, session, sent):
    _survey, token = sent
    thanks = send_this_answer(client, token, "short").get_data(as_text=True)
    before = counts(session)
    refused = add_more(
        client, token, csrf_token_from(thanks), {"recommend": "11", "one_thing": "x" * 2001}
    )
    assert refused.status_code == 422
    shown = page(refused.get_data(as_text=True))
    assert shown.field_errors("recommend") == ["Please choose one of the answers shown."]
    assert shown.field_value("one_thing") == "x" * 2001
    assert counts(session) == before
    assert add_more(client, token, "forged", {"recommend": "3"}).status_code == 400
    assert counts(session) == before


def test_adding_before_answering_leads_to_the_survey(client, session, sent):
    _survey, token = sent
    _html, csrf = tap(client, token, "short")
    before = counts(session)
    early = add_more(client, token, csrf, {"recommend": "3"})
    assert early.status_code == 303
    assert early.headers["Location"].endswith(f"/s/{token}")
    assert counts(session) == before


def test_nothing_is_added_once_the_link_has_expired(client, session, sent, clock):
    survey, token = sent
    thanks = send_this_answer(client, token, "short").get_data(as_text=True)
    clock.set(survey.expires_at)
    before = counts(session)
    late = add_more(client, token, csrf_token_from(thanks), {"recommend": "3"})
    assert late.status_code == 410
    assert "This survey has closed" in late.get_data(as_text=True)
    assert counts(session) == before


def test_the_whole_survey_sent_at_once_offers_nothing_more(client, session, sent):
    """Someone who saw every question and skipped some is not asked again."""
    _survey, token = sent
    html, csrf = tap(client, token, "bogus")  # the whole survey
    thanks = client.post(
        f"/s/{token}", data={"expectations": "meeting", "recommend": "9", "csrf_token": csrf}
    ).get_data(as_text=True)
    assert "Thank you, Ana." in thanks and fields(thanks) == set()


def test_an_addition_to_a_fix_check_joins_its_case_and_a_late_no_reopens_it(
    client, session, clock, owner
):
    case = make_case(session, owner=owner, status="resolved", now=clock.now())
    survey, token = make_sent_survey(
        session, case.customer, question_set_key="fix-check", kind="fix_check", sent_at=clock.now()
    )
    survey.case_id = case.id
    session.commit()
    thanks = send_this_answer(client, token, "yes", field="fix_worked").get_data(as_text=True)
    assert session.get(Case, case.id).status == "closed"
    add_more(client, token, csrf_token_from(thanks), {"anything_else": "Thanks, all good now."})
    kinds = session.scalars(
        select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    assert kinds[-1] == "fix_check_answered"
    assert session.get(Case, case.id).status == "closed"
    assert session.scalar(select(func.count()).select_from(Case)) == 1


# --- two at once ----------------------------------------------------------------------------


def test_two_additions_at_once_add_each_answer_once_and_open_one_case(committed_app):
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with committed_app.app_context(), sessions() as session:
        owner = make_user(session, role="owner")
        customer = make_customer(session, owner=owner)
        survey, token = make_sent_survey(
            session, customer, purchase=make_purchase(session, customer)
        )
        session.commit()
        survey_id = survey.id

    first = committed_app.test_client()
    thanks = send_this_answer(first, token, "exceeding").get_data(as_text=True)
    clients = [first, committed_app.test_client()]
    tokens = [csrf_token_from(thanks)]
    tokens.append(csrf_token_from(clients[1].get(f"/s/{token}").get_data(as_text=True)))
    start = threading.Barrier(2)
    statuses: list[int] = []

    def post(client, csrf, recommend):
        start.wait()
        statuses.append(add_more(client, token, csrf, {"recommend": recommend}).status_code)

    threads = [
        threading.Thread(target=post, args=(client, csrf, value))
        for client, csrf, value in zip(clients, tokens, ("2", "4"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200, 200]
    with committed_app.app_context(), sessions() as session:
        response = session.scalars(select(Response)).one()
        assert response.survey_id == survey_id
        recommend = [a.value for a in response.answers if a.question.key == "recommend"]
        assert len(recommend) == 1 and recommend[0] in ("2", "4")
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalars(select(OutboxMessage.template)).all() == ["owner_new_case"]
        assert (
            session.scalar(
                select(func.count())
                .select_from(CaseEvent)
                .where(CaseEvent.kind == "negative_answer")
            )
            == 0
        )


def test_a_survey_with_no_link_expiry_still_takes_additions(client, session, sent, clock):
    survey, token = sent
    thanks = send_this_answer(client, token, "short").get_data(as_text=True)
    session.get(Survey, survey.id).expires_at = None
    session.commit()
    clock.advance(days=400)
    assert add_more(client, token, csrf_token_from(thanks), {"recommend": "8"}).status_code == 200
    assert answers_of(session)["recommend"] == "8"


@pytest.mark.parametrize("delay", [timedelta(days=29, hours=23)])
def test_additions_work_until_the_link_expires(client, session, sent, clock, delay):
    survey, token = sent
    thanks = send_this_answer(client, token, "short").get_data(as_text=True)
    clock.set(survey.sent_at + delay)
    assert add_more(client, token, csrf_token_from(thanks), {"recommend": "8"}).status_code == 200
    assert answers_of(session)["recommend"] == "8"


def test_question_keys_of_other_versions_are_ignored(client, session, sent):
    _survey, token = sent
    thanks = send_this_answer(client, token, "short").get_data(as_text=True)
    before = session.scalar(select(func.count()).select_from(Question))
    add_more(client, token, csrf_token_from(thanks), {"mood": "great", "fix_worked": "no"})
    assert answers_of(session) == {"expectations": "short"}
    assert session.scalar(select(func.count()).select_from(Question)) == before


# --- what the email promises ----------------------------------------------------------------


def test_the_email_says_what_the_tap_does_and_its_link_leads_to_the_send_button(
    app, client, session, runner, clock
):
    customer = make_customer(session, name="Ana Diaz")
    schedule_survey(
        session,
        customer=customer,
        kind="purchase",
        purchase=make_purchase(session, customer, purchased_at=clock.now()),
        now=clock.now(),
        question_set=get_question_set(session, "heart-to-heart"),
    )
    session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    [eml] = Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")
    email = message_from_bytes(eml.read_bytes(), policy=policy.default)
    text, html = (
        " ".join(email.get_body((subtype,)).get_content().split()) for subtype in ("plain", "html")
    )
    for body in (text, html):
        assert "one click is enough" not in body.lower()
        assert "then press “Send this answer” on the page" in body or (
            "then “Send this answer” on the page that opens" in body
        )
    [link] = re.findall(r"http://[^\s]+/s/[\w-]+\?a=short", text)
    path = urlsplit(link)
    opened = client.get(f"{path.path}?{path.query}").get_data(as_text=True)
    assert "Send this answer" in opened and page(opened).checked() == {("expectations", "short")}
    assert session.scalar(select(func.count()).select_from(Response)) == 0
