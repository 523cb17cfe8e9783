"""`flask delighted import FILE`: Delighted's survey responses, kept as history."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from surveys.db import db
from surveys.delighted_import.files import UnreadableFile, open_history_file
from surveys.delighted_import.importing import (
    CHUNK_SIZE,
    HistoryReport,
    import_history,
    printable,
)
from surveys.services.history import IMPORTED_SET_KEY

# Exit codes, as `purchases import` has them.
ALL_IMPORTED, SOME_REFUSED, UNREADABLE = 0, 1, 2


def register_commands(app: Flask) -> None:
    @app.cli.group("delighted")
    def delighted_group():
        """Moving from Delighted."""

    @delighted_group.command("import")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option(
        "--dry-run", is_flag=True, help="Check every response and report, saving nothing."
    )
    @click.option(
        "--chunk-size",
        type=click.IntRange(min=1),
        default=CHUNK_SIZE,
        show_default=True,
        help="Responses saved per transaction.",
    )
    def import_delighted_command(file: Path, dry_run: bool, chunk_size: int):
        """Import Delighted survey responses as history, at their original times.

        FILE is the JSON Delighted's API returned for /v1/survey_responses with
        expand[]=person (a list, or pages of lists), or a CSV export of responses.
        Responses already imported are skipped; no case is opened and nothing is sent.
        Exit code: 0 when every response was imported or known, 1 when some were
        refused, 2 when the file cannot be read.
        """
        context = click.get_current_context()
        try:
            history_file = open_history_file(file)
            _print_columns(history_file)
            label = "Checking responses" if dry_run else "Importing responses"
            with click.progressbar(
                length=history_file.row_count, label=label, file=sys.stderr
            ) as bar:
                report = import_history(
                    db.session(),
                    history_file,
                    dry_run=dry_run,
                    chunk_size=chunk_size,
                    on_row=lambda: bar.update(1),
                )
        except UnreadableFile as exc:
            click.echo(f"Error: {exc}", err=True)
            context.exit(UNREADABLE)
        _print_report(report, dry_run=dry_run)
        context.exit(SOME_REFUSED if report.refused or report.stopped_at else ALL_IMPORTED)


def _print_columns(history_file) -> None:
    what = "fields" if history_file.kind == "json" else "columns"
    click.echo(f"Read as {history_file.kind.upper()}: {history_file.row_count:,} responses.")
    click.echo(printable(f"Used {what}: {', '.join(history_file.used())}."))
    ignored = history_file.ignored()
    click.echo(printable(f"Ignored {what}: {', '.join(ignored) if ignored else 'none'}."))


def _print_report(report: HistoryReport, *, dry_run: bool) -> None:
    if report.refused:
        click.echo(
            "Responses that would be refused:"
            if dry_run
            else "Refused responses (nothing from them was saved):"
        )
        for row in report.refused:
            click.echo(f"  {row.describe()}")
    would = "Would import" if dry_run else "Imported"
    click.echo(
        f"{'Dry run: nothing was saved. ' if dry_run else ''}{would} {_count(report.imported)}"
        f" into the question set {IMPORTED_SET_KEY}; {report.known:,} already imported "
        f"(skipped); {report.refused.__len__():,} refused; "
        f"{report.new_customers:,} new customer{'' if report.new_customers == 1 else 's'}."
    )
    click.echo("No case was opened and nothing was sent: history is kept, not acted on.")
    if report.stopped_at is not None:
        kept = (
            "Nothing was saved."
            if dry_run
            else "The responses before it are saved; run the same command again to import "
            "the rest (responses already imported are skipped)."
        )
        click.echo(f"Stopped at {report.stopped_at} ({report.stopped_because}). {kept}", err=True)


def _count(number: int) -> str:
    return f"{number:,} response{'' if number == 1 else 's'}"
