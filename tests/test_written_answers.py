"""Written answers through HTTP: a complaint written in words opens one case, the case page and
the owner's email say which words did it, and praise or a mild suggestion opens none."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveys.models import Answer, Case, Question, Response
from tests.factories import make_customer, make_sent_survey, make_user
from tests.pages import page, text_of
from tests.web import csrf_token, log_in

COMPLAINT = "The courier was rude, the box arrived crushed and I want a refund"


def answer_survey(client, token: str, answers: dict[str, str]):
    """Send the survey's form as the customer's browser would."""
    response = client.post(
        f"/s/{token}", data={"csrf_token": csrf_token(client, f"/s/{token}"), **answers}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.fixture
def owner(session):
    return make_user(session, name="Olivia Owen", email="olivia@shop.example")


def sent_survey(session, owner, key: str = "heart-to-heart", kind: str = "purchase") -> str:
    customer = make_customer(session, name="Ana Diaz", email="ana@example.com", owner=owner)
    _survey, token = make_sent_survey(session, customer, question_set_key=key, kind=kind)
    session.commit()
    return token


def written_answer(session, key: str) -> Answer:
    return session.scalars(select(Answer).join(Answer.question).where(Question.key == key)).one()


def test_a_complaint_in_words_alone_opens_one_case_that_names_them(
    client, session, owner, runner, fake_sendgrid
):
    token = sent_survey(session, owner)

    answer_survey(
        client, token, {"expectations": "meeting", "recommend": "8", "one_thing": COMPLAINT}
    )

    [case] = session.scalars(select(Case)).all()
    assert case.owner_id == owner.id
    one_thing = written_answer(session, "one_thing")
    assert one_thing.negative and one_thing.negative_words == ["refund", "crushed", "rude"]
    assert one_thing.sentiment is not None and one_thing.sentiment < 0
    # Only the written answer is negative: the choice and the 8 are not.
    assert [a.question.key for a in case.response.answers if a.negative] == ["one_thing"]

    log_in(client, owner)
    shown = page(client.get(f"/cases/{case.id}"))
    because = shown.one(".answer.negative .negative-because")
    assert text_of(because) == "Negative because it mentions “refund”, “crushed” and “rude”."

    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    [mail] = [m for m in fake_sendgrid.accepted if m.to_email == owner.email]
    assert COMPLAINT in mail.text
    assert "needs you: it mentions “refund”, “crushed” and “rude”" in mail.text


@pytest.mark.parametrize(
    "words",
    [
        "Faster shipping would be nice",
        "Nothing really, you were great!",
        "Loved it, the keyboard is perfect and came a day early.",
        "n/a",
    ],
)
def test_praise_and_mild_suggestions_open_no_case_but_keep_their_sentiment(
    client, session, owner, words
):
    token = sent_survey(session, owner)

    answer_survey(client, token, {"expectations": "meeting", "one_thing": words})

    assert session.scalar(select(func.count(Response.id))) == 1
    assert session.scalar(select(func.count(Case.id))) == 0
    one_thing = written_answer(session, "one_thing")
    assert not one_thing.negative and one_thing.negative_words is None
    assert one_thing.sentiment is not None


def test_a_tone_alone_can_make_it_negative_and_the_page_says_so(client, session, owner):
    token = sent_survey(session, owner)

    answer_survey(
        client,
        token,
        {"expectations": "meeting", "one_thing": "I am so angry and upset about this"},
    )

    [case] = session.scalars(select(Case)).all()
    log_in(client, owner)
    because = text_of(page(client.get(f"/cases/{case.id}")).one(".negative-because"))
    assert because.startswith("Negative because it reads as unhappy (tone -0.")


def test_any_real_answer_to_the_reviews_issues_question_opens_a_case(client, session, owner):
    token = sent_survey(session, owner, key="relationship-review", kind="relationship_review")

    answer_survey(
        client, token, {"expectations": "exceeding", "issues": "Could the invoices show our PO?"}
    )

    [case] = session.scalars(select(Case)).all()
    log_in(client, owner)
    because = text_of(page(client.get(f"/cases/{case.id}")).one(".negative-because"))
    assert because == "Negative because it answers a question where any answer needs you."


def test_nothing_to_report_in_the_reviews_issues_question_opens_none(client, session, owner):
    token = sent_survey(session, owner, key="relationship-review", kind="relationship_review")

    answer_survey(client, token, {"expectations": "exceeding", "issues": "None."})

    assert session.scalar(select(func.count(Case.id))) == 0


def test_preferences_keep_their_sentiment_and_are_never_negative(client, session, owner):
    token = sent_survey(session, owner)

    answer_survey(
        client,
        token,
        {"expectations": "meeting", "preferences": "I hate phone calls, email me please"},
    )

    assert session.scalar(select(func.count(Case.id))) == 0
    preferences = written_answer(session, "preferences")
    assert preferences.sentiment is not None and preferences.sentiment < 0
    assert not preferences.negative
