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
import email
import email.policy
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dispatch import create_database, drop_database, machine  # noqa: E402
from bench.ingest import flask_cli, free_port, wait_until_serving  # noqa: E402
from tests.fake_sendgrid import FakeSendGrid, Reply  # noqa: E402

BIN = Path(sys.executable).parent
OWNER_PASSWORD = "soak-owner-password"
OWNERS = ("olivia@soak.example", "omar@soak.example")
# How often each kind comes up, out of 100 requests.
MIX = {"purchase": 40, "survey page": 20, "survey answer": 15, "owner page": 25}
EXPECTED = {"purchase": 201, "survey page": 200, "survey answer": 200, "owner page": 200}
CSRF_INPUT = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
CASE_LINK = re.compile(rb'href="/cases/(\d+)"')
CUSTOMER_LINK = re.compile(rb'href="/customers/(\d+)"')


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


# --- survey links: from the fake SendGrid, or from the .eml files -----------------------------


class SurveyLinks:
    """Survey links the workers have sent, as a customer would find them in their email."""

    def __init__(self, base_url: str, fake: FakeSendGrid | None, outbox: Path) -> None:
        self.pattern = re.compile(re.escape(base_url) + r"(/s/[\w-]+)")
        self.fake = fake
        self.outbox = outbox
        self._seen_requests = 0
        self._seen_files: set[str] = set()
        self._fresh: list[str] = []
        self._all: list[str] = []
        self._lock = threading.Lock()

    def _collect(self) -> None:
        texts = []
        if self.fake is not None:
            requests = self.fake.recorded()
            for request in requests[self._seen_requests :]:
                for personalization in (request.body or {}).get("personalizations", []):
                    # A survey email's personal value: its link is BASE_URL/s/<token>.
                    token = personalization.get("substitutions", {}).get("[h2h:token]")
                    if token:
                        self._fresh.append(f"/s/{token}")
                        self._all.append(f"/s/{token}")
            self._seen_requests = len(requests)
        else:
            for path in self.outbox.glob("*.eml"):
                if path.name not in self._seen_files:
                    self._seen_files.add(path.name)
                    message = email.message_from_bytes(
                        path.read_bytes(), policy=email.policy.default
                    )
                    texts.append(message.get_body(preferencelist=("plain",)).get_content())
        for text in texts:
            for path in set(self.pattern.findall(text)):
                self._fresh.append(path)
                self._all.append(path)

    def fresh(self) -> str | None:
        """A link nobody has answered yet."""
        with self._lock:
            if not self._fresh:
                self._collect()
            return self._fresh.pop() if self._fresh else None

    def any(self) -> str | None:
        with self._lock:
            if not self._all:
                self._collect()
            return random.choice(self._all) if self._all else None


# --- the simulated clients ------------------------------------------------------------------


@dataclass
class Results:
    started: float
    durations: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    unexpected: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, at: float, seconds: float, status: int | str) -> None:
        with self.lock:
            self.durations[kind].append((at - self.started, seconds))
            if status != EXPECTED.get(kind, 200):
                self.unexpected[(kind, status)] += 1


class Client:
    """One simulated client: its own connection, cookies and API key."""

    def __init__(self, port: int, api_key: str, owner: str, links: SurveyLinks, results: Results):
        self.port = port
        self.api_key = api_key
        self.owner = owner
        self.links = links
        self.results = results
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.orders = 0
        self.logged_in = False

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            return type(exc).__name__, b""
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        return response.status, data

    def timed(self, kind: str, method: str, path: str, body=None, headers=None):
        started = time.perf_counter()
        status, data = self.request(method, path, body, headers)
        self.results.record(kind, started, time.perf_counter() - started, status)
        return status, data

    def purchase(self) -> None:
        self.orders += 1
        order = f"S-{self.api_key[-6:]}-{self.orders}"
        body = {
            "order_id": order,
            "customer": {"email": f"{order.lower()}@soak.example", "name": "Soak Customer"},
            "purchased_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "total": "129.90",
            "currency": "EUR",
            "items": [
                {
                    "sku": "KB-1",
                    "name": "Keyboard",
                    "category": "hardware",
                    "quantity": 1,
                    "unit_price": "129.90",
                }
            ],
            "owner_email": random.choice(OWNERS),
        }
        self.timed(
            "purchase",
            "POST",
            "/api/v1/purchases",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"},
        )

    def survey_page(self) -> None:
        link = self.links.any()
        if link is None:
            return self.purchase()  # nothing sent yet
        self.timed("survey page", "GET", link)

    def survey_answer(self) -> None:
        link = self.links.fresh()
        if link is None:
            return self.purchase()
        status, page = self.timed("survey page", "GET", link)
        token = CSRF_INPUT.search(page) if status == 200 else None
        if token is None:
            return None
        unhappy = random.random() < 0.2
        answers = {
            "csrf_token": token.group(1).decode(),
            "expectations": "short" if unhappy else random.choice(("exceeding", "meeting")),
            "one_thing": "The parcel came late." if unhappy else "",
            "time_money": "no" if unhappy else "yes",
            "recommend": str(random.randint(0, 5) if unhappy else random.randint(8, 10)),
            "preferences": "",
        }
        self.timed(
            "survey answer",
            "POST",
            link,
            urlencode(answers).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def owner_page(self) -> None:
        if not self.logged_in:
            self.log_in()
        status, inbox = self.timed("owner page", "GET", "/inbox")
        cases = CASE_LINK.findall(inbox) if status == 200 else []
        if not cases:
            return
        status, case = self.timed("owner page", "GET", f"/cases/{random.choice(cases).decode()}")
        customers = CUSTOMER_LINK.findall(case) if status == 200 else []
        if customers:
            self.timed("owner page", "GET", f"/customers/{customers[0].decode()}")

    def log_in(self) -> None:
        status, page = self.request("GET", "/login")
        token = CSRF_INPUT.search(page) if status == 200 else None
        form = {"email": self.owner, "password": OWNER_PASSWORD}
        if token:
            form["csrf_token"] = token.group(1).decode()
        status, _ = self.request(
            "POST",
            "/login",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.logged_in = status == 302

    def run(self, until: float) -> None:
        kinds, weights = zip(*MIX.items(), strict=True)
        actions = {
            "purchase": self.purchase,
            "survey page": self.survey_page,
            "survey answer": self.survey_answer,
            "owner page": self.owner_page,
        }
        while time.perf_counter() < until:
            actions[random.choices(kinds, weights)[0]]()


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
