"""A small local HTTP server standing in for an integrator's webhook receiver.

It records every request (raw body, parsed JSON, headers) and answers from a
per-test script of statuses and delays (200 once the script is used up).
The `webhook_receiver` fixture is available to every test module (conftest loads
this one as a plugin):

    def test_x(webhook_receiver):
        webhook_receiver.respond_with(500, Reply(200, delay=1))
        url = webhook_receiver.url_for("/hooks")
        ...
        [request] = webhook_receiver.requests
        request.json, request.body, request.headers
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fake_sendgrid import Reply


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0  # what the receiver answered

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class FakeReceiver:
    """The server: start(), respond_with(…), read `requests`, close()."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeReceiver:
        fake = self

        class Handler(_Handler):
            receiver = fake

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            daemon=True,
            name="fake-webhook-receiver",
        ).start()
        return self

    def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def url_for(self, path: str = "/hooks") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def respond_with(self, *replies: int | Reply) -> None:
        """Queue answers for the next requests, in order: statuses or Reply objects."""
        with self._lock:
            for reply in replies:
                self._script.append(reply if isinstance(reply, Reply) else Reply(status=reply))

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._script.popleft() if self._script else Reply(200)

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def events(self) -> list[str]:
        """The `event` of every request's body, in the order they arrived."""
        return [request.json["event"] for request in self.requests]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is part of the tests


class _Handler(BaseHTTPRequestHandler):
    receiver: FakeReceiver
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        recorded = ReceivedRequest(
            "POST", self.path, dict(self.headers.items()), self.rfile.read(length)
        )
        self.receiver._record(recorded)
        reply = self.receiver._next_reply()
        if reply.delay and self.receiver._closing.wait(reply.delay):
            return
        recorded.status = reply.status
        payload = (reply.message or "").encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting


@pytest.fixture
def webhook_receiver():
    """A fake receiver on 127.0.0.1 (a free port), closed after the test."""
    receiver = FakeReceiver().start()
    yield receiver
    receiver.close()
