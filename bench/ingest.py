"""Benchmark: POST /api/v1/purchases under load, against a minimal Flask + SQLAlchemy anchor.

    .venv/bin/python bench/ingest.py [--seconds 15] [--connections 32] [--rounds 3]
                                     [--databases sqlite,postgresql]

For each database it serves the real service (gunicorn, 4 workers) and the
anchor (`bench/baseline_app.py`, same gunicorn settings) side by side, loads
them in turn with wrk at 32 connections for several rounds (a unique order and
customer per request), and prints the median throughputs, their ratio (the
figure that matters: these machines are noisy, so absolute numbers drift while
the ratio holds), p99 latency and any errors. Needs `wrk` (Debian package) and, for PostgreSQL,
the server of TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_RATIO = 0.6
TARGET_P99_MS = 100

WRK_SCRIPT = r"""
-- A new order and a new customer on every request, so the service does its full work.
local counter = 0
local thread_tag = ""
-- Seeded from the clock: the warm-up and the timed run must not repeat each other's orders.
math.randomseed(os.time() + math.floor(os.clock() * 1e6))
function setup(thread)
  thread:set("tag", tostring(math.random(1, 1e9)))
end
function init(args)
  thread_tag = tag
end
function request()
  counter = counter + 1
  local id = thread_tag .. "-" .. counter
  local body = '{"order_id": "B-' .. id .. '", "customer": {"email": "c' .. id ..
    '@bench.example", "name": "Bench Customer"}, "total": "129.90", "currency": "EUR", ' ..
    '"items": [{"sku": "KB-1", "name": "Keyboard", "category": "hardware", "quantity": 1, ' ..
    '"unit_price": "129.90"}]}'
  return wrk.format("POST", "/api/v1/purchases", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. API_KEY,
  }, body)
end
local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format('RESULT {"requests": %d, "seconds": %.3f, "p99_ms": %.2f, ' ..
    '"p50_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(99) / 1000,
    latency:percentile(50) / 1000, errors, summary.errors.status))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # the server answers, even if with an error status
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def gunicorn(app_spec: str, env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=ROOT,
        env=env,
    )


def run_wrk(port: int, api_key: str, seconds: int, connections: int, workdir: Path) -> dict:
    script = workdir / "purchases.lua"
    script.write_text(f'API_KEY = "{api_key}"\n' + WRK_SCRIPT)
    output = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def prepare_database(kind: str, workdir: Path, tag: str) -> tuple[str, str]:
    """Two empty databases (service, anchor); returns their URLs."""
    if kind == "sqlite":
        return (
            f"sqlite:///{workdir / f'service-{tag}.db'}",
            f"sqlite:///{workdir / f'anchor-{tag}.db'}",
        )
    server = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    base = server.rsplit("/", 1)[0]
    urls = []
    with psycopg.connect(server, autocommit=True) as conn:
        for name in (f"bench_service_{tag}", f"bench_anchor_{tag}"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
            urls.append(f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}")
    return urls[0], urls[1]


def drop_postgres(tag: str) -> None:
    server = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with psycopg.connect(server, autocommit=True) as conn:
        for name in (f"bench_service_{tag}", f"bench_anchor_{tag}"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flask_cli(env: dict, *args: str) -> str:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def median_run(runs: list[dict]) -> dict:
    """The median of each figure over the rounds (errors are summed: any is one too many)."""
    return {
        "rps": statistics.median(run["rps"] for run in runs),
        "p99_ms": statistics.median(run["p99_ms"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "rounds": [round(run["rps"]) for run in runs],
    }


def bench_database(kind: str, seconds: int, connections: int, rounds: int, workdir: Path) -> dict:
    tag = str(os.getpid())
    service_url, anchor_url = prepare_database(kind, workdir, tag)
    base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    base_env.pop("SENDGRID_API_KEY", None)
    service_env = {
        **base_env,
        "DATABASE_URL": service_url,
        "SECRET_KEY": "bench",
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
    }
    anchor_env = {**base_env, "DATABASE_URL": anchor_url}
    try:
        print(f"[{kind}] migrating and creating an API key…", flush=True)
        flask_cli(service_env, "db", "upgrade")
        api_key = flask_cli(service_env, "api-keys", "create", "bench").strip().splitlines()[-1]
        subprocess.run(
            [sys.executable, "-c", "from bench.baseline_app import create_schema; create_schema()"],
            cwd=ROOT,
            env=anchor_env,
            check=True,
        )
        # Both servers stay up (an idle one costs nothing) and take turns under load,
        # so a noisy spell on the machine lands on both sides rather than on one.
        servers = {}
        try:
            for label, spec, env in (
                ("service", "app:app", service_env),
                ("anchor", "bench.baseline_app:app", anchor_env),
            ):
                port = free_port()
                servers[label] = (gunicorn(spec, env, port), port)
                wait_until_serving(port)
                run_wrk(port, api_key, 2, connections, workdir)  # warm-up
            runs = {label: [] for label in servers}
            for round_number in range(1, rounds + 1):
                for label, (_server, port) in servers.items():
                    print(
                        f"[{kind}] round {round_number}/{rounds}: loading the {label} for "
                        f"{seconds}s at {connections} connections…",
                        flush=True,
                    )
                    runs[label].append(run_wrk(port, api_key, seconds, connections, workdir))
            return {label: median_run(label_runs) for label, label_runs in runs.items()}
        finally:
            for server, _port in servers.values():
                server.terminate()
                server.wait(timeout=30)
    finally:
        if kind == "postgresql":
            drop_postgres(tag)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3, help="alternating loads per side")
    args = parser.parse_args()

    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="h2h-bench-") as tmp:
        for kind in args.databases.split(","):
            results = bench_database(kind, args.seconds, args.connections, args.rounds, Path(tmp))
            rows.append((kind, results["service"], results["anchor"]))

    print()
    print(
        f"{'database':<11} {'service req/s':>13} {'anchor req/s':>12} {'ratio':>6} "
        f"{'p99 ms':>7} {'errors':>6}   target: ratio ≥ {TARGET_RATIO}, "
        f"p99 < {TARGET_P99_MS} ms, no errors"
    )
    for kind, service, anchor in rows:
        ratio = service["rps"] / anchor["rps"]
        errors = service["errors"] + anchor["errors"]
        verdict = (
            "meets target"
            if ratio >= TARGET_RATIO and service["p99_ms"] < TARGET_P99_MS and errors == 0
            else "misses target"
        )
        print(
            f"{kind:<11} {service['rps']:>13.0f} {anchor['rps']:>12.0f} {ratio:>6.2f} "
            f"{service['p99_ms']:>7.1f} {errors:>6}   {verdict} "
            f"(anchor p99 {anchor['p99_ms']:.1f} ms)"
        )
        print(f"{'':<11} rounds, req/s: service {service['rounds']}, anchor {anchor['rounds']}")


if __name__ == "__main__":
    main()
