"""`flask worker [--once]`: delivery and timed work; `flask mail receive FILE.eml`: one email in."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from surveys import clock
from surveys.db import database_error_summary, database_unreachable, db
from surveys.mail.inbound import read_mime, receive_email
from surveys.mail.senders import sender_for
from surveys.outbox.worker import BATCH_SIZE, PassReport, Worker
from surveys.people_commands import warn_about_waiting_cases
from surveys.services.cases.queries import count_waiting_cases

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def register_commands(app: Flask) -> None:
    @app.cli.group("mail")
    def mail_group() -> None:
        """Mail that comes back to us."""

    @mail_group.command("receive")
    @click.argument("path", type=click.File("rb"))
    def receive_command(path) -> None:
        """Feed one raw email (an .eml file, `-` for standard input) through what Inbound Parse's
        posts go through, and say what became of it."""
        email, recipients = read_mime(path.read())
        session = db.session()
        receipt = receive_email(session, email, recipients, now=clock.now())
        session.commit()
        where = f" on case {receipt.case_id}" if receipt.case_id else ""
        click.echo(f"{receipt.outcome}{where}: {receipt.detail}")
        for file in receipt.attachments:
            kept = "kept" if file["id"] else file.get("not_kept", "not kept")
            click.echo(f"  {file['filename']} ({file['size']} bytes): {kept}")

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Do everything that is due now, then exit.")
    @click.option(
        "--batch-size",
        type=click.IntRange(1, BATCH_SIZE),
        default=BATCH_SIZE,
        show_default=True,
        help="Messages claimed (and sent) at a time.",
    )
    def worker_command(once: bool, batch_size: int) -> None:
        """Deliver the outbox and run timed work (reminders, escalations…) until stopped."""
        sender = sender_for(current_app)
        worker = Worker(sender, batch_size=batch_size)
        with stop_on_signals(worker):
            if once:
                report = _one_pass(worker)
                click.echo(report.summary() if report.did_work() else "nothing was due")
                _warn_about_waiting_cases()
                return
            click.echo(f"Worker {worker.worker_id} delivering mail to {sender.describe()}.")
            _warn_about_waiting_cases()
            worker.run_forever(echo=click.echo)
        click.echo("Worker stopped.")


def _one_pass(worker: Worker) -> PassReport:
    """`--once`: a database that cannot be reached is a one-line error, not a traceback."""
    try:
        return worker.run_pass()
    except SQLAlchemyError as exc:
        if not database_unreachable(exc):
            raise
        raise click.ClickException(
            f"the database cannot be reached ({database_error_summary(exc)}). "
            "What was due is still due: run this again once it is back."
        ) from None


def _warn_about_waiting_cases() -> None:
    # The worker gives waiting cases an owner on every pass once someone can take them;
    # until then, whoever runs it should know that customers are waiting on nobody.
    with db.sessionmaker() as session:
        warn_about_waiting_cases(count_waiting_cases(session))


@contextmanager
def stop_on_signals(worker: Worker) -> Iterator[None]:
    """SIGTERM or Ctrl-C: finish the request in hand, then stop. A second Ctrl-C stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def handle(signum, _frame):
        if not worker.stopping:
            click.echo("Stopping after the request in hand…", err=True)
            worker.stop()
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        # A SIGTERM while stopping is ignored: `make run` sends one right
        # after the terminal's Ctrl-C, and it should not cut the send short.

    for signum in STOP_SIGNALS:
        signal.signal(signum, handle)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
