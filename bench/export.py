"""Benchmark: the responses CSV of a million responses, downloaded through gunicorn.

    .venv/bin/python bench/export.py [--responses 1000000] [--rounds 2] [--keep]

On a throw-away PostgreSQL database (on the server of TEST_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/test), migrated like production, it inserts
100,000 customers and the responses (each with its purchase and survey and the
five answers of the "heart-to-heart" set, some of them awkward: quotes, commas,
line breaks, formula starters, accents) in bulk with INSERT … SELECT
generate_series. It then serves the app with gunicorn exactly as README.md's
production command does (`-c gunicorn.conf.py`, one worker), logs in as an admin
and downloads `/admin/export/responses.csv`, timing it, sampling the worker's
resident memory every 0.2 s and checking that every response arrived. Beside
it, the floor: PostgreSQL's own `COPY (SELECT …) TO STDOUT WITH CSV` of the
fixed columns, read by psycopg. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from surveys import create_app  # noqa: E402
from surveys.cli import upgrade_database  # noqa: E402
from surveys.db import db  # noqa: E402
from tests.factories import PASSWORD, make_user  # noqa: E402

SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "h2h_bench_export"
CUSTOMERS = 100_000
ADMIN = "admin@bench.example"
TARGET_SECONDS = 30
GUNICORN = Path(sys.executable).with_name("gunicorn")
# Written answers the export must carry intact and formula-safe.
AWKWARD = [
    "Faster delivery, please",
    'The "premium" box was dented',
    '=HYPERLINK("http://evil.example")',
    "+1 for the packaging",
    "-",
    "@channel loved it",
    "Line one\nline two",
    "Très bien — merci",
    "\tindented",
    "",
]


def create_database() -> tuple[str, str]:
    """A fresh database; its psycopg URL and its SQLAlchemy URL."""
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    base = SERVER.rsplit("/", 1)[0]
    plain = f"{base}/{DATABASE}"
    return plain, plain.replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database() -> None:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def migrate_and_add_admin(url: str, instance: Path) -> None:
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_OUTBOX_DIR": str(instance / "outbox")},
        instance_path=str(instance),
    )
    with app.app_context():
        upgrade_database()
        session = db.session()
        make_user(session, role="admin", email=ADMIN)
        session.commit()
        app.extensions["db"]["engine"].dispose()


def seed(url: str, responses: int) -> None:
    """Customers, purchases, surveys, responses and answers, in bulk."""
    awkward = "(ARRAY[" + ", ".join(_literal(text) for text in AWKWARD) + "])"
    with psycopg.connect(url, autocommit=True) as conn:
        set_id, version_id = conn.execute(
            "SELECT s.id, v.id FROM question_sets s JOIN question_set_versions v "
            "ON v.question_set_id = s.id WHERE s.key = 'heart-to-heart' "
            "ORDER BY v.number DESC LIMIT 1"
        ).fetchone()
        questions = dict(
            conn.execute("SELECT key, id FROM questions WHERE version_id = %s", (version_id,))
        )
        steps = [
            f"INSERT INTO customers (id, email, name, created_at, positive_touches, "
            f"negative_touches) SELECT g, 'customer' || g || '@bench.example', "
            f"'Customer ' || g, now() - interval '3 years', 0, 0 "
            f"FROM generate_series(1, {CUSTOMERS}) g",
            # One response a ~95 seconds over three years, oldest first.
            f"CREATE TEMP TABLE moments AS SELECT g AS n, "
            f"now() - interval '3 years' + g * interval '94 seconds' AS at "
            f"FROM generate_series(1, {responses}) g",
            "INSERT INTO purchases (id, order_id, customer_id, purchased_at, total, currency, "
            "source, created_at) SELECT n, 'B-' || n, 1 + n % "
            f"{CUSTOMERS}, at, 49.90, 'EUR', 'api', at FROM moments",
            "INSERT INTO surveys (id, kind, status, customer_id, purchase_id, question_set_id, "
            "version_id, send_at, sent_at, expires_at, answered_at, created_at) "
            f"SELECT n, 'purchase', 'answered', 1 + n % {CUSTOMERS}, n, {set_id}, {version_id}, "
            "at, at, at + interval '30 days', at + interval '1 hour', at FROM moments",
            "INSERT INTO responses (id, survey_id, version_id, customer_id, negative, "
            f"submitted_at) SELECT n, n, {version_id}, 1 + n % {CUSTOMERS}, n % 5 = 0, "
            "at + interval '1 hour' FROM moments",
            "INSERT INTO answers (response_id, question_id, position, value, negative, sentiment) "
            f"SELECT n, {questions['expectations']}, 0, "
            "(ARRAY['exceeding', 'meeting', 'short'])[1 + n % 3], n % 3 = 2, NULL FROM moments",
            "INSERT INTO answers (response_id, question_id, position, value, negative, sentiment) "
            f"SELECT n, {questions['one_thing']}, 1, {awkward}[1 + n % {len(AWKWARD)}], "
            "false, ((n % 21) - 10) / 10.0 FROM moments WHERE n % 2 = 0",
            "INSERT INTO answers (response_id, question_id, position, value, negative, sentiment) "
            f"SELECT n, {questions['time_money']}, 2, "
            "(ARRAY['yes', 'somewhat', 'no'])[1 + n % 3], n % 3 = 2, NULL FROM moments",
            "INSERT INTO answers (response_id, question_id, position, value, negative, sentiment) "
            f"SELECT n, {questions['recommend']}, 3, (n % 11)::text, n % 11 < 7, NULL "
            "FROM moments",
            "INSERT INTO answers (response_id, question_id, position, value, negative, sentiment) "
            f"SELECT n, {questions['preferences']}, 4, 'Weekends, after 6pm', false, 0.1 "
            "FROM moments WHERE n % 7 = 0",
        ]
        with conn.transaction():
            for step in steps:
                conn.execute(step)
        for table in ("customers", "purchases", "surveys", "responses", "answers"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.execute("VACUUM ANALYZE")


def _literal(text: str) -> str:
    return (
        "E'"
        + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\t", "\\t")
        + "'"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url: str, instance: Path) -> tuple[subprocess.Popen, str]:
    """README.md's production command, one worker, on the bench database."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "BASE_URL": base,
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
    }
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "--workers", "1"]
        + ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "app:app"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/login", timeout=30)
            return process, base
        except requests.RequestException:
            time.sleep(0.5)
    process.terminate()
    process.wait(timeout=30)
    raise RuntimeError("gunicorn did not start")


