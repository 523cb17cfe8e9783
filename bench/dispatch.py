"""Benchmark: 20,000 due surveys sent by two worker processes through a fake SendGrid.

    .venv/bin/python bench/dispatch.py [--surveys 20000] [--workers 2] [--latency 0.05]

On a throw-away PostgreSQL database (on the server of TEST_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/test), migrated like production, it inserts
the surveys due now (one customer and one purchase each, as the API would have
scheduled them), starts a local fake SendGrid that answers every request after
50 ms, and times `flask worker --once` processes running side by side until all
have exited. It checks that every survey reached the fake exactly once.

Beside it, the floor: the same rows put back to `pending`, then one plain
`UPDATE outbox_messages SET status = 'sent' WHERE id = …` per row, each its own
transaction, from as many connections as there were workers. That is the least
a one-email-at-a-time worker would cost the database before doing any work.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveys import create_app  # noqa: E402
from surveys.cli import upgrade_database  # noqa: E402
from surveys.db import db  # noqa: E402
from tests.factories import make_due_surveys  # noqa: E402
from tests.fake_sendgrid import FakeSendGrid, Reply  # noqa: E402

TARGET = 1000  # emails per second
SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
CHUNK = 5000


def create_database(name: str) -> str:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def insert_due_surveys(app, count: int) -> None:
    """`count` surveys due now, each with its customer, purchase and queued email."""
    now = datetime.now(UTC)
    with app.app_context():
        session = db.session()
        for start in range(0, count, CHUNK):
            numbers = range(start, min(start + CHUNK, count))
            emails = [f"customer{n}@bench.example" for n in numbers]
            make_due_surveys(session, len(emails), now=now, emails=emails)
            session.commit()


def analyze(url: str) -> None:
    """Fresh statistics, as autovacuum would have them on a live database."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("ANALYZE")


def run_workers(url: str, fake: FakeSendGrid, workers: int, workdir: Path) -> tuple[float, list]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BASE_URL": "https://surveys.bench.example",
        "SECRET_KEY": "bench",
        "MAIL_FROM": "Bench Shop <surveys@bench.example>",
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        **fake.env,
    }
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    outputs = [process.communicate(timeout=1800) for process in processes]
    elapsed = time.perf_counter() - started
    for process, (_out, err) in zip(processes, outputs, strict=True):
        if process.returncode != 0:
            raise SystemExit(f"a worker failed:\n{err}")
    return elapsed, [out.strip().splitlines()[-1] if out.strip() else "" for out, _ in outputs]


def startup_seconds(url: str, workdir: Path) -> float:
    """How long `flask worker --once` takes with nothing due: interpreter, imports, app."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--once"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def floor_rate(url: str, connections: int) -> float:
    """Rows per second for one plain UPDATE … SET status = 'sent' per row, each committed."""
    plain = url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("UPDATE outbox_messages SET status = 'pending'")
        ids = [row[0] for row in conn.execute("SELECT id FROM outbox_messages ORDER BY id")]
    shares = [ids[n::connections] for n in range(connections)]
    barrier = threading.Barrier(connections + 1)

    def update(share: list[int]) -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            barrier.wait()
            for message_id in share:
                conn.execute(
                    "UPDATE outbox_messages SET status = 'sent' WHERE id = %s", (message_id,)
                )

    threads = [threading.Thread(target=update, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return len(ids) / (time.perf_counter() - started)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    with psycopg.connect(SERVER) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        commit = conn.execute("SHOW synchronous_commit").fetchone()[0]
    return (
        f"{model}, {os.cpu_count()} cores{memory}; {platform.platform()}; Python "
        f"{platform.python_version()}; PostgreSQL {version} (synchronous_commit={commit})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--surveys", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--latency",
        type=float,
        default=0.05,
        help="seconds the fake SendGrid takes to answer each request",
    )
    args = parser.parse_args()

    print(f"machine: {machine()}", flush=True)
    name = f"h2h_bench_dispatch_{os.getpid()}"
    url = create_database(name)
    fake = FakeSendGrid().start()
    fake.default = Reply(202, delay=args.latency)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / name
    try:
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench"}, instance_path=str(workdir / "instance")
        )
        with app.app_context():
            upgrade_database()
        startup = startup_seconds(url, workdir)  # measured while nothing is due
        print(f"inserting {args.surveys:,} due surveys…", flush=True)
        insert_due_surveys(app, args.surveys)
        app.extensions["db"]["engine"].dispose()
        analyze(url)

        print(
            f"sending with {args.workers} worker processes, SendGrid answering after "
            f"{args.latency * 1000:.0f} ms…",
            flush=True,
        )
        elapsed, summaries = run_workers(url, fake, args.workers, workdir)

        sends = Counter(mail.survey_id for mail in fake.accepted)
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            statuses = dict(
                conn.execute(
                    "SELECT status, count(*) FROM outbox_messages GROUP BY status"
                ).fetchall()
            )
            surveys = dict(
                conn.execute("SELECT status, count(*) FROM surveys GROUP BY status").fetchall()
            )
        exactly_once = (
            len(sends) == args.surveys
            and set(sends.values()) == {1}
            and statuses == {"sent": args.surveys}
            and surveys == {"sent": args.surveys}
        )
        sizes = [len(request.body["personalizations"]) for request in fake.requests]

        print("measuring the floor: one UPDATE per row, each committed…", flush=True)
        floor = floor_rate(url, args.workers)
    finally:
        fake.close()
        drop_database(name)

    rate = args.surveys / elapsed
    steady = args.surveys / max(elapsed - startup, 1e-9)
    print()
    for number, summary in enumerate(summaries, 1):
        print(f"worker {number}: {summary}")
    print(f"requests to SendGrid: {len(sizes)} (largest {max(sizes)} recipients)")
    print(f"every survey sent exactly once: {'yes' if exactly_once else 'NO'}")
    print()
    print(f"{'':<34}{'emails/s':>10}")
    print(
        f"{'workers, wall clock':<34}{rate:>10,.0f}   ({args.surveys:,} in {elapsed:.1f} s, "
        f"process start included)"
    )
    print(f"{'workers, after start-up':<34}{steady:>10,.0f}   (start-up {startup:.1f} s)")
    print(f"{'floor: one UPDATE per row':<34}{floor:>10,.0f}   ({args.workers} connections)")
    print()
    verdict = "met" if rate >= TARGET and exactly_once else "NOT met"
    print(f"target ≥ {TARGET:,} emails/s, every survey exactly once: {verdict}")
    if verdict != "met":
        raise SystemExit(1)


if __name__ == "__main__":
    main()
