"""The survey page through HTTP: showing, one-click answers, recording once, closed links."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.models import (
    Answer,
    Case,
    CaseEvent,
    CustomerPreference,
    OutboxMessage,
    Question,
    QuestionSetVersion,
    Response,
    Survey,
)
from surveys.services.question_sets.versions import get_question_set
from surveys.services.settings import set_setting
from surveys.services.surveys.tokens import mint_token
from tests.factories import make_customer, make_purchase, make_sent_survey, make_user
from tests.pages import page

NEGATIVE = {
    "expectations": "short",
    "one_thing": "The box arrived crushed.",
    "time_money": "somewhat",
    "recommend": "4",
    "preferences": "Please call after 6pm.",
}
POSITIVE = {"expectations": "exceeding", "time_money": "yes", "recommend": "10"}


def csrf_token_from(html: str) -> str:
    return page(html).field_value("csrf_token")


def checked(html: str) -> set[tuple[str, str]]:
    """The (name, value) of every radio button the page shows as selected."""
    return page(html).checked()


def counts(session) -> dict[str, int]:
    """How many rows each table the survey page can write holds."""
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (Response, Answer, Case, CaseEvent, OutboxMessage, CustomerPreference)
    }


@pytest.fixture
def owner(session):
    return make_user(session, role="owner", name="Olivia Moreno", email="olivia@shop.test")


@pytest.fixture
def sent(session, clock, owner):
    """A purchase survey in Ana's mailbox (her account owner is Olivia) and its link's token."""
    customer = make_customer(session, name="Ana Diaz", email="ana@example.com", owner=owner)
    purchase = make_purchase(session, customer)
    survey, token = make_sent_survey(session, customer, purchase=purchase, sent_at=clock.now())
    session.commit()
    return survey, token


def submit(client, token: str, answers: dict[str, str]):
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    return client.post(
        f"/s/{token}", data={**answers, "csrf_token": csrf_token_from(page.get_data(as_text=True))}
    )


def test_survey_page_shows_the_questions_of_heart_to_heart(client, sent):
    _survey, token = sent
    response = client.get(f"/s/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hi Ana," in html
    assert "Thank you for choosing us for your keyboard." in html
    assert "How did we do?" not in html
    for text in (
        "Are we exceeding your expectations?",
        "If there was one thing we could be doing better, what would that be?",
        "Did we save you time and money?",
        "How likely are you to recommend us to a friend or colleague?",
        "Is there anything about you, or how you like to be served, that we should remember?",
    ):
        assert text in html
    for name in (
        "expectations",
        "one_thing",
        "time_money",
        "recommend",
        "preferences",
        "csrf_token",
    ):
        assert f'name="{name}"' in html
    assert 'value="short"' in html and 'value="10"' in html
    assert checked(html) == set()


def test_one_click_answer_from_the_email_is_preselected(client, sent):
    _survey, token = sent
    html = client.get(f"/s/{token}?a=short").get_data(as_text=True)
    assert checked(html) == {("expectations", "short")}


@pytest.mark.parametrize("value", ["bogus", "10", "", "yes"])
def test_one_click_answer_that_does_not_fit_the_first_question_is_ignored(client, sent, value):
    _survey, token = sent
    response = client.get(f"/s/{token}?a={value}")
    assert response.status_code == 200
    assert checked(response.get_data(as_text=True)) == set()


def test_opening_the_survey_link_records_nothing(client, session, sent):
    survey, token = sent
    before = counts(session)
    assert client.get(f"/s/{token}?a=short").status_code == 200
    assert counts(session) == before
    survey = session.get(Survey, survey.id)
    assert survey.status == "sent"
    assert survey.answered_at is None and survey.clicked_at is None


def test_negative_answer_opens_exactly_one_case_for_the_account_owner(
    client, session, sent, owner, clock
):
    survey, token = sent
    response = submit(client, token, NEGATIVE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Thank you, Ana." in html
    assert "<strong>Olivia</strong> already has your message" in html

    recorded = session.scalars(select(Response)).one()
    assert recorded.survey_id == survey.id and recorded.negative is True
    assert {a.question.key: (a.value, a.negative) for a in recorded.answers} == {
        "expectations": ("short", True),
        "one_thing": ("The box arrived crushed.", True),
        "time_money": ("somewhat", False),
        "recommend": ("4", True),
        "preferences": ("Please call after 6pm.", False),
    }
    case = session.scalars(select(Case)).one()
    assert (case.owner_id, case.response_id, case.status) == (owner.id, recorded.id, "open")
    assert case.routed_by == "account owner"
    mail = session.scalars(select(OutboxMessage)).one()
    assert (mail.template, mail.to_email, mail.case_id) == ("owner_new_case", owner.email, case.id)
    survey = session.get(Survey, survey.id)
    assert (survey.status, survey.answered_at) == ("answered", clock.now())


def test_positive_response_opens_no_case(client, session, sent):
    _survey, token = sent
    response = submit(client, token, POSITIVE)
    assert response.status_code == 200
    assert "Thank you, Ana." in response.get_data(as_text=True)
    assert "already has your message" not in response.get_data(as_text=True)
    recorded = session.scalars(select(Response)).one()
    assert recorded.negative is False
    assert [a.question.key for a in recorded.answers] == ["expectations", "time_money", "recommend"]
    assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_thank_you_page_shows_the_thank_you_message_setting(client, session, sent):
    _survey, token = sent
    set_setting(session, "thank_you_message", "You made our day. Truly.")
    session.commit()
    html = submit(client, token, POSITIVE).get_data(as_text=True)
    assert "You made our day. Truly." in html


def test_missing_required_answer_is_shown_in_place_and_keeps_the_answers(client, session, sent):
    _survey, token = sent
    before = counts(session)
    response = submit(
        client, token, {"one_thing": "Faster delivery", "time_money": "no", "recommend": "3"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    shown = page(html)
    # Tied to the question (aria-describedby), so a screen reader says it with the question.
    assert shown.field_errors("expectations") == ["We would love your answer to this one."]
    assert shown.field_value("one_thing") == "Faster delivery"
    assert checked(html) == {("time_money", "no"), ("recommend", "3")}
    assert counts(session) == before


def test_answer_longer_than_2000_characters_is_refused(client, session, sent):
    _survey, token = sent
    response = submit(client, token, {"expectations": "meeting", "one_thing": "x" * 2001})
    assert response.status_code == 422
    assert "Please keep it to 2000 characters (this is 2001)." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_tampered_choice_is_refused(client, session, sent):
    _survey, token = sent
    response = submit(client, token, {"expectations": "meeting", "recommend": "11"})
    assert response.status_code == 422
    assert "Please choose one of the answers shown." in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, session, sent):
    _survey, token = sent
    client.get(f"/s/{token}")
    before = counts(session)
    assert client.post(f"/s/{token}", data=NEGATIVE).status_code == 400
    assert client.post(f"/s/{token}", data={**NEGATIVE, "csrf_token": "forged"}).status_code == 400
    assert counts(session) == before


def test_second_submit_changes_nothing_and_shows_already_answered(client, session, sent):
    survey, token = sent
    page = client.get(f"/s/{token}")
    csrf = csrf_token_from(page.get_data(as_text=True))
    assert client.post(f"/s/{token}", data={**NEGATIVE, "csrf_token": csrf}).status_code == 200
    before = counts(session)
    answered_at = session.get(Survey, survey.id).answered_at

    again = client.post(f"/s/{token}", data={**POSITIVE, "csrf_token": csrf})
    assert again.status_code == 200
    assert "You have already answered, Ana" in again.get_data(as_text=True)
    assert counts(session) == before
    assert session.scalars(select(Response)).one().negative is True
    assert session.get(Survey, survey.id).answered_at == answered_at


def test_link_of_an_answered_survey_shows_already_answered(client, sent):
    _survey, token = sent
    submit(client, token, POSITIVE)
    response = client.get(f"/s/{token}?a=short")
    assert response.status_code == 200
    assert "You have already answered" in response.get_data(as_text=True)
    assert 'name="expectations"' not in response.get_data(as_text=True)


def test_unknown_token_is_404(client, sent):
    _survey, token = sent
    csrf = csrf_token_from(client.get(f"/s/{token}").get_data(as_text=True))
    for response in (
        client.get("/s/not-a-real-token"),
        client.post("/s/not-a-real-token", data={**NEGATIVE, "csrf_token": csrf}),
    ):
        assert response.status_code == 404
        assert "We could not find this link" in response.get_data(as_text=True)


def test_unsubscribe_only_token_is_404_on_the_survey_page(client, session, sent):
    survey, _token = sent
    raw = mint_token(session, customer_id=survey.customer_id)
    session.commit()
    assert client.get(f"/s/{raw}").status_code == 404


def test_expired_survey_is_410_and_records_nothing(client, session, sent, clock):
    survey, token = sent
    page = client.get(f"/s/{token}")
    csrf = csrf_token_from(page.get_data(as_text=True))
    clock.set(survey.expires_at)
    before = counts(session)
    for response in (
        client.get(f"/s/{token}?a=short"),
        client.post(f"/s/{token}", data={**NEGATIVE, "csrf_token": csrf}),
    ):
        assert response.status_code == 410
        html = response.get_data(as_text=True)
        assert "This survey has closed" in html and "Thank you for wanting to answer, Ana" in html
    assert counts(session) == before


def test_survey_a_moment_before_expiry_still_opens(client, sent, clock):
    survey, token = sent
    clock.set(survey.expires_at - timedelta(seconds=1))
    assert client.get(f"/s/{token}").status_code == 200


def test_survey_keeps_showing_the_version_it_was_sent_with(client, session, sent):
    survey, token = sent
    heart = get_question_set(session, "heart-to-heart")
    newer = QuestionSetVersion(question_set_id=heart.id, number=survey.version.number + 1)
    session.add(newer)
    session.flush()
    session.add(
        Question(
            version_id=newer.id,
            position=0,
            key="mood",
            type="text",
            text="How are you feeling today?",
        )
    )
    session.commit()
    html = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Are we exceeding your expectations?" in html
    assert "How are you feeling today?" not in html
    submit(client, token, POSITIVE)
    assert session.scalars(select(Response)).one().version_id == survey.version_id


def test_fix_check_survey_shows_its_own_question_and_opens_no_case(client, session, clock):
    customer = make_customer(session, name="Bo Lind")
    _survey, token = make_sent_survey(
        session, customer, question_set_key="fix-check", kind="fix_check", sent_at=clock.now()
    )
    session.commit()
    html = client.get(f"/s/{token}?a=no").get_data(as_text=True)
    assert "You told us about a problem and we worked on it. Did our fix work?" in html
    assert checked(html) == {("fix_worked", "no")}
    assert submit(client, token, {"fix_worked": "no"}).status_code == 200
    assert session.scalars(select(Response)).one().negative is True
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_personal_pages_are_kept_out_of_caches_and_referrers(client, sent):
    _survey, token = sent
    response = client.get(f"/s/{token}")
    assert response.headers["Cache-Control"] == "no-store"
    # The origin only: never the token, and still what Flask-WTF's HTTPS check needs.
    assert response.headers["Referrer-Policy"] == "strict-origin"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_two_submits_at_once_record_one_response_and_one_case(committed_app):
    with committed_app.app_context():
        session = committed_app.extensions["db"]["sessionmaker"]()
        owner = make_user(session, role="owner")
        customer = make_customer(session, owner=owner)
        survey, token = make_sent_survey(
            session, customer, purchase=make_purchase(session, customer)
        )
        session.commit()
        session.close()

    clients = [committed_app.test_client() for _ in range(2)]
    forms = [csrf_token_from(c.get(f"/s/{token}").get_data(as_text=True)) for c in clients]
    start = threading.Barrier(2)
    results: list[str] = []

    def post(client, csrf):
        start.wait()
        html = client.post(f"/s/{token}", data={**NEGATIVE, "csrf_token": csrf}).get_data(
            as_text=True
        )
        results.append(
            "already answered"
            if "You have already answered" in html
            else "thanks"
            if "Thank you" in html
            else html
        )

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 2
    assert sorted(results) == ["already answered", "thanks"]
    with committed_app.app_context():
        session = committed_app.extensions["db"]["sessionmaker"]()
        assert counts(session) == {
            "Response": 1,
            "Answer": 5,
            "Case": 1,
            "CaseEvent": 2,
            "OutboxMessage": 1,
            "CustomerPreference": 1,
        }
        assert session.scalars(select(Response.survey_id)).one() == survey.id
        session.close()
