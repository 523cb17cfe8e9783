"""Soak: mixed traffic for minutes on end against gunicorn on PostgreSQL, with two workers.

    .venv/bin/python bench/soak.py [--minutes 10] [--users 8] [--web-workers 4] [--workers 2]
                                   [--mail sendgrid|files] [--latency 0.05]

On a throw-away PostgreSQL database (on the server of TEST_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/test), migrated like production, it serves
the app with gunicorn and runs `flask worker` processes beside it, mail going to
a local fake SendGrid (or, with `--mail files`, to `.eml` files). `--users`
simulated clients then loop for `--minutes`, each request one of:

- purchase: `POST /api/v1/purchases`, a new order and customer each time (each
  client has its own API key, as each shop integration would);
- survey page: `GET /s/<token>` of a survey email the workers sent;
- survey answer: that page, then `POST /s/<token>` with its CSRF token, one in
  five unhappy (which opens a case and emails its owner);
- owner page: an owner, logged in, opening `/inbox`, then a case and its customer.

It prints the throughput and p50/p99 latency per kind, for the whole run and for
its first and last minute side by side (the ratio shows drift), the answers that
were not the expected status, the resident memory (RSS) of every process at the
start and the end, and the outbox at the end: what was due and not yet sent
(the backlog) and how long the workers took to clear it once the load stopped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dispatch import create_database, drop_database, machine  # noqa: E402
from bench.ingest import flask_cli, free_port, wait_until_serving  # noqa: E402
from bench.soak_traffic import MIX, OWNER_PASSWORD, OWNERS, Client, Results, SurveyLinks  # noqa: E402
from tests.fake_sendgrid import FakeSendGrid, Reply  # noqa: E402

BIN = Path(sys.executable).parent


# --- the processes --------------------------------------------------------------------------


@dataclass
class Services:
    web: subprocess.Popen
    workers: list[subprocess.Popen]
    port: int

    def processes(self) -> dict[str, int]:
        """Every process by role: the gunicorn master, its workers, the delivery workers."""
        named = {"gunicorn master": self.web.pid}
        for number, pid in enumerate(children_of(self.web.pid), 1):
            named[f"gunicorn worker {number}"] = pid
        for number, worker in enumerate(self.workers, 1):
            named[f"flask worker {number}"] = worker.pid
        return named

    def stop(self) -> None:
        for process in [*self.workers, self.web]:
            process.terminate()
        for process in [*self.workers, self.web]:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def start_services(env: dict, web_workers: int, workers: int) -> Services:
    """gunicorn, serving, and the delivery workers, each past its start-up."""
    port = free_port()
    web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(web_workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "app:app",
        ],
        cwd=ROOT,
        env=env,
    )
    wait_until_serving(port)
    delivery = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    for worker in delivery:
        worker.stdout.readline()  # "Worker … delivering mail to …": it is running
        # Its later lines (one per pass that did something) are not read: drain them.
        threading.Thread(target=worker.stdout.read, daemon=True).start()
    return Services(web, delivery, port)


# --- figures --------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def window(samples: list[tuple[float, float]], start: float, end: float) -> list[float]:
    return [seconds for at, seconds in samples if start <= at < end]


def outbox_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        rows = conn.execute(
            """SELECT CASE
                        WHEN status = 'pending' AND next_attempt_at <= now() THEN 'due'
                        WHEN status = 'pending' THEN 'later'
                        ELSE status END, count(*)
               FROM outbox_messages GROUP BY 1"""
        ).fetchall()
    return dict(rows)


def backlog(counts: dict[str, int]) -> int:
    return counts.get("due", 0) + counts.get("sending", 0)


def report(results: Results, seconds: float, memory: dict, outbox: dict, drained: float | None):
    print()
    minute = min(60.0, seconds / 2)
    total = sum(len(samples) for samples in results.durations.values())
    print(f"requests: {total:,} in {seconds:.0f} s = {total / seconds:.1f} req/s")
    print()
    header = (
        f"{'kind':<14}{'count':>8}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}   "
        f"{f'first {minute:.0f} s: p50/p99, req/s':>28}   {f'last {minute:.0f} s':>24}   "
        "last/first req/s"
    )
    print(header)
    for kind in MIX:
        samples = results.durations.get(kind, [])
        every = [s for _at, s in samples]
        first = window(samples, 0, minute)
        last = window(samples, seconds - minute, seconds + 1)
        ratio = (len(last) / len(first)) if first else float("nan")
        print(
            f"{kind:<14}{len(every):>8,}{len(every) / seconds:>8.1f}"
            f"{percentile(every, 0.5) * 1000:>8.1f}{percentile(every, 0.99) * 1000:>8.1f}   "
            f"{percentile(first, 0.5) * 1000:>9.1f} /{percentile(first, 0.99) * 1000:>6.1f}, "
            f"{len(first) / minute:>6.1f}/s   "
            f"{percentile(last, 0.5) * 1000:>6.1f} /{percentile(last, 0.99) * 1000:>6.1f}, "
            f"{len(last) / minute:>6.1f}/s   {ratio:>6.2f}"
        )
    print()
    if results.unexpected:
        print("answers other than expected (kind, status: count):")
        for (kind, status), count in sorted(results.unexpected.items(), key=str):
            print(f"  {kind}, {status}: {count}")
    else:
        print("answers other than expected: none")
    print()
    print(f"{'process':<20}{'RSS at start':>14}{'at end':>10}{'end/start':>11}")
    for name, (start, end) in memory.items():
        ratio = end / start if start and end else float("nan")
        print(f"{name:<20}{_mib(start):>14}{_mib(end):>10}{ratio:>11.2f}")
    print()
    print(
        f"outbox when the load stopped: backlog {backlog(outbox)} (due and unsent: "
        f"{outbox.get('due', 0)} pending, {outbox.get('sending', 0)} being sent); "
        f"{outbox.get('sent', 0):,} sent, {outbox.get('later', 0):,} pending for later, "
        f"{outbox.get('failed', 0)} failed"
    )
    print(
        "backlog cleared "
        + (f"{drained:.1f} s after the load stopped" if drained is not None else "NOT within 120 s")
    )


def _mib(value: float | None) -> str:
    return f"{value:.0f} MiB" if value else "not running"


# --- the run --------------------------------------------------------------------------------


def set_up(url: str, env: dict, users: int) -> list[str]:
    """Migrate; an admin, two owners, and one API key per client. Returns the keys."""
    flask_cli(env, "db", "upgrade")
    flask_cli(
        env,
        "users",
        "create",
        "admin@soak.example",
        "--name",
        "Ada Admin",
        "--role",
        "admin",
        "--password",
        OWNER_PASSWORD,
    )
    for address in OWNERS:
        name = address.split("@")[0].title()
        flask_cli(
            env,
            "users",
            "create",
            address,
            "--name",
            name,
            "--role",
            "owner",
            "--password",
            OWNER_PASSWORD,
        )
    return [
        flask_cli(env, "api-keys", "create", f"soak client {n}").strip().splitlines()[-1]
        for n in range(users)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=8, help="simulated clients, each looping")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--workers", type=int, default=2, help="`flask worker` processes")
    parser.add_argument("--mail", choices=("sendgrid", "files"), default="sendgrid")
    parser.add_argument("--latency", type=float, default=0.05, help="fake SendGrid's answer time")
    args = parser.parse_args()

    print(f"machine: {machine()}", flush=True)
    name = f"h2h_bench_soak_{os.getpid()}"
    url = create_database(name)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / name
    outbox_dir = workdir / "outbox"
    fake = None
    if args.mail == "sendgrid":
        fake = FakeSendGrid().start()
        fake.default = Reply(202, delay=args.latency)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDGRID_")}
    env.update(
        DATABASE_URL=url,
        SECRET_KEY="soak",
        BASE_URL="http://soak.example",
        MAIL_FROM="Soak Shop <surveys@soak.example>",
        MAIL_OUTBOX_DIR=str(outbox_dir),
        PYTHONPATH=str(ROOT),
        **(fake.env if fake else {}),
    )
    services = None
    try:
        print("migrating, creating logins and API keys…", flush=True)
        keys = set_up(url, env, args.users)
        services = start_services(env, args.web_workers, args.workers)
        links = SurveyLinks(env["BASE_URL"], fake, outbox_dir)
        duration = args.minutes * 60
        print(
            f"{args.users} clients for {args.minutes:g} min against gunicorn "
            f"({args.web_workers} workers) with {args.workers} `flask worker`, mail to "
            f"{'a fake SendGrid' if fake else 'files'}…",
            flush=True,
        )
        started = time.perf_counter()
        memory_at_start = {label: rss_mib(pid) for label, pid in services.processes().items()}
        results = Results(started=started)
        clients = [
            Client(services.port, keys[n], OWNERS[n % len(OWNERS)], links, results)
            for n in range(args.users)
        ]
        threads = [
            threading.Thread(target=client.run, args=(started + duration,), daemon=True)
            for client in clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        memory_at_end = {label: rss_mib(pid) for label, pid in services.processes().items()}
        outbox = outbox_counts(url)
        stopped = time.perf_counter()
        drained = None
        while time.perf_counter() - stopped < 120:
            if backlog(outbox_counts(url)) == 0:
                drained = time.perf_counter() - stopped
                break
            time.sleep(0.5)
        memory = {
            label: (memory_at_start.get(label), memory_at_end.get(label))
            for label in {**memory_at_start, **memory_at_end}
        }
        report(results, elapsed, dict(sorted(memory.items(), key=_process_order)), outbox, drained)
    finally:
        if services is not None:
            services.stop()
        if fake is not None:
            fake.close()
        drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)


def _process_order(item) -> tuple:
    label = item[0]
    return (label.startswith("flask"), label != "gunicorn master", label)


if __name__ == "__main__":
    main()
