"""Real `flask worker` processes on a database with real commits, against the fake SendGrid.

Several workers side by side send each survey exactly once; a worker killed
mid-batch loses nothing; SIGTERM lets a worker finish the message in hand.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from surveys import PROJECT_ROOT
from surveys.clock import FrozenClock
from surveys.db import db
from surveys.mail.worker import LEASE
from surveys.models import Customer, OutboxMessage, Purchase, PurchaseItem, Survey
from surveys.services.question_sets import get_question_set
from tests.fake_sendgrid import Reply

WORKER = [sys.executable, "-m", "flask", "--app", "app", "worker"]


def insert_due_surveys(app, count: int) -> list[int]:
    """`count` purchases with a survey due now, inserted in bulk; returns the survey ids."""
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session()
        question_set = get_question_set(session, "heart-to-heart")
        batch = os.urandom(3).hex()
        customer_ids = session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [{"email": f"c{n}-{batch}@example.com", "name": f"Customer {n}"} for n in range(count)],
        ).all()
        purchase_ids = session.scalars(
            insert(Purchase).returning(Purchase.id, sort_by_parameter_order=True),
            [
                {
                    "order_id": f"B-{batch}-{n}",
                    "customer_id": customer_id,
                    "purchased_at": now,
                    "total": Decimal("19.90"),
                    "currency": "EUR",
                }
                for n, customer_id in enumerate(customer_ids)
            ],
        ).all()
        session.execute(
            insert(PurchaseItem),
            [
                {"purchase_id": purchase_id, "sku": "MUG-1", "name": "Blue mug", "quantity": 1}
                for purchase_id in purchase_ids
            ],
        )
        survey_ids = session.scalars(
            insert(Survey).returning(Survey.id, sort_by_parameter_order=True),
            [
                {
                    "kind": "purchase",
                    "status": "scheduled",
                    "customer_id": customer_id,
                    "purchase_id": purchase_id,
                    "question_set_id": question_set.id,
                    "send_at": now,
                }
                for customer_id, purchase_id in zip(customer_ids, purchase_ids, strict=True)
            ],
        ).all()
        session.execute(
            insert(OutboxMessage),
            [
                {
                    "channel": "email",
                    "template": "survey",
                    "to_email": f"c{n}-{batch}@example.com",
                    "to_name": f"Customer {n}",
                    "customer_id": customer_id,
                    "survey_id": survey_id,
                    "status": "pending",
                    "next_attempt_at": now,
                    "context": {},
                }
                for n, (customer_id, survey_id) in enumerate(
                    zip(customer_ids, survey_ids, strict=True)
                )
            ],
        )
        session.commit()
    return list(survey_ids)


def start_worker(app, fake, tmp_path, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "BASE_URL": "http://surveys.test",
        "SECRET_KEY": "worker-process-test",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        **fake.env,
    }
    return subprocess.Popen(
        [*WORKER, *args],
        cwd=PROJECT_ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def rows(app, model, *columns):
    with app.app_context():
        return db.session().execute(select(*(getattr(model, c) for c in columns))).all()


def sent_count(output: str) -> int:
    """The number in the worker's `sent N, retrying …` line (0 when nothing was due)."""
    for line in output.splitlines():
        if line.startswith("sent "):
            return int(line.split(",")[0].split()[1])
    return 0


def test_workers_side_by_side_send_each_due_survey_exactly_once(
    committed_app, backend, fake_sendgrid_server, tmp_path
):
    # Four workers and 2,000 surveys on PostgreSQL (SKIP LOCKED); on SQLite,
    # whose write lock serialises the claims, two workers and 200.
    workers, count = (4, 2000) if backend == "postgresql" else (2, 200)
    survey_ids = insert_due_surveys(committed_app, count)

    processes = [
        start_worker(committed_app, fake_sendgrid_server, tmp_path, "--once")
        for _ in range(workers)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]

    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    sends = Counter(mail.survey_id for mail in fake_sendgrid_server.accepted)
    assert set(sends) == set(survey_ids)
    assert [survey_id for survey_id, times in sends.items() if times > 1] == []
    assert len(fake_sendgrid_server.requests) == count
    per_worker = [sent_count(out) for out, _err in outputs]
    assert sum(per_worker) == count
    assert sum(1 for sent in per_worker if sent) >= 2, per_worker  # they really shared the work
    assert {status for (status,) in rows(committed_app, Survey, "status")} == {"sent"}
    assert set(rows(committed_app, OutboxMessage, "status", "attempts")) == {("sent", 1)}


def test_a_worker_killed_mid_batch_loses_nothing(committed_app, fake_sendgrid_server, tmp_path):
    survey_ids = insert_due_surveys(committed_app, 30)
    fake_sendgrid_server.default = Reply(202, delay=0.1)
    process = start_worker(committed_app, fake_sendgrid_server, tmp_path, "--once")
    assert fake_sendgrid_server.wait_for_requests(5, timeout=60)
    process.kill()
    process.wait(timeout=30)

    statuses = Counter(status for (status,) in rows(committed_app, OutboxMessage, "status"))
    assert statuses["sending"] > 0  # claimed by the dead worker, not sent
    fake_sendgrid_server.default = Reply(202)
    committed_app.config.update(fake_sendgrid_server.app_config)
    runner = committed_app.test_cli_runner()

    # While the dead worker's lease runs, nobody else touches its messages…
    committed_app.extensions["clock"] = FrozenClock(datetime.now(UTC))
    seen = len(fake_sendgrid_server.requests)
    assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    assert len(fake_sendgrid_server.requests) == seen

    # …and once it has run out, they are taken over and sent.
    committed_app.extensions["clock"] = FrozenClock(
        datetime.now(UTC) + LEASE + timedelta(minutes=1)
    )
    result = runner.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert set(rows(committed_app, OutboxMessage, "status")) == {("sent",)}
    assert set(rows(committed_app, Survey, "status")) == {("sent",)}
    sends = Counter(mail.survey_id for mail in fake_sendgrid_server.accepted)
    assert set(sends) == set(survey_ids)
    # Only the message in flight when the process died can have gone twice.
    assert sum(times - 1 for times in sends.values()) <= 1


def test_sigterm_lets_the_worker_finish_the_message_in_hand_then_stop(
    committed_app, fake_sendgrid_server, tmp_path
):
    insert_due_surveys(committed_app, 10)
    fake_sendgrid_server.default = Reply(202, delay=0.5)
    process = start_worker(committed_app, fake_sendgrid_server, tmp_path)
    assert fake_sendgrid_server.wait_for_requests(1, timeout=60)

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert "Worker stopped." in out
    messages = rows(committed_app, OutboxMessage, "status", "claimed_by")
    statuses = Counter(status for status, _claimed_by in messages)
    # The message in hand was sent and recorded; the rest of the batch was
    # handed back for the next worker, not left leased.
    assert statuses["sent"] == len(fake_sendgrid_server.accepted) >= 1
    assert statuses["sent"] + statuses["pending"] == 10 and statuses["pending"] > 0
    assert {claimed_by for _status, claimed_by in messages} == {None}
