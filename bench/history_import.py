"""How long `flask delighted import` takes for a large history, and whether its memory stays flat.

    .venv/bin/python bench/history_import.py [--responses 50000] [--formats json,csv]
        [--databases sqlite,postgresql]

For each database and format it writes a file of N responses (a quarter with a comment, each with
three properties and an additional answer, N/2 distinct people), migrates a fresh database and
runs the real command in a child process, printing the wall clock and that child's own peak RSS.
Each runs at N/5 first: with chunked commits the peak should not grow with N. PostgreSQL needs
TEST_DATABASE_URL (a throw-away database is created on that server and dropped afterwards).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
START = 1_600_000_000  # September 2020
CSV_HEADER = [
    "Response ID",
    "Email",
    "Name",
    "Score",
    "Comment",
    "Response Timestamp",
    "Tags",
    "Plan",
    "Store",
    "Bought before?",
]


def response(n: int) -> dict:
    """Response n as Delighted's API lists it with expand[]=person."""
    yes = {"id": "a", "text": "Yes"}
    return {
        "id": str(1_000_000 + n),
        "person": {"id": str(n // 2), "email": f"person{n // 2}@example.com", "name": f"P {n}"},
        "survey_type": "nps",
        "score": n % 11,
        "comment": f"Reason number {n}: the delivery was slow." if n % 4 == 0 else None,
        "created_at": START + n * 600,
        "person_properties": {"plan": ("gold", "silver", "bronze")[n % 3], "store": "Madrid"},
        "notes": [],
        "tags": [],
        "additional_answers": [
            {
                "id": "1",
                "value": {"free_response": None, "scale": None, "select_one": yes},
                "question": {"id": "q1", "type": "select_one", "text": "Bought before?"},
            }
        ],
    }


def write_json(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, count, 100):  # pages of 100, one after another
            json.dump([response(n) for n in range(start, min(start + 100, count))], out)
            out.write("\n")


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for n in range(count):
            item = response(n)
            moment = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(item["created_at"]))
            person, properties = item["person"], item["person_properties"]
            writer.writerow(
                [item["id"], person["email"], person["name"], item["score"], item["comment"] or ""]
                + [moment, "", properties["plan"], properties["store"], "Yes"]
            )


def database_url(kind: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{uuid.uuid4().hex}.db'}", lambda: None
    server = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"bench_history_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))

    return server.rsplit("/", 1)[0] + f"/{name}", drop


def flask(url: str, *args: str) -> tuple[float, int, str]:
    """Wall seconds, this child's own peak RSS in MiB, and the summary line it printed."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _pid, status, usage = os.wait4(child.pid, 0)  # this child's rusage alone
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        out.seek(0)
        output = out.read()
    if child.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed ({child.returncode}): {output[-2000:]}")
    summary = next((line for line in output.splitlines() if "responses into" in line), "")
    return elapsed, usage.ru_maxrss // 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=50_000)
    parser.add_argument("--formats", default="json,csv")
    parser.add_argument("--databases", default="sqlite")
    options = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for kind in options.databases.split(","):
            for file_format in options.formats.split(","):
                for count in (options.responses // 5, options.responses):
                    path = workdir / f"history-{count}.{file_format}"
                    (write_json if file_format == "json" else write_csv)(path, count)
                    url, drop = database_url(kind, workdir)
                    try:
                        flask(url, "db", "upgrade")
                        seconds, peak, summary = flask(url, "delighted", "import", str(path))
                    finally:
                        drop()
                    size = path.stat().st_size / 2**20
                    print(
                        f"{kind:10} {file_format:4} {count:>7,} responses ({size:5.1f} MiB): "
                        f"{seconds:6.1f} s, {count / seconds:5,.0f}/s, peak RSS {peak} MiB"
                    )
                    print(f"    {summary}")


if __name__ == "__main__":
    main()
