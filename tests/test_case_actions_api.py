"""The five case actions of the API, as a helpdesk uses them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveys.models import Case, CaseEvent, OutboxMessage, Survey
from tests.factories import make_api_key, make_case, make_customer, make_user
from tests.journey import bearer, run_worker
from tests.test_openapi import assert_documented


@pytest.fixture
def helpdesk(session):
    key, raw = make_api_key(session, "Helpdesk")
    session.commit()
    return key, raw


@pytest.fixture
def owner(session):
    return make_user(session, email="olivia@shop.example", name="Olivia Bennett")


@pytest.fixture
def case(session, owner, clock):
    customer = make_customer(session, email="ana@example.com", name="Ana Diaz", owner=owner)
    made = make_case(session, owner=owner, customer=customer, now=clock.now())
    session.commit()
    return made


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def post(client, raw: str, case_id: int, action: str, body: dict | None = None):
    return client.post(
        f"/api/v1/cases/{case_id}/{action}",
        json=body if body is not None else {},
        headers=bearer(raw),
    )


def timeline(session, case_id: int) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    )


def problem(response) -> dict:
    assert response.mimetype == "application/problem+json"
    return response.get_json()


# --- acknowledge ---------------------------------------------------------------------------


def test_acknowledge_takes_an_open_case_as_the_api_key(client, session, helpdesk, case, clock):
    key, raw = helpdesk

    response = post(client, raw, case.id, "acknowledge")

    assert response.status_code == 200
    assert response.get_json()["status"] == "acknowledged"
    assert response.get_json()["acknowledged_at"] == "2026-11-23T09:00:00Z"
    event = timeline(session, case.id)[-1]
    assert (event.kind, event.actor_api_key_id, event.actor_label) == (
        "acknowledged",
        key.id,
        "API key “Helpdesk”",
    )


def test_acknowledge_accepts_an_empty_body(client, session, helpdesk, case):
    _key, raw = helpdesk

    response = client.post(f"/api/v1/cases/{case.id}/acknowledge", headers=bearer(raw))

    assert response.status_code == 200
    assert session.get(Case, case.id).status == "acknowledged"


def test_acknowledging_twice_is_a_409_problem_and_changes_nothing(
    client, session, helpdesk, case, document
):
    _key, raw = helpdesk
    post(client, raw, case.id, "acknowledge")

    response = post(client, raw, case.id, "acknowledge")

    assert response.status_code == 409
    assert "already acknowledged" in problem(response)["detail"]
    assert [e.kind for e in timeline(session, case.id)] == ["opened", "acknowledged"]
    assert_documented(document, "/api/v1/cases/{case_id}/acknowledge", "POST", response)


# --- replies -------------------------------------------------------------------------------


def test_a_reply_emails_the_customer_in_the_owners_name_with_reply_to_the_owner(
    client, session, runner, helpdesk, case, fake_sendgrid, document
):
    key, raw = helpdesk
    message = "Ana, you told us the keyboard arrived broken. A new one ships today."

    response = post(client, raw, case.id, "replies", {"message": message})

    assert response.status_code == 200
    assert_documented(document, "/api/v1/cases/{case_id}/replies", "POST", response)
    event = [e for e in timeline(session, case.id) if e.kind == "reply"][0]
    assert event.body == message and event.actor_api_key_id == key.id
    run_worker(runner)
    [mail] = [m for m in fake_sendgrid.accepted if m.categories == ["reply"]]
    assert mail.to_email == "ana@example.com"
    assert mail.from_name == "Olivia Bennett"
    assert mail.reply_to == "olivia@shop.example"
    assert message in mail.text


@pytest.mark.parametrize(
    "body, message",
    [
        ({"message": "   "}, "is required"),
        ({"message": "x" * 5001}, "must be at most 5000 characters"),
        ({"message": 42}, "must be a string"),
        ({"message": "Sorry\x00"}, "must not contain NUL characters"),
        ({"message": "Sorry \ud800"}, "must be valid Unicode text (it contains a lone surrogate)"),
    ],
)
def test_a_reply_without_a_fitting_message_is_a_422_naming_message(
    client, session, helpdesk, case, body, message
):
    _key, raw = helpdesk

    response = post(client, raw, case.id, "replies", body)

    assert response.status_code == 422
    assert problem(response)["errors"] == {"message": [message]}
    assert (
        session.scalars(select(OutboxMessage).where(OutboxMessage.template == "reply")).all() == []
    )


def test_a_reply_on_a_closed_case_is_a_409(client, session, helpdesk, owner, clock):
    _key, raw = helpdesk
    closed = make_case(session, owner=owner, status="closed", now=clock.now())
    session.commit()

    response = post(client, raw, closed.id, "replies", {"message": "Hello again."})

    assert response.status_code == 409
    assert "closed" in problem(response)["detail"]


# --- comments --------------------------------------------------------------------------------


def test_a_comment_is_an_internal_note_in_the_cases_comments(
    client, session, helpdesk, case, document
):
    _key, raw = helpdesk

    response = post(client, raw, case.id, "comments", {"body": "Customer called the shop too."})

    assert response.status_code == 200
    assert_documented(document, "/api/v1/cases/{case_id}/comments", "POST", response)
    [comment] = response.get_json()["comments"]
    assert comment["body"] == "Customer called the shop too."
    assert comment["author"] == "API key “Helpdesk”"
    # Nothing goes to the customer.
    assert (
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.customer_id == case.customer_id)
        ).all()
        == []
    )


def test_a_comment_is_allowed_on_a_closed_case(client, session, helpdesk, owner, clock):
    _key, raw = helpdesk
    closed = make_case(session, owner=owner, status="closed", now=clock.now())
    session.commit()

    assert post(client, raw, closed.id, "comments", {"body": "For the record."}).status_code == 200
    assert [(e.kind, e.body) for e in timeline(session, closed.id)][-1:] == [
        ("note", "For the record.")
    ]
    assert session.get(Case, closed.id).status == "closed"


def test_an_empty_comment_is_a_422_naming_body(client, helpdesk, case):
    _key, raw = helpdesk

    response = post(client, raw, case.id, "comments", {"body": ""})

    assert response.status_code == 422
    assert list(problem(response)["errors"]) == ["body"]


# --- reassign --------------------------------------------------------------------------------


def test_reassign_moves_the_case_to_one_new_owner_who_is_emailed(
    client, session, runner, helpdesk, case, fake_sendgrid, document
):
    key, raw = helpdesk
    make_user(session, email="ben@shop.example", name="Ben Baker")
    session.commit()

    response = post(
        client,
        raw,
        case.id,
        "reassign",
        {"owner_email": "BEN@shop.example", "reason": "Ben knows keyboards."},
    )

    assert response.status_code == 200
    assert_documented(document, "/api/v1/cases/{case_id}/reassign", "POST", response)
    assert response.get_json()["owner"] == {"email": "ben@shop.example", "name": "Ben Baker"}
    event = timeline(session, case.id)[-1]
    assert (event.kind, event.body, event.actor_api_key_id) == (
        "reassigned",
        "Ben knows keyboards.",
        key.id,
    )
    assert session.get(Case, case.id).reassign_count == 1
    run_worker(runner)
    assert {(m.to_email, m.categories[0]) for m in fake_sendgrid.accepted} == {
        ("ben@shop.example", "case_reassigned_owner"),
        ("ana@example.com", "case_reassigned_customer"),
    }


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"owner_email": "ben@shop.example"}, "reason", "is required"),
        ({"owner_email": "ben@shop.example", "reason": "  "}, "reason", "is required"),
        (
            {"owner_email": "nobody@shop.example", "reason": "Holidays."},
            "owner_email",
            "No one with this email address can own cases.",
        ),
        ({"reason": "Holidays."}, "owner_email", "is required"),
        ({"owner_email": "ben", "reason": "Holidays."}, "owner_email", "must be an email address"),
        (
            {"owner_email": "olivia@shop.example", "reason": "Holidays."},
            "owner_email",
            "Olivia Bennett already owns this case.",
        ),
    ],
)
def test_reassign_without_a_fitting_owner_or_reason_is_a_422_naming_the_field(
    client, session, helpdesk, case, owner, body, field, message
):
    _key, raw = helpdesk
    make_user(session, email="ben@shop.example", name="Ben Baker")
    session.commit()

    response = post(client, raw, case.id, "reassign", body)

    assert response.status_code == 422
    assert problem(response)["errors"] == {field: [message]}
    assert session.get(Case, case.id).owner_id == owner.id


def test_reassign_to_a_deactivated_person_is_a_422(client, session, helpdesk, case):
    _key, raw = helpdesk
    make_user(session, email="gone@shop.example", name="Gone", active=False)
    session.commit()

    response = post(
        client,
        raw,
        case.id,
        "reassign",
        {"owner_email": "gone@shop.example", "reason": "Holidays."},
    )

    assert response.status_code == 422
    assert problem(response)["errors"] == {
        "owner_email": ["Gone is deactivated and cannot take cases."]
    }


def test_reassigning_a_closed_case_is_a_409(client, session, helpdesk, owner, clock):
    _key, raw = helpdesk
    closed = make_case(session, owner=owner, status="closed", now=clock.now())
    make_user(session, email="ben@shop.example")
    session.commit()
    before = [e.kind for e in timeline(session, closed.id)]

    response = post(
        client, raw, closed.id, "reassign", {"owner_email": "ben@shop.example", "reason": "Late."}
    )

    assert response.status_code == 409
    session.expire_all()
    assert session.get(Case, closed.id).owner_id == owner.id
    assert [e.kind for e in timeline(session, closed.id)] == before


# --- resolve ---------------------------------------------------------------------------------


def test_resolve_marks_it_resolved_and_sends_the_fix_check(
    client, session, runner, helpdesk, case, fake_sendgrid, document
):
    key, raw = helpdesk

    response = post(
        client, raw, case.id, "resolve", {"resolution": "Sent a new keyboard.", "ask_in_days": 0}
    )

    assert response.status_code == 200
    assert_documented(document, "/api/v1/cases/{case_id}/resolve", "POST", response)
    assert response.get_json()["status"] == "resolved"
    [survey] = session.scalars(select(Survey).where(Survey.case_id == case.id)).all()
    assert survey.kind == "fix_check" and survey.question_set.key == "fix-check"
    run_worker(runner)
    [mail] = fake_sendgrid.accepted
    assert mail.to_email == "ana@example.com" and "fixed" in mail.subject
    resolved = [e for e in timeline(session, case.id) if e.kind == "resolved"][0]
    assert resolved.actor_api_key_id == key.id


def test_resolving_twice_is_a_409_and_sends_no_second_fix_check(client, session, helpdesk, case):
    _key, raw = helpdesk
    post(client, raw, case.id, "resolve", {"resolution": "Sent a new keyboard."})

    response = post(client, raw, case.id, "resolve", {"resolution": "Again."})

    assert response.status_code == 409
    assert (
        problem(response)["detail"] == "This case is already resolved; there is nothing to resolve."
    )
    assert len(session.scalars(select(Survey).where(Survey.case_id == case.id)).all()) == 1


def test_resolve_without_a_resolution_is_a_422_naming_resolution(client, helpdesk, case):
    _key, raw = helpdesk

    response = post(client, raw, case.id, "resolve", {"resolution": ""})

    assert response.status_code == 422
    assert list(problem(response)["errors"]) == ["resolution"]


# --- what every action shares -----------------------------------------------------------------


@pytest.mark.parametrize("action", ["acknowledge", "replies", "comments", "reassign", "resolve"])
def test_every_action_needs_a_key_and_an_existing_case(client, helpdesk, case, action):
    _key, raw = helpdesk

    assert client.post(f"/api/v1/cases/{case.id}/{action}", json={}).status_code == 401
    missing = post(client, raw, 999999, action, {})
    assert missing.status_code == 404
    assert problem(missing)["status"] == 404


def test_what_an_action_refuses_is_a_whole_problem_document_and_changes_nothing(
    client, session, helpdesk, case
):
    _key, raw = helpdesk
    post(client, raw, case.id, "acknowledge")
    problems = "https://hearttoheart.dev/problems/"

    missing = post(client, raw, 999999, "acknowledge")
    again = post(client, raw, case.id, "acknowledge")
    to_owner = post(
        client,
        raw,
        case.id,
        "reassign",
        {"owner_email": "olivia@shop.example", "reason": "Holidays."},
    )

    assert (missing.status_code, problem(missing)) == (
        404,
        {
            "type": problems + "not-found",
            "title": "Not Found",
            "status": 404,
            "detail": "There is no case 999999.",
        },
    )
    assert (again.status_code, problem(again)) == (
        409,
        {
            "type": problems + "conflict",
            "title": "Conflict",
            "status": 409,
            "detail": "API key “Helpdesk” already acknowledged this case.",
        },
    )
    assert (to_owner.status_code, problem(to_owner)) == (
        422,
        {
            "type": problems + "validation-error",
            "title": "Unprocessable Content",
            "status": 422,
            "detail": "Some fields are not valid: owner_email.",
            "errors": {"owner_email": ["Olivia Bennett already owns this case."]},
        },
    )
    assert [event.kind for event in timeline(session, case.id)] == ["opened", "acknowledged"]


@pytest.mark.parametrize("action", ["replies", "comments", "reassign", "resolve"])
def test_a_body_that_is_not_a_json_object_is_refused(client, session, helpdesk, case, action):
    _key, raw = helpdesk
    before = [e.kind for e in timeline(session, case.id)]

    as_text = client.post(f"/api/v1/cases/{case.id}/{action}", data="hello", headers=bearer(raw))
    as_list = client.post(f"/api/v1/cases/{case.id}/{action}", json=["hello"], headers=bearer(raw))

    assert as_text.status_code == 415
    assert as_list.status_code == 422 and list(problem(as_list)["errors"]) == ["body"]
    session.expire_all()
    assert [e.kind for e in timeline(session, case.id)] == before
    assert session.get(Case, case.id).status == "open"
