"""Survey and unsubscribe tokens never reach an access log: the dev server (`make run`, i.e.
`flask run`) and gunicorn, each run for real, write `/s/<token>` and `/u/<token>`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from surveys.log_masking import mask_tokens
from tests.factories import make_customer, make_purchase, make_sent_survey

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "line, masked",
    [
        ("GET /s/AbC-12_x?a=short HTTP/1.1", "GET /s/<token>?a=short HTTP/1.1"),
        ("\x1b[33mPOST /u/Tok3n HTTP/1.1\x1b[0m", "\x1b[33mPOST /u/<token> HTTP/1.1\x1b[0m"),
        ('"https://surveys.example/s/Tok3n?a=1"', '"https://surveys.example/s/<token>?a=1"'),
        ("/u/Tok3n", "/u/<token>"),
        ("Unhandled error on POST /s/Tok3n", "Unhandled error on POST /s/<token>"),
        ("GET /users/5 HTTP/1.1", "GET /users/5 HTTP/1.1"),
        ("GET /static/app.css HTTP/1.1", "GET /static/app.css HTTP/1.1"),
        ("GET /api/v1/cases/s/1 HTTP/1.1", "GET /api/v1/cases/s/1 HTTP/1.1"),
    ],
)
def test_tokens_in_paths_and_urls_are_masked_and_nothing_else(line, masked):
    assert mask_tokens(line) == masked


@pytest.fixture
def tokens(committed_app) -> tuple[str, str]:
    """Two live tokens: one for a survey link, one for an unsubscribe link."""
    with committed_app.extensions["db"]["sessionmaker"]() as session:
        found = []
        for name in ("Ana", "Ben"):
            customer = make_customer(session, name=name)
            _survey, token = make_sent_survey(
                session, customer, purchase=make_purchase(session, customer)
            )
            found.append(token)
        session.commit()
    return found[0], found[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(app) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://127.0.0.1",
        "MAIL_OUTBOX_DIR": app.config["MAIL_OUTBOX_DIR"],
        "PYTHONUNBUFFERED": "1",
    }


def run_server(command: list[str], app, port: int, requests: list[tuple[str, dict]]) -> str:
    """Start the server, make the requests, stop it; returns everything it wrote."""
    server = subprocess.Popen(
        command,
        cwd=PROJECT,
        env=environment(app),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        statuses = []
        for path, headers in requests:
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
            try:
                # The port opens before the worker has imported the app; on a loaded
                # machine the first answer can take a while, which is not what is tested.
                with urllib.request.urlopen(request, timeout=60) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        time.sleep(0.3)  # let the last access-log line be written
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert statuses == [200, 200, 404], output
    return output


def assert_masked(output: str, survey_token: str, unsubscribe_token: str) -> None:
    assert survey_token not in output and unsubscribe_token not in output, output
    assert "/s/<token>?a=short" in output, output
    assert "/u/<token>" in output, output


def test_the_dev_server_logs_survey_and_unsubscribe_links_with_the_token_masked(
    committed_app, tokens
):
    survey_token, unsubscribe_token = tokens
    port = free_port()
    command = [str(BIN / "flask"), "--app", "app", "run", "--port", str(port)]

    output = run_server(
        command,
        committed_app,
        port,
        [
            (f"/s/{survey_token}?a=short", {}),
            (f"/u/{unsubscribe_token}", {}),
            ("/s/not-a-real-token-but-still-private", {}),
        ],
    )

    assert_masked(output, survey_token, unsubscribe_token)
    assert "not-a-real-token-but-still-private" not in output
    assert '"GET /s/<token>?a=short HTTP/1.1" 200' in output


def test_gunicorn_logs_links_and_referers_with_the_token_masked(committed_app, tokens):
    survey_token, unsubscribe_token = tokens
    port = free_port()
    # As README.md's production command, with an access log to stdout.
    command = [
        str(BIN / "gunicorn"),
        "-c",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--access-logfile",
        "-",
        "--no-control-socket",
        "app:app",
    ]
    survey_page = f"http://127.0.0.1:{port}/s/{survey_token}?a=short"

    output = run_server(
        command,
        committed_app,
        port,
        [
            (f"/s/{survey_token}?a=short", {}),
            (f"/u/{unsubscribe_token}", {"Referer": survey_page}),
            ("/s/not-a-real-token-but-still-private", {"Referer": survey_page}),
        ],
    )

    assert_masked(output, survey_token, unsubscribe_token)
    assert f'"http://127.0.0.1:{port}/s/<token>?a=short"' in output  # the Referer, masked
