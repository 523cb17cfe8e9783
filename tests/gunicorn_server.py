"""A fixture that serves the real WSGI app under gunicorn, as production does.

For what only several processes show (row locks taken by separate
transactions, SQLite's file lock shared between processes): the test gets a
`committed_app`, starts gunicorn on that app's database, and talks to it over
HTTP. Each gunicorn worker builds its app from the environment, like
`gunicorn app:app` in production.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from surveys.config import PROJECT_ROOT

GUNICORN = Path(sys.executable).with_name("gunicorn")
# A gunicorn config file whose hook marks each worker ready once it has loaded the app,
# so a test starts only when every worker can take a request (else one quick worker
# would serve them all in turn and concurrency would go untested).
READY_HOOK = Path(__file__).with_name("gunicorn_ready.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_ready(
    process: subprocess.Popen, ready_dir: Path, workers: int, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        if len(list(ready_dir.iterdir())) >= workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn's {workers} workers were not ready within {timeout}s")


class GunicornServers:
    """Starts gunicorn processes for apps and stops them when the test ends."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self._processes: list[subprocess.Popen] = []

    def __call__(self, app: Flask, *, workers: int = 4) -> str:
        """Serve `app`'s database and settings with `workers` processes; return the base URL."""
        port = _free_port()
        ready_dir = self.tmp_path / f"gunicorn-{port}-ready"
        ready_dir.mkdir()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "BASE_URL": base_url,
            "MAIL_FROM": app.config["MAIL_FROM"],
            "MAIL_OUTBOX_DIR": app.config["MAIL_OUTBOX_DIR"],
            "GUNICORN_READY_DIR": str(ready_dir),
        }
        env.pop("SENDGRID_API_KEY", None)
        log = (self.tmp_path / f"gunicorn-{port}.log").open("w")
        process = subprocess.Popen(
            [
                str(GUNICORN),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--config",
                str(READY_HOOK),
                "--log-level",
                "warning",
                "app:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._processes.append(process)
        _wait_until_ready(process, ready_dir, workers)
        return base_url

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()


@pytest.fixture
def gunicorn_server(tmp_path) -> Iterator[GunicornServers]:
    """`gunicorn_server(committed_app)` serves it under gunicorn (4 workers) and returns its URL."""
    servers = GunicornServers(tmp_path)
    yield servers
    servers.stop()
