"""/admin/export/responses.csv and /admin/export/cases.csv: data to take along."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from surveys.services import exports
from surveys.services.customers.erasure import erase_customer
from surveys.services.surveys.responses import submit_response
from tests.factories import make_case, make_customer, make_purchase, make_sent_survey, make_user
from tests.pages import page
from tests.test_admin_question_sets import SEEDED

HEART_TO_HEART = ["expectations", "one_thing", "time_money", "recommend", "preferences"]


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def header_of(response) -> list[str]:
    return next(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def owner(session):
    return make_user(session, email="olivia@shop.example", name="Olivia Bennett")


def answered(
    session,
    clock,
    *,
    email: str,
    answers: dict,
    order_id: str | None = None,
    question_set_key: str = "heart-to-heart",
    kind: str = "purchase",
):
    customer = make_customer(session, email=email)
    purchase = make_purchase(session, customer, order_id=order_id) if order_id else None
    survey, _token = make_sent_survey(
        session,
        customer,
        purchase=purchase,
        kind=kind,
        question_set_key=question_set_key,
        sent_at=clock.now() - timedelta(hours=1),
    )
    return submit_response(session, survey, answers, now=clock.now())


def test_responses_export_has_a_row_per_response_and_a_column_per_question(
    admin_client, session, clock
):
    happy = answered(
        session,
        clock,
        email="ben@example.com",
        order_id="A-1",
        answers={
            "expectations": "exceeding",
            "recommend": "10",
            "one_thing": "Très bien — gift wrapping, maybe?",
            "preferences": "Call me at weekends",
        },
    )
    fix_check = answered(
        session,
        clock,
        email="cy@example.com",
        question_set_key="fix-check",
        kind="fix_check",
        answers={"fix_worked": "yes"},
    )
    clock.advance(minutes=5)
    unhappy = answered(
        session,
        clock,
        email="dee@example.com",
        order_id="A-2",
        answers={"expectations": "short", "recommend": "3"},
    )
    # Two written answers: the response's sentiment is their mean.
    happy_answers = {answer.question.key: answer for answer in happy.answers}
    happy_answers["one_thing"].sentiment = 0.5
    happy_answers["preferences"].sentiment = -0.1
    session.commit()

    response = admin_client.get("/admin/export/responses.csv")

    header = header_of(response)
    assert header[:10] == [
        "id",
        "submitted_at",
        "order_id",
        "customer_email",
        "question_set",
        "version",
        "negative",
        "sentiment",
        "net_score_group",
        "properties",
    ]
    assert header[10:15] == HEART_TO_HEART
    assert {"fix_worked", "anything_else"} <= set(header[15:])
    assert "issues" not in header  # nobody answered a relationship review
    rows = read_csv(response)
    assert [row["id"] for row in rows] == [str(happy.id), str(fix_check.id), str(unhappy.id)]
    first, second, third = rows
    assert {key: first[key] for key in header[:15]} == {
        "id": str(happy.id),
        "submitted_at": "2026-11-23T09:00:00Z",
        "order_id": "A-1",
        "customer_email": "ben@example.com",
        "question_set": "heart-to-heart",
        "version": str(SEEDED),  # the seeded set's current version
        "negative": "false",
        "sentiment": "0.2",
        "net_score_group": "promoter",
        "properties": "",
        "expectations": "exceeding",
        "one_thing": "Très bien — gift wrapping, maybe?",
        "time_money": "",
        "recommend": "10",
        "preferences": "Call me at weekends",
    }
    assert (
        second["question_set"],
        second["fix_worked"],
        second["expectations"],
        second["order_id"],
    ) == ("fix-check", "yes", "", "")
    assert (
        third["negative"],
        third["expectations"],
        third["recommend"],
        third["submitted_at"],
        third["net_score_group"],
        third["sentiment"],
    ) == ("true", "short", "3", "2026-11-23T09:05:00Z", "detractor", "")
    assert (second["net_score_group"], second["sentiment"]) == ("", "")


@pytest.mark.parametrize(
    ("answer", "group"),
    [
        ("0", "detractor"),
        ("6", "detractor"),
        ("7", "passive"),
        ("8", "passive"),
        ("9", "promoter"),
        ("10", "promoter"),
        ("", None),
        (None, None),
    ],
)
def test_the_net_score_group_follows_the_recommendation_answer(answer, group):
    assert exports.net_score_group(answer) == group


def test_cases_export_has_each_case_with_its_owner_moments_and_reasons(
    admin_client, session, clock, owner
):
    ana = make_customer(session, email="ana@example.com")
    open_case = make_case(session, owner=owner, customer=ana, now=clock.now())
    clock.advance(hours=6)
    closed = make_case(
        session,
        owner=owner,
        status="closed",
        now=clock.now(),
        answers={"expectations": "meeting", "recommend": "2"},
    )
    closed.acknowledge_escalated_at = clock.now()
    session.commit()

    rows = read_csv(admin_client.get("/admin/export/cases.csv"))

    assert list(rows[0]) == [
        "id",
        "status",
        "owner",
        "customer",
        "order_id",
        "created_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "escalated",
        "reasons",
    ]
    assert rows[0] == {
        "id": str(open_case.id),
        "status": "open",
        "owner": "olivia@shop.example",
        "customer": "ana@example.com",
        "order_id": open_case.purchase.order_id,
        "created_at": "2026-11-23T09:00:00Z",
        "acknowledged_at": "",
        "resolved_at": "",
        "closed_at": "",
        "escalated": "false",
        "reasons": "Are we exceeding your expectations? You are falling short; "
        "If there was one thing we could be doing better, what would that be? "
        "The keyboard arrived with a broken key and nobody answered my email.; "
        "How likely are you to recommend us to a friend or colleague? 4 out of 10",
    }
    assert (
        rows[1]["status"],
        rows[1]["acknowledged_at"],
        rows[1]["resolved_at"],
        rows[1]["closed_at"],
        rows[1]["escalated"],
    ) == ("closed", "2026-11-23T15:00:00Z", "2026-11-23T15:00:00Z", "2026-11-23T15:00:00Z", "true")
    assert rows[1]["reasons"] == (
        "How likely are you to recommend us to a friend or colleague? 2 out of 10"
    )


@pytest.mark.parametrize(
    "attack",
    [
        '=HYPERLINK("http://evil.example","Open")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
    ],
)
def test_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(
    admin_client, session, clock, owner, attack
):
    customer = make_customer(session, email="eve@example.com")
    purchase = make_purchase(session, customer, order_id=attack)
    make_case(
        session,
        owner=owner,
        customer=customer,
        purchase=purchase,
        now=clock.now(),
        answers={"expectations": "short", "one_thing": attack},
    )
    session.commit()

    [response_row] = read_csv(admin_client.get("/admin/export/responses.csv"))
    [case_row] = read_csv(admin_client.get("/admin/export/cases.csv"))

    assert response_row["order_id"] == response_row["one_thing"] == "'" + attack
    assert case_row["order_id"] == "'" + attack


def test_exports_are_streamed_downloads_that_no_cache_keeps(admin_client, session, clock, owner):
    make_case(session, owner=owner, now=clock.now())
    session.commit()

    for name in ("responses", "cases"):
        response = admin_client.get(f"/admin/export/{name}.csv")

        assert response.status_code == 200
        assert response.is_streamed
        assert response.mimetype == "text/csv"
        assert response.mimetype_params["charset"] == "utf-8"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="{name}-2026-11-23.csv"'
        )
        assert response.headers["Cache-Control"] == "no-store"
        assert len(read_csv(response)) == 1


def test_an_empty_export_is_just_its_header(admin_client):
    responses = admin_client.get("/admin/export/responses.csv").get_data(as_text=True)
    cases = admin_client.get("/admin/export/cases.csv").get_data(as_text=True)

    assert responses == ",".join(exports.RESPONSE_COLUMNS) + "\r\n"
    assert exports.RESPONSE_COLUMNS[-4:] == (
        "negative",
        "sentiment",
        "net_score_group",
        "properties",
    )
    assert cases.splitlines() == [",".join(exports.CASE_COLUMNS)]


def test_the_dashboard_links_to_both_exports(admin_client):
    links = set(page(admin_client.get("/admin/dashboard")).links().values())

    assert {"/admin/export/responses.csv", "/admin/export/cases.csv"} <= links


def test_an_erased_customer_is_exported_without_their_personal_data(
    admin_client, session, clock, owner
):
    ana = make_customer(session, email="ana@example.com", name="Ana Diaz")
    make_case(session, owner=owner, customer=ana, now=clock.now())
    erase_customer(session, ana, now=clock.now())
    session.commit()

    [response_row] = read_csv(admin_client.get("/admin/export/responses.csv"))
    [case_row] = read_csv(admin_client.get("/admin/export/cases.csv"))

    assert response_row["customer_email"] == case_row["customer"] == ana.email
    assert ana.email.endswith("@erased.invalid")
    assert (response_row["one_thing"], response_row["expectations"], response_row["recommend"]) == (
        "",
        "short",
        "4",
    )
    assert case_row["reasons"].startswith("Are we exceeding your expectations?")


def test_rows_are_read_in_batches_without_losing_or_repeating_any(app, session, clock, owner):
    cases = [make_case(session, owner=owner, now=clock.now()) for _ in range(5)]
    session.commit()
    own_session = app.extensions["db"]["sessionmaker"]()

    header, rows = exports.case_table(own_session, batch_size=2)
    case_ids = [row[0] for row in rows]
    header, rows = exports.response_table(own_session, batch_size=2)
    response_ids = [row[0] for row in rows]

    assert case_ids == [case.id for case in cases]
    assert response_ids == [case.response_id for case in cases]


def test_the_production_server_lets_a_long_export_finish():
    """gunicorn's sync worker cut off any download longer than `timeout`; threaded ones keep
    the worker's heartbeat going while a thread streams, and a restart waits for downloads."""
    from gunicorn.config import Config

    from surveys.config import PROJECT_ROOT

    config = Config()
    settings: dict = {}
    exec((PROJECT_ROOT / "gunicorn.conf.py").read_text(), settings)
    for name in ("worker_class", "threads", "timeout", "graceful_timeout"):
        config.set(name, settings[name])

    assert config.worker_class_str == "gthread" and config.threads > 1
    assert config.graceful_timeout >= 300 > config.timeout