def worker_pid(master: subprocess.Popen) -> int:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return int(children[0])


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+)", status, re.M).group(1))


def logged_in(base: str) -> requests.Session:
    client = requests.Session()
    page = client.get(base + "/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post(
        base + "/login",
        data={"email": ADMIN, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.status_code
    return client


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_backends(plain_url: str) -> list[int]:
    """The server processes serving the bench database (the app's pooled connections)."""
    with psycopg.connect(plain_url) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (DATABASE,),
            )
        ]


def download(client: requests.Session, base: str, pid: int, target: Path, plain_url: str) -> dict:
    """Time the export into `target`, sampling the worker's memory as it streams.

    CPU seconds are counted too (the worker's, and the database's for the app's
    connections), which say more than the wall clock on a machine others share.
    """
    samples: list[int] = []
    done = threading.Event()
    backends_before = {backend: cpu_seconds(backend) for backend in database_backends(plain_url)}
    worker_before = cpu_seconds(pid)
    load_before = os.getloadavg()[0]

    def sample() -> None:
        while not done.wait(0.2):
            samples.append(rss_kib(pid))

    before = rss_kib(pid)
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    size = 0
    with client.get(base + "/admin/export/responses.csv", stream=True) as answer:
        answer.raise_for_status()
        with target.open("wb") as out:
            for chunk in answer.iter_content(chunk_size=1 << 16):
                out.write(chunk)
                size += len(chunk)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    database_cpu = sum(
        cpu_seconds(backend) - backends_before.get(backend, 0.0)
        for backend in database_backends(plain_url)
    )
    return {
        "seconds": seconds,
        "bytes": size,
        "rss_before": before,
        "rss_peak": max(samples),
        "worker_cpu": cpu_seconds(pid) - worker_before,
        "database_cpu": database_cpu,
        "load": (load_before + os.getloadavg()[0]) / 2,
    }


