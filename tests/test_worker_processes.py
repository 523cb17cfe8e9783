"""Real `flask worker` processes on a database with real commits, against the fake SendGrid.

Several workers side by side send each survey exactly once, in batched
requests; a worker killed mid-request loses nothing, and only that request's
recipients (at most one claimed batch) go twice; SIGTERM lets a worker finish
the request in hand.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from surveys.clock import FrozenClock
from surveys.config import PROJECT_ROOT
from surveys.db import db
from surveys.models import OutboxMessage, Survey
from surveys.outbox.worker import LEASE
from tests.factories import make_due_surveys
from tests.fake_sendgrid import Reply

WORKER = [sys.executable, "-m", "flask", "--app", "app", "worker"]


def insert_due_surveys(app, count: int, kinds: tuple[str, ...] = ("purchase",)) -> list[int]:
    """`count` surveys due now with their queued emails, committed for the worker processes."""
    with app.app_context():
        session = db.session()
        survey_ids = make_due_surveys(session, count, now=datetime.now(UTC), kinds=kinds)
        session.commit()
    return survey_ids


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
    # whose write lock serialises the claims, two workers and 200. Claims of
    # 100 (20) go out as one request each, answered after 0.1 s as a real
    # provider takes a moment: no worker is done before the others start.
    workers, count, batch = (4, 2000, 100) if backend == "postgresql" else (2, 200, 20)
    survey_ids = insert_due_surveys(committed_app, count)
    fake_sendgrid_server.default = Reply(202, delay=0.1)

    processes = [
        start_worker(
            committed_app, fake_sendgrid_server, tmp_path, "--once", "--batch-size", str(batch)
        )
        for _ in range(workers)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]

    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    sends = Counter(mail.survey_id for mail in fake_sendgrid_server.accepted)
    assert set(sends) == set(survey_ids)
    assert [survey_id for survey_id, times in sends.items() if times > 1] == []
    # Each recipient was in exactly one request, and the requests were batches.
    assert len(fake_sendgrid_server.mails) == count
    sizes = [len(request.body["personalizations"]) for request in fake_sendgrid_server.requests]
    assert max(sizes) <= batch and len(sizes) <= 2 * count // batch
    per_worker = [sent_count(out) for out, _err in outputs]
    assert sum(per_worker) == count
    assert sum(1 for sent in per_worker if sent) >= 2, per_worker  # they really shared the work
    assert {status for (status,) in rows(committed_app, Survey, "status")} == {"sent"}
    assert set(rows(committed_app, OutboxMessage, "status", "attempts")) == {("sent", 1)}


def test_a_worker_killed_mid_request_loses_nothing_and_doubles_at_most_its_batch(
    committed_app, backend, fake_sendgrid_server, tmp_path
):
    # Four workers over 2,000 surveys on PostgreSQL (two over 200 on SQLite),
    # claiming 100 (20) at a time. The sixth request SendGrid receives takes
    # it 3 s; the worker that sent it is killed (SIGKILL) while it waits.
    workers, count, batch = (4, 2000, 100) if backend == "postgresql" else (2, 200, 20)
    survey_ids = insert_due_surveys(committed_app, count)
    fake_sendgrid_server.default = Reply(202, delay=0.05)
    fake_sendgrid_server.respond_with(*[fake_sendgrid_server.default] * 5, Reply(202, delay=3))
    processes = [
        start_worker(
            committed_app, fake_sendgrid_server, tmp_path, "--once", "--batch-size", str(batch)
        )
        for _ in range(workers)
    ]
    assert fake_sendgrid_server.wait_for_requests(6, timeout=120)
    in_flight = survey_ids_of(fake_sendgrid_server.recorded()[5])
    [victim_id] = claimed_by(committed_app, in_flight)
    [victim] = [p for p in processes if victim_id.split(":")[1] == str(p.pid)]
    victim.send_signal(signal.SIGKILL)
    for process in processes:
        _out, err = process.communicate(timeout=300)
        assert process is victim or process.returncode == 0, err
    assert victim.returncode == -signal.SIGKILL

    # The dead worker's claim: its request in flight, and nothing else.
    dead_claims = {
        survey_id
        for survey_id, status in rows(committed_app, OutboxMessage, "survey_id", "status")
        if status == "sending"
    }
    assert dead_claims == in_flight and len(in_flight) <= batch
    assert claimed_by(committed_app, dead_claims) == {victim_id}

    # Once its lease has run out, another worker takes them over.
    fake_sendgrid_server.default = Reply(202)
    committed_app.config.update(fake_sendgrid_server.app_config)
    committed_app.extensions["clock"] = FrozenClock(
        datetime.now(UTC) + LEASE + timedelta(minutes=1)
    )
    result = committed_app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert sent_count(result.output) == len(in_flight)

    assert set(rows(committed_app, OutboxMessage, "status")) == {("sent",)}
    assert set(rows(committed_app, Survey, "status")) == {("sent",)}
    wait_until_answered(fake_sendgrid_server)
    sends = Counter(mail.survey_id for mail in fake_sendgrid_server.accepted)
    assert set(sends) == set(survey_ids)  # nothing lost
    twice = {survey_id for survey_id, times in sends.items() if times > 1}
    # SendGrid accepted the request the worker died waiting for: exactly its
    # recipients went twice, nobody else, nobody three times.
    assert twice == in_flight and max(sends.values()) == 2


def survey_ids_of(request) -> set[int]:
    return {int(p["custom_args"]["survey_id"]) for p in request.body["personalizations"]}


def claimed_by(app, survey_ids: set[int]) -> set[str]:
    """Which workers hold the outbox messages of these surveys."""
    with app.app_context():
        return set(
            db.session().scalars(
                select(OutboxMessage.claimed_by).where(OutboxMessage.survey_id.in_(survey_ids))
            )
        )


def wait_until_answered(fake, timeout: float = 30.0) -> None:
    """Late answers count once given (the fake answers even a client that hung up)."""
    deadline = time.monotonic() + timeout
    while any(request.status == 0 for request in fake.recorded()):
        assert time.monotonic() < deadline, "the fake never answered"
        time.sleep(0.05)


def test_sigterm_lets_the_worker_finish_the_request_in_hand_then_stop(
    committed_app, fake_sendgrid_server, tmp_path
):
    # Two kinds of survey: one claimed batch of ten goes out as two requests.
    insert_due_surveys(committed_app, 10, kinds=("purchase", "manual"))
    fake_sendgrid_server.default = Reply(202, delay=0.5)
    process = start_worker(committed_app, fake_sendgrid_server, tmp_path)
    assert fake_sendgrid_server.wait_for_requests(1, timeout=60)

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, err
    assert "Worker stopped." in out
    messages = rows(committed_app, OutboxMessage, "status", "claimed_by")
    statuses = Counter(status for status, _claimed_by in messages)
    # The request in hand was sent and recorded; the rest of the batch was
    # handed back for the next worker, not left leased.
    assert len(fake_sendgrid_server.requests) == 1
    assert statuses["sent"] == len(fake_sendgrid_server.accepted) == 5
    assert statuses["sent"] + statuses["pending"] == 10 and statuses["pending"] > 0
    assert {claimed_by for _status, claimed_by in messages} == {None}
