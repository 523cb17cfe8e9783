"""Reading cases and responses through the API."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from surveys.api.queries import responses_query
from surveys.models import Answer, CaseEvent, Response
from tests.conftest import TEST_START
from tests.factories import (
    make_api_key,
    make_case,
    make_customer,
    make_purchase,
    make_sent_survey,
    make_user,
)

T = TEST_START


@pytest.fixture
def api_key(session):
    return make_api_key(session, name="helpdesk")


@pytest.fixture
def auth(session, api_key):
    session.commit()
    return {"Authorization": f"Bearer {api_key[1]}"}


@contextmanager
def counting_queries(app):
    """Collect the queries the app sends while the block runs (not transaction control)."""
    statements: list[str] = []
    engine = app.extensions["db"]["engine"]

    def count(_conn, _cursor, statement, *_args):
        if (
            not statement.lstrip()
            .upper()
            .startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"))
        ):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def get_json(client, auth, path: str) -> dict:
    response = client.get(path, headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# --- cases -----------------------------------------------------------------------------------


def test_case_shows_the_customers_own_words_and_only_internal_notes_as_comments(
    client, auth, session, api_key
):
    owner = make_user(session, email="olivia@shop.test", name="Olivia Owner")
    customer = make_customer(session, email="ana@example.com", name="Ana Diaz")
    purchase = make_purchase(session, customer, order_id="A-1001")
    case = make_case(
        session, owner=owner, customer=customer, purchase=purchase, now=T, status="acknowledged"
    )
    case.acknowledged_at = T + timedelta(minutes=20)
    case.events.extend(
        [
            CaseEvent(
                kind="note",
                actor_user_id=owner.id,
                body="Called her; new key on its way.",
                created_at=T + timedelta(hours=1),
            ),
            CaseEvent(
                kind="reply",
                actor_user_id=owner.id,
                body="Dear Ana, I am so sorry…",
                created_at=T + timedelta(hours=2),
            ),
            CaseEvent(
                kind="note",
                actor_api_key_id=api_key[0].id,
                body="Ticket #88 in Zendesk.",
                created_at=T + timedelta(hours=3),
            ),
        ]
    )
    session.commit()

    body = get_json(client, auth, f"/api/v1/cases/{case.id}")

    # The whole conversation, the customer's answers first; the owner wrote last.
    timeline = body.pop("timeline")
    assert [(entry["kind"], entry["author"], entry["created_at"]) for entry in timeline] == [
        ("survey_answers", "Ana Diaz", "2026-11-23T09:00:00Z"),
        ("opened", "Heart to Heart", "2026-11-23T09:00:00Z"),
        ("acknowledged", "Olivia Owner", "2026-11-23T09:00:00Z"),
        ("note", "Olivia Owner", "2026-11-23T10:00:00Z"),
        ("reply", "Olivia Owner", "2026-11-23T11:00:00Z"),
        ("note", "API key “helpdesk”", "2026-11-23T12:00:00Z"),
    ]
    assert timeline[0]["body"].startswith(
        "Are we exceeding your expectations? You are falling short (negative)\n"
    )
    assert timeline[4]["body"] == "Dear Ana, I am so sorry…"
    assert body.pop("waiting_on") == "customer"
    assert body.pop("reopened") == 0
    assert body == {
        "id": case.id,
        "status": "acknowledged",
        "owner": {"email": "olivia@shop.test", "name": "Olivia Owner"},
        "customer": {"email": "ana@example.com", "name": "Ana Diaz"},
        "order_id": "A-1001",
        "reasons": [
            {"question": "Are we exceeding your expectations?", "answer": "You are falling short"},
            {
                "question": "If there was one thing we could be doing better, what would that be?",
                "answer": "The keyboard arrived with a broken key and nobody answered my email.",
            },
            {
                "question": "How likely are you to recommend us to a friend or colleague?",
                "answer": "4",
            },
        ],
        "comments": [
            {
                "body": "Called her; new key on its way.",
                "author": "Olivia Owner",
                "created_at": "2026-11-23T10:00:00Z",
            },
            {
                "body": "Ticket #88 in Zendesk.",
                "author": "API key “helpdesk”",
                "created_at": "2026-11-23T12:00:00Z",
            },
        ],
        "created_at": "2026-11-23T09:00:00Z",
        "acknowledge_by": "2026-11-23T13:00:00Z",
        "acknowledged_at": "2026-11-23T09:20:00Z",
        "resolved_at": None,
        "closed_at": None,
        "escalated": False,
    }


def test_escalated_case_says_so(client, auth, session):
    case = make_case(session, owner=make_user(session), now=T)
    case.acknowledge_escalated_at = T + timedelta(hours=4)
    session.commit()

    assert get_json(client, auth, f"/api/v1/cases/{case.id}")["escalated"] is True


def test_cases_are_listed_newest_first_and_filtered_by_status_and_owner(client, auth, session):
    olivia = make_user(session, email="olivia@shop.test")
    omar = make_user(session, email="omar@shop.test")
    oldest = make_case(session, owner=olivia, now=T)
    middle = make_case(session, owner=omar, now=T + timedelta(hours=1), status="resolved")
    newest = make_case(session, owner=olivia, now=T + timedelta(hours=2), status="closed")
    session.commit()

    def ids(query: str) -> list[int]:
        page = get_json(client, auth, f"/api/v1/cases{query}")
        assert page["next_cursor"] is None
        return [case["id"] for case in page["items"]]

    assert ids("") == [newest.id, middle.id, oldest.id]
    assert ids("?status=resolved") == [middle.id]
    assert ids("?owner=olivia@shop.test") == [newest.id, oldest.id]
    assert ids("?owner=OLIVIA@shop.test&status=open") == [oldest.id]
    assert ids("?owner=nobody@shop.test") == []


def test_cursor_walks_every_case_once_even_when_new_ones_arrive(client, auth, session):
    owner = make_user(session)
    # Two cases share a moment, so the cursor must break ties by id.
    made = [make_case(session, owner=owner, now=T + timedelta(minutes=i // 2)) for i in range(5)]
    session.commit()

    first = get_json(client, auth, "/api/v1/cases?limit=2")
    make_case(session, owner=owner, now=T + timedelta(days=1))  # arrives between pages
    session.commit()
    seen = [case["id"] for case in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = get_json(client, auth, f"/api/v1/cases?limit=2&cursor={cursor}")
        seen += [case["id"] for case in page["items"]]
        cursor = page["next_cursor"]

    assert seen == [case.id for case in reversed(made)]


def test_a_page_of_cases_takes_the_same_few_queries_however_many_cases_it_holds(
    app, client, auth, session
):
    owner = make_user(session)
    for i in range(12):
        case = make_case(session, owner=owner, now=T + timedelta(minutes=i))
        case.events.append(
            CaseEvent(
                kind="note",
                actor_user_id=owner.id,
                body=f"note {i}",
                created_at=T + timedelta(minutes=i, seconds=1),
            )
        )
    session.commit()

    get_json(client, auth, "/api/v1/cases?limit=1")  # notes the key's use (once a minute)
    with counting_queries(app) as small:
        assert len(get_json(client, auth, "/api/v1/cases?limit=2")["items"]) == 2
    with counting_queries(app) as large:
        assert len(get_json(client, auth, "/api/v1/cases?limit=12")["items"]) == 12

    # The key (read on every request, so that a revocation holds at once), the cases with
    # their responses, their answers (reasons and the timeline's first entry), their events.
    assert len(large) == len(small) <= 4


# --- responses -------------------------------------------------------------------------------


def make_response(session, *, email: str, answers: dict[str, str], at, order_id: str | None):
    """A completed heart-to-heart response (no case: these tests only read responses)."""
    customer = make_customer(session, email=email)
    purchase = make_purchase(session, customer, order_id=order_id) if order_id else None
    survey, _token = make_sent_survey(
        session, customer, purchase=purchase, sent_at=at - timedelta(hours=1)
    )
    survey.status = "answered"
    questions = {question.key: question for question in survey.version.questions}
    response = Response(
        survey_id=survey.id, version_id=survey.version_id, customer_id=customer.id, submitted_at=at
    )
    for key, value in answers.items():
        question = questions[key]
        response.answers.append(
            Answer(
                question_id=question.id,
                position=question.position,
                value=value,
                negative=question.is_negative(value),
            )
        )
    response.negative = any(answer.negative for answer in response.answers)
    session.add(response)
    session.flush()
    return response


def test_responses_are_listed_oldest_first_with_answers_by_question_key(client, auth, session):
    late = make_response(
        session,
        email="late@example.com",
        at=T + timedelta(hours=1),
        order_id="A-2",
        answers={"expectations": "short", "recommend": "3"},
    )
    early = make_response(
        session,
        email="early@example.com",
        at=T,
        order_id=None,
        answers={
            "expectations": "exceeding",
            "recommend": "10",
            "one_thing": "Nothing, keep going!",
        },
    )
    session.commit()

    page = get_json(client, auth, "/api/v1/responses")

    assert page == {
        "items": [
            {
                "id": early.id,
                "survey_id": early.survey_id,
                "order_id": None,
                "customer_email": "early@example.com",
                "question_set": "heart-to-heart",
                "version": early.version.number,
                "answers": {
                    "expectations": "exceeding",
                    "one_thing": "Nothing, keep going!",
                    "recommend": 10,
                },
                "negative": False,
                "submitted_at": "2026-11-23T09:00:00Z",
            },
            {
                "id": late.id,
                "survey_id": late.survey_id,
                "order_id": "A-2",
                "customer_email": "late@example.com",
                "question_set": "heart-to-heart",
                "version": late.version.number,
                "answers": {"expectations": "short", "recommend": 3},
                "negative": True,
                "submitted_at": "2026-11-23T10:00:00Z",
            },
        ],
        "next_cursor": None,
    }


def test_since_keeps_responses_submitted_at_or_after_it(client, auth, session):
    for hours in range(4):
        make_response(
            session,
            email=f"c{hours}@example.com",
            at=T + timedelta(hours=hours),
            order_id=f"A-{hours}",
            answers={"expectations": "meeting"},
        )
    session.commit()

    page = get_json(client, auth, "/api/v1/responses?since=2026-11-23T12:00:00%2B02:00")

    assert [item["order_id"] for item in page["items"]] == ["A-1", "A-2", "A-3"]


def test_response_cursor_walks_every_response_once_and_then_ends(client, auth, session):
    made = [
        make_response(
            session,
            email=f"c{i}@example.com",
            at=T + timedelta(minutes=i // 2),
            order_id=f"A-{i}",
            answers={"expectations": "meeting"},
        )
        for i in range(5)
    ]
    session.commit()

    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = get_json(client, auth, f"/api/v1/responses{query}")
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [response.id for response in made]
    assert pages == 3


def test_a_page_of_responses_takes_the_same_few_queries_however_many_it_holds(
    app, client, auth, session
):
    for i in range(12):
        make_response(
            session,
            email=f"c{i}@example.com",
            at=T + timedelta(minutes=i),
            order_id=f"A-{i}",
            answers={"expectations": "meeting", "recommend": "9"},
        )
    session.commit()

    get_json(client, auth, "/api/v1/responses?limit=1")  # notes the key's use (once a minute)
    with counting_queries(app) as small:
        assert len(get_json(client, auth, "/api/v1/responses?limit=2")["items"]) == 2
    with counting_queries(app) as large:
        assert len(get_json(client, auth, "/api/v1/responses?limit=12")["items"]) == 12

    assert len(large) == len(small) <= 3  # the key (every request), the responses, their answers


def test_the_response_cursor_seeks_the_index_instead_of_walking_to_it(session):
    """`(submitted_at, id) > (x, y)` is an index condition on both databases (at row 500,000
    the old `a > x OR (a = x AND id > y)` read every row before the cursor)."""
    for i in range(3):
        make_response(session, email=f"c{i}@example.com", at=T, order_id=f"A-{i}", answers={})
    session.commit()
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # The tables are tiny, so a sequential scan would win; ask what the index can do.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")

    sent = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM responses" in statement:
            sent.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", note)
    try:
        session.scalars(responses_query(since=None, after=(T, 1), limit=10)).all()
    finally:
        event.remove(connection, "before_cursor_execute", note)
    [(statement, parameters)] = sent
    explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    rows = connection.exec_driver_sql(explain + statement, parameters).all()
    plan = "\n".join(str(row[-1]) for row in rows)

    if postgres:
        assert "ix_responses_submitted_at_id" in plan
        assert "Index Cond: (ROW(submitted_at, id) > ROW(" in plan, plan
    else:
        # SQLite keeps the id in every index; it seeks to the cursor's moment, then reads on.
        assert "SEARCH responses USING INDEX ix_responses_submitted_at_id (" in plan, plan