def check(target: Path, responses: int) -> int:
    """Every response once, in id order, and no cell a spreadsheet would run."""
    with target.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = 0
        for rows, row in enumerate(reader, start=1):
            assert int(row[0]) == rows, (rows, row[:3])
            # The answers (from the 10th column on) are text from outside: never a formula.
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row[9:])
    assert rows == responses, (rows, responses)
    return len(header)


def copy_floor(url: str) -> tuple[float, float]:
    """PostgreSQL writing the fixed columns as CSV by itself, read by psycopg: wall, server CPU."""
    query = (
        "COPY (SELECT r.id, r.submitted_at, p.order_id, c.email, s.key, v.number, r.negative "
        "FROM responses r JOIN surveys su ON su.id = r.survey_id "
        "LEFT JOIN purchases p ON p.id = su.purchase_id JOIN customers c ON c.id = su.customer_id "
        "JOIN question_set_versions v ON v.id = r.version_id "
        "JOIN question_sets s ON s.id = v.question_set_id ORDER BY r.id) TO STDOUT WITH CSV"
    )
    with psycopg.connect(url) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        backend = conn.info.backend_pid
        cpu_before, started = cpu_seconds(backend), time.perf_counter()
        with conn.cursor().copy(query) as copy:
            for _block in copy:
                pass
        return time.perf_counter() - started, cpu_seconds(backend) - cpu_before


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    with psycopg.connect(SERVER) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return (
        f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL {server}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database (to rerun)")
    parser.add_argument("--reuse", action="store_true", help="use the kept database as it is")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as workdir:
        instance = Path(workdir)
        base = SERVER.rsplit("/", 1)[0]
        plain = f"{base}/{DATABASE}"
        url = plain.replace("postgresql://", "postgresql+psycopg://", 1)
        if not args.reuse:
            plain, url = create_database()
            migrate_and_add_admin(url, instance)
            started = time.perf_counter()
            seed(plain, args.responses)
            print(f"seeded {args.responses:,} responses in {time.perf_counter() - started:.0f} s")
        try:
            server, web = start_gunicorn(url, instance)
            try:
                pid = worker_pid(server)
                client = logged_in(web)
                for round_ in range(1, args.rounds + 1):
                    target = instance / "responses.csv"
                    figures = download(client, web, pid, target, plain)
                    columns = check(target, args.responses)
                    rate = args.responses / figures["seconds"]
                    verdict = "under" if figures["seconds"] < TARGET_SECONDS else "OVER"
                    print(
                        f"round {round_}: {figures['seconds']:.1f} s ({verdict} the "
                        f"{TARGET_SECONDS} s target), {rate:,.0f} rows/s, "
                        f"{figures['bytes'] / 1e6:.0f} MB, {columns} columns; worker RSS "
                        f"{figures['rss_before'] / 1024:.0f} MiB before, "
                        f"peak {figures['rss_peak'] / 1024:.0f} MiB while streaming; CPU: "
                        f"worker {figures['worker_cpu']:.1f} s, database "
                        f"{figures['database_cpu']:.1f} s; load average "
                        f"{figures['load']:.1f} on {os.cpu_count()} cores"
                    )
                print(f"worker's high-water RSS: {rss_kib(pid, 'VmHWM') / 1024:.0f} MiB")
            finally:
                server.terminate()
                server.wait(timeout=30)
            floor_seconds, floor_cpu = copy_floor(plain)
            print(
                f"floor, COPY of the fixed columns alone: {floor_seconds:.1f} s, "
                f"database CPU {floor_cpu:.1f} s"
            )
        finally:
            if not args.keep:
                drop_database()


if __name__ == "__main__":
    main()
