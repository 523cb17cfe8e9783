"""`flask delighted import FILE [--dry-run]`: Delighted's survey responses kept as history, from
the JSON its API returned or from its CSV export, at their original times, acting on nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from surveys.delighted_import.files import HistoryFile, SourceRow
from surveys.delighted_import.rows import RowRefused, historic_answer
from surveys.models import (
    Answer,
    Case,
    Customer,
    OutboxMessage,
    Purchase,
    QuestionSet,
    Response,
    Touchpoint,
)
from surveys.services.customers.neglect import neglected_customers
from surveys.services.insights.filters import InsightFilters
from surveys.services.insights.scores import net_score, net_score_trend
from tests.factories import make_customer, make_purchase, make_user
from tests.pages import page

MAY_1 = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
JUNE_3 = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def delighted_response(
    response_id, email, score, when: datetime, *, name=None, comment=None, **extra
) -> dict:
    """A response as Delighted's API lists it with expand[]=person."""
    return {
        "id": str(response_id),
        "person": {"id": f"p{response_id}", "email": email, "name": name, "created_at": 1},
        "survey_type": "nps",
        "score": score,
        "comment": comment,
        "permalink": f"https://app.delighted.com/r/{response_id}",
        "created_at": int(when.timestamp()),
        "updated_at": None,
        "person_properties": extra.pop("properties", {}),
        "notes": [],
        "tags": [],
        "additional_answers": extra.pop("additional", []),
        **extra,
    }


SELECT_ONE = {
    "id": "5",
    "value": {
        "free_response": None,
        "scale": None,
        "select_one": {"id": "tp0Q4K", "text": "Yes"},
        "select_many": None,
    },
    "question": {"id": "enum_1", "type": "select_one", "text": "Have you bought from us before?"},
}
SELECT_MANY = {
    "id": "6",
    "value": {
        "free_response": None,
        "scale": None,
        "select_one": None,
        "select_many": [{"id": "a", "text": "Price"}, {"id": "b", "text": "Friendly staff"}],
    },
    "question": {"id": "enum_2", "type": "select_many", "text": "What did you enjoy?"},
}

CSV_HEADER = (
    "Response ID,Email,Name,Score,Comment,Response Timestamp,Tags,Notes,Plan,What did you enjoy?\n"
)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_import(runner, path, *options):
    return runner.invoke(args=["delighted", "import", str(path), *options])


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def kept_responses(session) -> list[tuple[str, str, datetime]]:
    rows = session.execute(
        select(Response.delighted_id, Customer.email, Response.submitted_at)
        .join(Customer, Customer.id == Response.customer_id)
        .order_by(Response.submitted_at, Response.delighted_id)
    )
    return [tuple(row) for row in rows]


def answers_of(session, delighted_id: str) -> dict[str, str]:
    response = session.scalar(select(Response).where(Response.delighted_id == delighted_id))
    return {answer.question.key: answer.value for answer in response.answers}


@pytest.fixture
def api_file(tmp_path):
    page_one = [
        delighted_response(
            1,
            "Ana@Example.com",
            3,
            MAY_1,
            name="Ana Diaz",
            comment="The parcel came late.",
            properties={"plan": "gold", "Purchase Experience": "Retail Store"},
            additional=[SELECT_ONE, SELECT_MANY],
        ),
        delighted_response(2, "ben@example.com", 10, JUNE_3, name="Ben"),
    ]
    page_two = [delighted_response(3, "ana@example.com", 8, JUNE_3 + timedelta(days=1))]
    # Two pages saved one after the other, as a script that fetched each page writes them.
    return write(tmp_path, "responses.json", json.dumps(page_one) + "\n" + json.dumps(page_two))


def test_api_json_becomes_customers_and_responses_at_their_original_times(
    runner, session, clock, api_file
):
    result = run_import(runner, api_file)

    assert result.exit_code == 0, result.output
    assert "Imported 3 responses into the question set delighted-nps" in result.output
    assert "Ignored fields: notes, permalink, tags, updated_at." in result.output
    assert kept_responses(session) == [
        ("1", "ana@example.com", MAY_1),
        ("2", "ben@example.com", JUNE_3),
        ("3", "ana@example.com", JUNE_3 + timedelta(days=1)),
    ]
    ana = session.scalar(select(Customer).where(Customer.email == "ana@example.com"))
    assert ana.name == "Ana Diaz"
    assert answers_of(session, "1") == {
        "recommend": "3",
        "comment": "The parcel came late.",
        "additional_answers": "Have you bought from us before?: Yes\n"
        "What did you enjoy?: Price, Friendly staff",
    }
    first = session.scalar(select(Response).where(Response.delighted_id == "1"))
    assert first.negative is True  # a detractor, for the negative-response rate
    assert first.survey.kind == "imported" and first.survey.status == "answered"
    assert first.survey.sent_at is None  # never sent by us: not in the mail figures
    assert first.survey.purchase.properties == {
        "plan": "gold",
        "Purchase Experience": "Retail Store",
    }


