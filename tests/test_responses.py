"""Recording responses and opening cases: services.surveys.responses and services.cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from surveys.models import (
    Case,
    CaseEvent,
    CustomerPreference,
    OutboxMessage,
    Response,
    Survey,
)
from surveys.outbox.enqueue import enqueue_email
from surveys.services.settings import set_setting
from surveys.services.surveys.responses import AlreadyAnswered, InvalidAnswers, submit_response
from tests.factories import make_customer, make_purchase, make_sent_survey, make_user

NEGATIVE = {
    "expectations": "short",
    "one_thing": "The box arrived crushed.",
    "time_money": "yes",
    "recommend": "9",
    "preferences": "Please call after 6pm.",
}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def owner(session):
    return make_user(session, role="owner", name="Olivia Moreno")


@pytest.fixture
def survey(session, clock, owner):
    customer = make_customer(session, name="Ana Diaz", owner=owner)
    purchase = make_purchase(session, customer)
    survey, _token = make_sent_survey(session, customer, purchase=purchase, sent_at=clock.now())
    return survey


def test_response_is_pinned_to_the_surveys_version_and_marks_each_answer(session, survey, clock):
    response = submit_response(
        session,
        survey,
        {"expectations": "meeting", "recommend": "6", "one_thing": "  Faster replies  "},
        now=clock.now(),
    )
    assert response.version_id == survey.version_id
    assert (response.customer_id, response.submitted_at) == (survey.customer_id, clock.now())
    assert [(a.question.key, a.value, a.negative) for a in response.answers] == [
        ("expectations", "meeting", False),
        ("one_thing", "Faster replies", False),
        ("recommend", "6", True),
    ]
    assert response.negative is True
    assert (survey.status, survey.answered_at) == ("answered", clock.now())


def test_scale_answer_above_the_rule_is_not_negative(session, survey, clock):
    response = submit_response(
        session, survey, {"expectations": "exceeding", "recommend": "7"}, now=clock.now()
    )
    assert response.negative is False
    assert count(session, Case) == 0


def test_preferences_answer_is_kept_on_the_customers_profile(session, survey, clock):
    response = submit_response(
        session,
        survey,
        {"expectations": "exceeding", "preferences": "I am vegan; no leather, please."},
        now=clock.now(),
    )
    preference = session.scalars(select(CustomerPreference)).one()
    assert (preference.customer_id, preference.response_id, preference.body) == (
        survey.customer_id,
        response.id,
        "I am vegan; no leather, please.",
    )


def test_negative_response_opens_one_case_with_deadlines_from_the_settings(
    session, survey, owner, clock
):
    set_setting(session, "acknowledge_hours", 2)
    set_setting(session, "resolve_hours", 24)
    response = submit_response(session, survey, NEGATIVE, now=clock.now())
    case = session.scalars(select(Case)).one()
    assert (case.response_id, case.customer_id, case.purchase_id) == (
        response.id,
        survey.customer_id,
        survey.purchase_id,
    )
    assert (case.owner_id, case.status, case.routed_by) == (owner.id, "open", "account owner")
    assert case.acknowledge_by == clock.now() + timedelta(hours=2)
    assert case.resolve_by == clock.now() + timedelta(hours=24)
    assert case.created_at == clock.now()


def test_opened_case_records_the_reasons_in_the_customers_words(session, survey, owner, clock):
    submit_response(session, survey, NEGATIVE, now=clock.now())
    case = session.scalars(select(Case)).one()
    assert [event.kind for event in case.events] == ["opened", "owner_notified"]
    opened = case.events[0].data
    assert [(r["question"], r["answer"], r.get("words")) for r in opened["reasons"]] == [
        ("Are we exceeding your expectations?", "You are falling short", None),
        (
            "If there was one thing we could be doing better, what would that be?",
            "The box arrived crushed.",
            ["crushed"],
        ),
    ]
    assert [(c["key"], c["answer"]) for c in opened["comments"]] == [
        ("preferences", "Please call after 6pm."),
    ]
    assert opened["routed_by"] == "account owner"
    assert case.events[1].data == {"user_id": owner.id, "email": owner.email}


def test_owner_is_emailed_at_once_through_the_outbox(session, survey, owner, clock):
    submit_response(session, survey, NEGATIVE, now=clock.now())
    case = session.scalars(select(Case)).one()
    mail = session.scalars(select(OutboxMessage)).one()
    assert (mail.template, mail.status, mail.next_attempt_at) == (
        "owner_new_case",
        "pending",
        clock.now(),
    )
    assert (mail.to_email, mail.to_name, mail.case_id) == (owner.email, owner.name, case.id)
    assert mail.context["user_id"] == owner.id


def test_case_goes_to_the_default_owner_without_account_owner_or_rule(session, clock):
    admin = make_user(session, role="admin")
    chosen = make_user(session, role="owner")
    set_setting(session, "default_owner_id", chosen.id)
    customer = make_customer(session)
    survey, _ = make_sent_survey(
        session, customer, purchase=make_purchase(session, customer), sent_at=clock.now()
    )
    submit_response(session, survey, {"expectations": "short"}, now=clock.now())
    case = session.scalars(select(Case)).one()
    assert (case.owner_id, case.routed_by) == (chosen.id, "default owner")
    assert admin.id != case.owner_id


def test_relationship_review_with_a_negative_answer_opens_a_case(session, owner, clock):
    customer = make_customer(session, owner=owner)
    survey, _ = make_sent_survey(
        session,
        customer,
        question_set_key="relationship-review",
        kind="relationship_review",
        sent_at=clock.now(),
    )
    submit_response(
        session,
        survey,
        {"expectations": "short", "issues": "My invoices are always late."},
        now=clock.now(),
    )
    case = session.scalars(select(Case)).one()
    assert case.purchase_id is None and case.owner_id == owner.id
    # Any real answer to `issues` is negative: it is a reason, not a comment.
    reasons = case.events[0].data["reasons"]
    assert [r["answer"] for r in reasons] == [
        "You are falling short",
        "My invoices are always late.",
    ]


def test_fix_check_response_is_recorded_without_opening_a_case(session, owner, clock):
    customer = make_customer(session, owner=owner)
    survey, _ = make_sent_survey(
        session, customer, question_set_key="fix-check", kind="fix_check", sent_at=clock.now()
    )
    response = submit_response(session, survey, {"fix_worked": "no"}, now=clock.now())
    assert response.negative is True and survey.status == "answered"
    assert count(session, Case) == 0
    assert count(session, OutboxMessage) == 0


def test_second_submit_raises_already_answered_and_changes_nothing(session, survey, clock):
    submit_response(session, survey, NEGATIVE, now=clock.now())
    before = [count(session, m) for m in (Response, Case, CaseEvent, OutboxMessage)]
    with pytest.raises(AlreadyAnswered):
        submit_response(
            session, survey, {"expectations": "exceeding"}, now=clock.now() + timedelta(minutes=5)
        )
    assert [count(session, m) for m in (Response, Case, CaseEvent, OutboxMessage)] == before
    assert survey.answered_at == clock.now()


def test_answering_cancels_the_pending_reminder(session, survey, clock):
    reminder = enqueue_email(
        session,
        template="reminder",
        to_email=survey.customer.email,
        now=clock.now(),
        survey=survey,
        send_at=clock.now() + timedelta(days=3),
    )
    submit_response(session, survey, {"expectations": "exceeding"}, now=clock.now())
    session.refresh(reminder)
    assert (reminder.status, reminder.last_error) == ("cancelled", "the survey was answered")


@pytest.mark.parametrize(
    ("answers", "key"),
    [
        ({}, "expectations"),
        ({"expectations": "   "}, "expectations"),
        ({"expectations": "sort-of"}, "expectations"),
        ({"expectations": "meeting", "recommend": "11"}, "recommend"),
        ({"expectations": "meeting", "recommend": "07"}, "recommend"),
        ({"expectations": "meeting", "recommend": "ten"}, "recommend"),
        ({"expectations": "meeting", "one_thing": "x" * 2001}, "one_thing"),
    ],
)
def test_answers_that_do_not_fit_their_question_are_refused(session, survey, clock, answers, key):
    with pytest.raises(InvalidAnswers) as refused:
        submit_response(session, survey, answers, now=clock.now())
    assert list(refused.value.errors) == [key]
    assert count(session, Response) == 0
    assert survey.status == "sent"


def test_answers_to_unknown_questions_are_ignored(session, survey, clock):
    response = submit_response(
        session, survey, {"expectations": "meeting", "mood": "great"}, now=clock.now()
    )
    assert [a.question.key for a in response.answers] == ["expectations"]


def test_losing_a_race_raises_already_answered_and_leaves_the_winner(committed_app):
    """The loser read the survey before the winner committed; the unique key stops it."""
    sessions = committed_app.extensions["db"]["sessionmaker"]
    with sessions() as setup:
        owner = make_user(setup, role="owner")
        customer = make_customer(setup, owner=owner)
        survey, _ = make_sent_survey(setup, customer, purchase=make_purchase(setup, customer))
        setup.commit()
        survey_id = survey.id

    with sessions() as loser, sessions() as winner:
        stale = loser.get(Survey, survey_id)
        assert stale.response is None  # loaded before the winner's commit
        loser.commit()  # ends the read (SQLite holds its write lock until then)

        submit_response(
            winner, winner.get(Survey, survey_id), NEGATIVE, now=stale.sent_at + timedelta(hours=1)
        )
        winner.commit()

        with pytest.raises(AlreadyAnswered) as refused:
            submit_response(
                loser, stale, {"expectations": "exceeding"}, now=stale.sent_at + timedelta(hours=2)
            )
        assert isinstance(refused.value.__cause__, IntegrityError)
        # The savepoint kept the loser's transaction usable.
        assert loser.scalar(select(func.count()).select_from(Response)) == 1
        loser.rollback()

    with sessions() as check:
        assert check.scalars(select(Response)).one().negative is True
        assert check.scalar(select(func.count()).select_from(Case)) == 1
