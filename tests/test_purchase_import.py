"""`flask purchases import FILE.csv [--dry-run]`: purchases from a spreadsheet."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from surveys.models import Customer, OutboxMessage, Purchase, Survey
from tests.factories import make_api_key, make_customer, make_user

HEADER = "order_id,email,name,purchased_at,total,currency,category,owner_email\n"


def write(tmp_path, text: str, *, name: str = "purchases.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run_import(runner, path, *options):
    return runner.invoke(args=["purchases", "import", str(path), *options])


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def order_ids(session) -> list[str]:
    return list(session.scalars(select(Purchase.order_id).order_by(Purchase.order_id)))


def test_good_rows_become_purchases_with_their_surveys(runner, session, clock, tmp_path):
    owner = make_user(session, role="owner", email="olivia@shop.test")
    session.commit()
    path = write(
        tmp_path,
        HEADER + "A-1,Ana@Example.com,Ana Diaz,2026-11-22T10:00:00Z,129.90,eur,hardware,"
        "olivia@shop.test\n" + "A-2,ben@example.com,,2026-11-23T08:00:00+01:00,,,,\n",
    )

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    assert "Importing purchases" in result.output
    assert "Imported 2 purchases; 0 already known (skipped); 0 rejected." in result.output
    assert "Surveys: 2 scheduled, 0 throttled, 0 suppressed, 0 skipped." in result.output
    first = session.scalar(select(Purchase).where(Purchase.order_id == "A-1"))
    assert (first.purchased_at, first.total, first.currency, first.source) == (
        datetime(2026, 11, 22, 10, tzinfo=UTC),
        Decimal("129.90"),
        "EUR",
        "csv",
    )
    assert [(item.category, item.quantity) for item in first.items] == [("hardware", 1)]
    customer = session.get(Customer, first.customer_id)
    assert (customer.email, customer.name, customer.owner_id) == (
        "ana@example.com",
        "Ana Diaz",
        owner.id,
    )
    second = session.scalar(select(Purchase).where(Purchase.order_id == "A-2"))
    assert second.purchased_at == datetime(2026, 11, 23, 7, tzinfo=UTC)
    assert second.items == [] and second.total is None
    surveys = session.scalars(select(Survey).order_by(Survey.id)).all()
    assert [(s.purchase_id, s.status) for s in surveys] == [
        (first.id, "scheduled"),
        (second.id, "scheduled"),
    ]
    assert count(session, OutboxMessage) == 2


def test_running_the_same_file_again_skips_every_known_order(runner, session, clock, tmp_path):
    path = write(tmp_path, HEADER + "A-1,ana@example.com,Ana,,,,,\nA-2,ben@example.com,Ben,,,,,\n")
    assert run_import(runner, path).exit_code == 0
    before = (count(session, Purchase), count(session, Survey), count(session, OutboxMessage))

    result = run_import(runner, path)

    assert result.exit_code == 0, result.output
    assert "Imported 0 purchases; 2 already known (skipped); 0 rejected." in result.output
    assert (
        (count(session, Purchase), count(session, Survey), count(session, OutboxMessage))
        == before
        == (2, 2, 2)
    )


def test_bad_rows_are_reported_by_line_and_column_while_good_rows_go_in(
    runner, session, clock, tmp_path
):
    path = write(
        tmp_path,
        HEADER
        + "A-1,ana@example.com,Ana,,,,,\n"
        + "A-2,not-an-address,,,-5,EURO,,\n"
        + "A-3,cy@example.com,,2026-11-22 10:00,,,,\n"
        + ",dee@example.com,,,,,,\n"
        + "A-5,eve@example.com,,2026-12-24T10:00:00Z,,,,\n"
        + "A-6,fay@example.com,,,,,,nobody@shop.test\n"
        + "A-7,gus@example.com,Gus,,,,,\n",
    )

    result = run_import(runner, path)

    assert result.exit_code == 1, result.output
    output = result.output
    assert "Rejected rows (nothing from them was saved):" in output
    assert "line 3 (order A-2): email: is not a valid email address" in output
    assert "total: must not be negative; currency: must be a three-letter ISO 4217 code" in output
    assert (
        "line 4 (order A-3): purchased_at: must be an RFC 3339 date-time with an offset" in output
    )
    assert "line 5: order_id: is required" in output
    assert "line 6 (order A-5): purchased_at: is in the future" in output
    assert "line 7 (order A-6): owner_email: is not an active owner or admin" in output
    assert "Imported 2 purchases; 0 already known (skipped); 5 rejected." in output
    assert order_ids(session) == ["A-1", "A-7"]
    # A rejected row leaves no customer behind either.
    emails = set(session.scalars(select(Customer.email)))
    assert emails == {"ana@example.com", "gus@example.com"}


def test_a_row_is_judged_by_the_same_rules_as_the_api(runner, client, session, clock, tmp_path):
    _key, raw = make_api_key(session)
    session.commit()
    api = client.post(
        "/api/v1/purchases",
        headers={"Authorization": f"Bearer {raw}"},
        json={
            "order_id": "A-1",
            "customer": {"email": "ana@@example"},
            "total": "12.345",
            "currency": "12",
            "purchased_at": "yesterday",
        },
    )
    path = write(tmp_path, HEADER + "A-1,ana@@example,,yesterday,12.345,12,,\n")

    result = run_import(runner, path)

    errors = api.get_json()["errors"]
    assert set(errors) == {"customer.email", "total", "currency", "purchased_at"}
    for field, column in [
        ("customer.email", "email"),
        ("total", "total"),
        ("currency", "currency"),
        ("purchased_at", "purchased_at"),
    ]:
        assert f"{column}: {errors[field][0]}" in result.output
    assert result.exit_code == 1


def test_dry_run_reports_every_error_and_what_would_happen_but_saves_nothing(
    runner, session, clock, tmp_path
):
    known = make_customer(session, email="known@example.com")
    gone = make_customer(session, email="gone@example.com")
    gone.suppressed_at = clock.now()
    session.commit()
    path = write(
        tmp_path,
        HEADER
        + "A-1,ana@example.com,Ana,2026-11-22T10:00:00Z,,,,\n"
        + "A-2,ana@example.com,Ana,2026-11-22T11:00:00Z,,,,\n"
        + "A-3,old@example.com,,2026-09-01T10:00:00Z,,,,\n"
        + "A-4,gone@example.com,,,,,,\n"
        + "A-5,bad address,,,,,,\n"
        + "A-1,ana@example.com,Ana,,,,,\n",
    )

    result = run_import(runner, path, "--dry-run")

    assert result.exit_code == 1, result.output
    output = result.output
    assert "Checking purchases" in output
    assert "Rows that would be rejected:\n  line 6 (order A-5): email:" in output
    assert "Dry run: nothing was saved." in output
    assert "Would import 4 purchases; 1 already known (would be skipped); 1 rejected." in output
    assert "Surveys that would follow: 1 scheduled, 1 throttled, 1 suppressed, 1 skipped." in output
    assert count(session, Purchase) == count(session, Survey) == 0
    assert count(session, OutboxMessage) == 0
    assert set(session.scalars(select(Customer.id))) == {known.id, gone.id}


def test_a_clean_dry_run_exits_0(runner, session, clock, tmp_path):
    path = write(tmp_path, HEADER + "A-1,ana@example.com,Ana,,,,,\n")

    result = run_import(runner, path, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "Would import 1 purchase; 0 already known" in result.output
    assert count(session, Purchase) == 0


def test_chunks_are_committed_and_repeats_in_the_file_count_as_known(
    runner, session, clock, tmp_path
):
    rows = "".join(f"A-{n},c{n}@example.com,,,,,,\n" for n in range(1, 6))
    path = write(tmp_path, HEADER + rows + "A-2,c2@example.com,,,,,,\n" + "A-3,bad,,,,,,\n")

    dry = run_import(runner, path, "--dry-run", "--chunk-size", "2")
    real = run_import(runner, path, "--chunk-size", "2")

    for result in (dry, real):
        assert result.exit_code == 1, result.output
        assert "5 purchases; 1 already known" in result.output
        assert "line 8 (order A-3): email:" in result.output
    assert order_ids(session) == ["A-1", "A-2", "A-3", "A-4", "A-5"]


def test_a_dry_run_predicts_the_real_runs_surveys_across_chunks(runner, session, clock, tmp_path):
    path = write(
        tmp_path,
        HEADER + "A-1,ana@example.com,,,,,,\n"
        "A-2,ben@example.com,,,,,,\n"
        "A-3,ana@example.com,,,,,,\n"
        "A-4,ana@example.com,,2026-09-01T10:00:00Z,,,,\n"
        "A-5,ben@example.com,,,,,,\n",
    )
    outcomes = "2 scheduled, 2 throttled, 0 suppressed, 1 skipped."

    dry = run_import(runner, path, "--dry-run", "--chunk-size", "1")
    real = run_import(runner, path, "--chunk-size", "1")

    assert f"Surveys that would follow: {outcomes}" in dry.output
    assert f"Surveys: {outcomes}" in real.output
    statuses = session.scalars(select(Survey.status).order_by(Survey.id)).all()
    assert statuses == ["scheduled", "scheduled", "throttled", "skipped", "throttled"]


def test_excel_files_with_a_byte_order_mark_and_semicolons_are_read(
    runner, session, clock, tmp_path
):
    text = (
        "\ufeffOrder_ID;Email;Name;Total;Currency;Category\r\n"
        'A-1;chloe@example.com;Chloé Martin;"1234,5";EUR;hardware\r\n'
        'A-2;dev@example.com;"Patel; Dev";299.00;EUR;\r\n'
        ";;;;;\r\n"
    )
    path = write(tmp_path, text)

    result = run_import(runner, path)

    assert result.exit_code == 1, result.output
    assert "line 2 (order A-1): total: must be a decimal number" in result.output
    assert "Imported 1 purchase; 0 already known (skipped); 1 rejected." in result.output
    customer = session.scalar(select(Customer).where(Customer.email == "dev@example.com"))
    assert customer.name == "Patel; Dev"
    assert session.scalar(select(Purchase.total)) == Decimal("299.00")


def test_quoted_values_may_span_lines_and_short_rows_are_padded(runner, session, clock, tmp_path):
    path = write(
        tmp_path,
        HEADER
        + 'A-1,ana@example.com,"Ana\nDiaz",,,,,\n'
        + "A-2,ben@example.com\n"
        + "A-3,cy@example.com,Cy,,,,,,extra\n",
    )

    result = run_import(runner, path)

    assert result.exit_code == 1, result.output
    # A name is one line (it goes into mail headers): the quoted line break is refused.
    assert "line 2 (order A-1): name: must be a single line" in result.output
    assert "line 5 (order A-3): row: has 9 cells but the header names 8 columns" in result.output
    assert order_ids(session) == ["A-2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cannot read"),
        (b"", "is empty: its first line must name the columns"),
        (b"order_id,name,total\nA-1,Ana,1\n", "its header lacks the column email"),
        (b"email,name\n", "lacks the column order_id"),
        (
            b"order_id,email,purchase_at\nA-1,a@example.com,2026-11-22T10:00:00Z\n",
            "its header names a column we do not know: purchase_at",
        ),
        (b"order_id,email,email\n", "its header names email twice"),
        (
            b"order_id,purchase_at,shipping,total,Total\n",
            "its header lacks the column email; "
            "names columns we do not know: purchase_at, shipping; "
            "names total twice. The first line must name the columns, from: order_id, email",
        ),
        (
            HEADER.encode() + "A-1,ana@example.com,Ana Díaz,,,,,\n".encode("latin-1"),
            "line 2: the file is not UTF-8 text",
        ),
        (
            HEADER.encode() + b'A-1,ana@example.com,"Ana,,,,,\nA-2,ben@example.com,,,,,,\n',
            "line 3: unexpected end of data. Check the quotes",
        ),
    ],
)
def test_a_file_that_cannot_be_read_exits_2_and_imports_nothing(
    runner, session, clock, tmp_path, content, message
):
    path = tmp_path / "purchases.csv"
    if content is not None:
        path.write_bytes(content)

    result = run_import(runner, path)

    assert result.exit_code == 2, result.output
    assert "Error: " in result.output and message in result.output
    assert count(session, Purchase) == 0


def test_the_help_names_the_columns(runner):
    result = runner.invoke(args=["purchases", "import", "--help"])

    assert result.exit_code == 0
    assert "order_id and email (required)" in result.output
    assert "--dry-run" in result.output


@pytest.mark.parametrize(
    "bad_date", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1899-06-01T00:00:00Z"]
)
def test_a_date_out_of_range_is_one_bad_row_and_every_good_row_is_saved(
    runner, session, clock, tmp_path, bad_date
):
    # 1,201 rows, chunks of 500: the bad one is in the third chunk with 200 good rows.
    rows = [f"A-{n},c{n}@example.com,,2026-11-22T10:00:00Z,,,,\n" for n in range(1, 1202)]
    rows[1100] = f"A-1101,c1101@example.com,,{bad_date},,,,\n"
    path = write(tmp_path, HEADER + "".join(rows))

    result = run_import(runner, path)

    assert result.exit_code == 1, result.output
    assert "Imported 1,200 purchases; 0 already known (skipped); 1 rejected." in result.output
    assert "line 1102 (order A-1101): purchased_at:" in result.output
    assert count(session, Purchase) == 1200
    assert "A-1101" not in order_ids(session)


def test_a_file_with_old_mac_line_endings_cannot_be_read(runner, session, clock, tmp_path):
    path = tmp_path / "purchases.csv"
    path.write_bytes(HEADER.replace("\n", "\r").encode() + b"A-1,ana@example.com,,,,,,\r")

    result = run_import(runner, path)

    assert result.exit_code == 2, result.output
    assert "Error: " in result.output and "cannot read" in result.output
    assert "line endings" in result.output
    assert count(session, Purchase) == 0
