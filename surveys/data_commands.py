"""`flask purchases import` and `flask customers erase`: data in, and out."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from surveys import clock
from surveys.db import db
from surveys.imports import (
    CHUNK_SIZE,
    COLUMNS,
    SURVEY_OUTCOMES,
    ImportReport,
    UnreadableFile,
    import_purchases,
    open_purchase_file,
)
from surveys.services.customers.erasure import Erasure, erase_customer
from surveys.services.customers.profile import find_customer_by_email

# Exit codes of `purchases import`.
ALL_IMPORTED, SOME_REJECTED, UNREADABLE = 0, 1, 2


def register_commands(app: Flask) -> None:
    @app.cli.group("purchases")
    def purchases_group():
        """Purchases recorded outside the API."""

    @purchases_group.command("import")
    @click.argument("file", metavar="FILE.csv", type=click.Path(path_type=Path))
    @click.option(
        "--dry-run",
        is_flag=True,
        help="Check every row and report what would happen, saving nothing.",
    )
    @click.option(
        "--chunk-size",
        type=click.IntRange(min=1),
        default=CHUNK_SIZE,
        show_default=True,
        help="Rows saved per transaction.",
    )
    def import_purchases_command(file: Path, dry_run: bool, chunk_size: int):
        """Import purchases from a CSV file whose first line names its columns.

        Columns: order_id and email (required), name, purchased_at (RFC 3339, like
        2026-11-22T10:00:00Z), total, currency, category, owner_email. Orders already
        known are skipped. Exit code: 0 when every row was imported or known, 1 when
        some were rejected, 2 when the file cannot be read.
        """
        context = click.get_current_context()
        try:
            purchase_file = open_purchase_file(file)
            label = "Checking purchases" if dry_run else "Importing purchases"
            # On stderr, so that stdout holds only the report.
            with click.progressbar(
                length=purchase_file.row_count, label=label, file=sys.stderr
            ) as bar:
                report = import_purchases(
                    db.session(),
                    purchase_file,
                    dry_run=dry_run,
                    chunk_size=chunk_size,
                    on_row=lambda: bar.update(1),
                )
        except UnreadableFile as exc:
            click.echo(f"Error: {exc}", err=True)
            context.exit(UNREADABLE)
        _print_import_report(report, dry_run=dry_run)
        context.exit(SOME_REJECTED if report.rejected or report.stopped_at else ALL_IMPORTED)

    @app.cli.group("customers")
    def customers_group():
        """Customers' personal data."""

    @customers_group.command("erase")
    @click.argument("email")
    @click.option("--yes", is_flag=True, help="Erase without asking for confirmation.")
    def erase_customer_command(email: str, yes: bool):
        """Erase the personal data of the customer with EMAIL, for good.

        Their name, address, what we remembered about them and what they wrote
        go; their choices and scores stay, anonymised, for the statistics, and
        their cases stay with their owners as "erased customer". They are never
        surveyed again.
        """
        session = db.session()
        customer = find_customer_by_email(session, email)
        if customer is None:
            raise click.ClickException(f"No customer has the address {email.strip()}.")
        if customer.erased_at is None and not yes:
            who = f"{customer.name} <{customer.email}>" if customer.name else customer.email
            click.echo(
                f"This erases the personal data of {who}: their name, address, "
                "preferences, notes and written answers. Their choices and scores stay, "
                "anonymised. It cannot be undone."
            )
            click.confirm("Erase it?", abort=True)
        erasure = erase_customer(session, customer, now=clock.now())
        session.commit()
        click.echo(_erasure_summary(customer.id, erasure, erased_at=customer.erased_at))


def _print_import_report(report: ImportReport, *, dry_run: bool) -> None:
    if report.rejected:
        click.echo(
            "Rejected rows (nothing from them was saved):"
            if not dry_run
            else "Rows that would be rejected:"
        )
        for row in report.rejected:
            click.echo(f"  {row.describe()}")
        click.echo(
            f"Columns: {', '.join(COLUMNS)}; purchased_at like 2026-11-22T10:00:00Z, "
            "total like 129.90."
        )
    if dry_run:
        click.echo("Dry run: nothing was saved.")
        click.echo(
            f"Would import {_count(report.imported, 'purchase')}; "
            f"{report.known:,} already known (would be skipped); "
            f"{report.rejected_count:,} rejected."
        )
        click.echo(f"Surveys that would follow: {_survey_outcomes(report)}.")
    else:
        click.echo(
            f"Imported {_count(report.imported, 'purchase')}; "
            f"{report.known:,} already known (skipped); "
            f"{report.rejected_count:,} rejected."
        )
        click.echo(f"Surveys: {_survey_outcomes(report)}.")
    if report.stopped_at is not None:
        kept = (
            "Nothing was saved."
            if dry_run
            else "The rows before it are saved; run the same command again to import the rest "
            "(orders already imported are skipped)."
        )
        click.echo(
            f"Stopped at line {report.stopped_at:,} ({report.stopped_because}). {kept}", err=True
        )


def _survey_outcomes(report: ImportReport) -> str:
    others = sorted(set(report.surveys) - set(SURVEY_OUTCOMES))
    return ", ".join(
        f"{report.surveys[status]:,} {status}" for status in (*SURVEY_OUTCOMES, *others)
    )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _erasure_summary(customer_id: int, erasure: Erasure, *, erased_at) -> str:
    if not erasure.newly_erased:
        return (
            f"Customer {customer_id}'s personal data was already erased on "
            f"{erased_at:%Y-%m-%d %H:%M} UTC; checked again that nothing personal is left."
        )
    cases = _count(erasure.cases_kept, "case")
    stay = "stays with its owner" if erasure.cases_kept == 1 else "stay with their owners"
    return (
        f"Erased the personal data of customer {customer_id}: "
        f"{_count(erasure.text_answers, 'written answer')} blanked, "
        f"{_count(erasure.preferences, 'preference')} and {_count(erasure.notes, 'note')} "
        f"deleted, {_count(erasure.tokens, 'personal link')} revoked, "
        f"{_count(erasure.messages_cancelled, 'email')} not sent after all. "
        f'Their {cases} {stay}, shown as "erased customer". They will never be surveyed '
        "again."
    )