def test_history_opens_no_case_sends_nothing_and_counts_no_touch(runner, session, clock, api_file):
    assert run_import(runner, api_file).exit_code == 0

    assert count(session, Case) == 0
    assert count(session, OutboxMessage) == 0  # no email, no webhook out
    assert count(session, Touchpoint) == 0
    customers = session.scalars(select(Customer)).all()
    assert {(c.positive_touches, c.negative_touches) for c in customers} == {(0, 0)}
    # Known from the day of the import, not from their first answer years ago: nobody lands on
    # the neglected list because history arrived.
    assert {c.created_at for c in customers} == {clock.now()}
    assert neglected_customers(session, now=clock.now()) == []


def test_importing_the_same_file_again_skips_every_response(runner, session, clock, api_file):
    assert run_import(runner, api_file).exit_code == 0
    again = run_import(runner, api_file)

    assert again.exit_code == 0, again.output
    assert "Imported 0 responses" in again.output
    assert "3 already imported (skipped)" in again.output
    assert count(session, Response) == 3
    assert count(session, Purchase) == 3
    assert count(session, Customer) == 2


def test_a_dry_run_reports_the_same_and_changes_nothing(runner, session, clock, api_file):
    before = {model: count(session, model) for model in (Customer, Purchase, Response, Answer)}

    result = run_import(runner, api_file, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was saved. Would import 3 responses" in result.output
    assert "2 new customers" in result.output
    assert {model: count(session, model) for model in before} == before
    assert session.scalar(select(QuestionSet).where(QuestionSet.key == "delighted-nps")) is None


def test_a_known_customer_is_found_by_address_and_keeps_their_owner(
    runner, session, clock, api_file
):
    olivia = make_user(session, role="owner")
    make_customer(session, email="ana@example.com", name="Ana D.", owner=olivia)
    session.commit()

    assert run_import(runner, api_file).exit_code == 0

    ana = session.scalars(select(Customer).where(Customer.email == "ana@example.com")).one()
    assert (ana.name, ana.owner_id) == ("Ana D.", olivia.id)
    assert count(session, Customer) == 2


def test_a_person_given_only_by_id_is_a_refused_row_that_says_what_to_do(
    runner, session, clock, tmp_path
):
    without_person = delighted_response(8, "x@example.com", 9, MAY_1)
    without_person["person"] = "1234"
    path = write(
        tmp_path,
        "r.json",
        json.dumps([[delighted_response(7, "cy@example.com", 9, MAY_1), without_person]]),
    )

    result = run_import(runner, path)

    assert result.exit_code == 1
    assert (
        "response 2 (Delighted id 8): person: is only an id (1234): list the responses with "
        "expand[]=person" in result.output
    )
    assert [row[0] for row in kept_responses(session)] == ["7"]


def test_bad_responses_are_reported_by_number_and_field_and_good_ones_go_in(
    runner, session, clock, tmp_path
):
    rows = [
        delighted_response(1, "ok@example.com", 9, MAY_1),
        delighted_response(2, "not-an-address", 9, MAY_1),
        delighted_response(3, "c@example.com", 11, MAY_1),
        delighted_response(4, "d@example.com", 9, MAY_1, comment="bad\x00byte"),
        delighted_response(5, "e@example.com", 9, MAY_1, properties={"x" * 65: "y"}),
        delighted_response(6, "f@example.com", 4, MAY_1, survey_type="csat"),
        delighted_response(7, "g@example.com", 9, datetime(2027, 1, 1, tzinfo=UTC)),
        delighted_response(8, "h@example.com", 9, MAY_1, properties={"pl\ud800n": "gold"}),
        {**delighted_response(9, "i@example.com", 9, MAY_1), "created_at": float("inf")},
        {
            **delighted_response(10, "j@example.com", 9, MAY_1),
            "created_at": "0001-01-01 00:00:00 +0100",
        },
    ]

    result = run_import(runner, write(tmp_path, "r.json", json.dumps(rows)))

    assert result.exit_code == 1
    out = result.output
    assert "response 2 (Delighted id 2): email: is not a valid email address" in out
    assert "response 3 (Delighted id 3): score: must be a whole number from 0 to 10" in out
    assert "response 4 (Delighted id 4): comment: must not contain NUL characters" in out
    assert "response 5 (Delighted id 5): person_properties." + "x" * 65 in out
    assert "response 6 (Delighted id 6): survey_type: is csat" in out
    assert "response 7 (Delighted id 7): created_at: is in the future" in out
    assert "response 8 (Delighted id 8): person_properties.pl" in out
    assert (
        "is a property name that must be valid Unicode text (it contains a lone surrogate)" in out
    )
    assert "response 9 (Delighted id 9): created_at: is not a time we can read" in out
    assert "response 10 (Delighted id 10): created_at: is out of range" in out
    assert "Imported 1 response into" in out
    assert [row[0] for row in kept_responses(session)] == ["1"]


def test_a_csv_export_is_read_by_its_column_names(runner, session, clock, tmp_path):
    path = write(
        tmp_path,
        "export.csv",
        CSV_HEADER
        + 'r1,cy@example.com,Cy,2,"Broken, twice",2024-05-01 12:30:00 UTC,late,,silver,Price\n'
        + "r2,dee@example.com,,9,,2024-06-03T08:00:00Z,,,,\n",
    )

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    assert (
        "Used columns: Response ID (id), Email (email), Name (name), Score (score), "
        "Comment (comment), Response Timestamp (time), Plan (property Plan), "
        "What did you enjoy? (additional question)." in result.output
    )
    assert "Ignored columns: Tags, Notes." in result.output
    assert kept_responses(session) == [
        ("r1", "cy@example.com", MAY_1),
        ("r2", "dee@example.com", JUNE_3),
    ]
    assert answers_of(session, "r1") == {
        "recommend": "2",
        "comment": "Broken, twice",
        "additional_answers": "What did you enjoy?: Price",
    }
    first = session.scalar(select(Response).where(Response.delighted_id == "r1"))
    assert first.survey.purchase.properties == {"Plan": "silver"}


def test_csv_headers_match_whatever_their_case_and_spacing(runner, session, clock, tmp_path):
    path = write(
        tmp_path,
        "export.csv",
        " response_id ;EMAIL; nps score ;Created At;Property: plan\n"
        "9;eve@example.com;7;1714566600;gold\n",
    )

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    assert kept_responses(session) == [("9", "eve@example.com", MAY_1)]
    response = session.scalar(select(Response))
    assert response.survey.purchase.properties == {"plan": "gold"}


def test_bad_csv_rows_are_reported_by_line_and_column(runner, session, clock, tmp_path):
    path = write(
        tmp_path,
        "export.csv",
        CSV_HEADER
        + "r1,cy@example.com,Cy,2,,2024-05-01 12:30:00 UTC,,,,\n"
        + "r2,bad,Dee,5,,2024-05-02 10:00:00,,,,\n"
        + "r3,dee@example.com,Dee,ten,,2024-05-02 10:00:00,,,,\n"
        + "r4,fay@example.com,Fay,5,,yesterday-ish,,,,\n",
    )

    result = run_import(runner, path)

    assert result.exit_code == 1
    assert "line 3 (Delighted id r2): Email: is not a valid email address" in result.output
    assert "line 4 (Delighted id r3): Score: must be a whole number" in result.output
    assert "line 5 (Delighted id r4): Response Timestamp: is not a time we can read" in (
        result.output
    )
    assert [row[0] for row in kept_responses(session)] == ["r1"]


def test_a_csv_without_the_columns_it_needs_cannot_be_read(runner, session, clock, tmp_path):
    path = write(tmp_path, "export.csv", "Email,Score\nana@example.com,9\n")

    result = run_import(runner, path)

    assert result.exit_code == 2
    assert "has no column for id, time" in result.output
    assert count(session, Response) == 0


def test_a_file_that_is_not_json_or_csv_cannot_be_read(runner, session, clock, tmp_path):
    broken = run_import(runner, write(tmp_path, "r.json", '[{"id": "1", "score": 9,'))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Response ID,Email\n1,jos\xe9@example.com\n".encode("latin-1"))

    assert broken.exit_code == 2 and "not valid JSON" in broken.output
    assert run_import(runner, latin).exit_code == 2
    assert run_import(runner, tmp_path / "missing.json").exit_code == 2


def test_history_shows_in_the_trend_at_its_original_dates(runner, session, clock, api_file):
    assert run_import(runner, api_file).exit_code == 0
    spring = InsightFilters(
        start=datetime(2024, 4, 1, tzinfo=UTC),
        end=datetime(2024, 7, 1, tzinfo=UTC),
        question_set_key="delighted-nps",
    )

    trend = net_score_trend(session, spring)

    assert [(period, figure.answers) for period, figure in trend] == [
        ("2024-04-29", 1),  # the week of 1 May: Ana's 3
        ("2024-06-03", 2),  # the week of 3 June: Ben's 10 and Ana's 8
    ]
    assert net_score(session, spring).score == pytest.approx(0.0)  # 1 promoter, 1 detractor


def test_the_dashboard_shows_the_history_for_its_dates(admin_client, runner, session, api_file):
    assert run_import(runner, api_file).exit_code == 0

    shown = page(admin_client.get("/admin/dashboard?from=2024-05-01&to=2024-06-30"))

    assert shown.stats()["net score"] == "0"  # Ana's 3 and Ben's 10; her 8 in June is passive


def test_the_imported_set_is_never_offered_for_new_surveys(admin_client, runner, api_file):
    assert run_import(runner, api_file).exit_code == 0

    shown = page(admin_client.get("/admin/question-sets"))

    assert "Delighted NPS (history)" in shown.text  # listed with its answers
    for form in (
        "/admin/question-sets/after-purchase/default",
        "/admin/question-sets/after-purchase/categories",
    ):
        assert "delighted-nps" not in shown.options("question_set", shown.form(form))


def test_many_responses_are_kept_a_chunk_at_a_time(runner, session, clock, tmp_path):
    rows = [
        delighted_response(n, f"c{n % 700}@example.com", n % 11, MAY_1 + timedelta(hours=n))
        for n in range(1, 1201)
    ]
    path = write(tmp_path, "many.json", json.dumps(rows))

    result = run_import(runner, path, "--chunk-size", "500")

    assert result.exit_code == 0, result.output
    assert "Importing responses" in result.output  # the progress bar's label
    assert count(session, Response) == 1200
    assert count(session, Customer) == 700
    assert count(session, Case) == 0


def test_of_two_time_columns_the_response_timestamp_is_used(runner, session, clock, tmp_path):
    path = write(
        tmp_path,
        "export.csv",
        "Response ID,Email,Score,Created At,Response Timestamp,Updated At\n"
        "r1,zed@example.com,9,2024-01-01,2024-05-01 12:30:00 UTC,\n",
    )

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    assert "Ignored columns: Created At, Updated At." in result.output
    assert kept_responses(session) == [("r1", "zed@example.com", MAY_1)]


def test_a_column_named_twice_cannot_be_read(runner, session, clock, tmp_path):
    path = write(
        tmp_path,
        "export.csv",
        "Response ID,Email,Score,Created At,e-mail\nr1,a@example.com,9,1,b\n",
    )

    result = run_import(runner, path)

    assert result.exit_code == 2
    assert "its header names e-mail twice" in result.output


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["\x00", "\ud800", "ana@example.com", "2024-05-01 12:30:00 UTC", "9", ""]),
)
any_json = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
response_shaped = st.fixed_dictionaries(
    {},
    optional={
        "id": any_json,
        "person": st.one_of(any_json, st.fixed_dictionaries({"email": any_json})),
        "score": any_json,
        "comment": any_json,
        "created_at": any_json,
        "person_properties": any_json,
        "additional_answers": any_json,
        "survey_type": any_json,
    },
)


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(item=st.one_of(response_shaped, any_json))
def test_any_json_response_is_kept_or_refused_by_field_never_an_error(item):
    history_file = HistoryFile(path=Path("r.json"), kind="json", row_count=1)
    try:
        answer = historic_answer(SourceRow("response 1", item), history_file, now=MAY_1)
    except RowRefused as refused:
        assert refused.errors and all(refused.errors.values())
    else:
        assert 0 <= answer.score <= 10 and "@" in answer.email


def test_a_response_whose_purchase_id_is_taken_is_refused_and_creates_nobody(
    runner, session, clock, api_file
):
    make_purchase(session, make_customer(session), order_id="delighted:2")
    session.commit()
    customers = count(session, Customer)

    result = run_import(runner, api_file)

    assert result.exit_code == 1
    assert (
        "response 2 (Delighted id 2): id: the order id delighted:2 is already used by another "
        "purchase" in result.output
    )
    assert [row[0] for row in kept_responses(session)] == ["1", "3"]
    assert count(session, Customer) == customers + 1  # Ana; Ben's only response was refused
