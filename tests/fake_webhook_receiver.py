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
from dataclasses import dataclass

import pytest

from tests.fake_http import QuietHandler, Reply, ScriptedServer


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


class FakeReceiver(ScriptedServer):
    """The server: start(), respond_with(…), read `requests`, close()."""

    thread_name = "fake-webhook-receiver"

    def __init__(self) -> None:
        super().__init__(default=Reply(200))

    def url_for(self, path: str = "/hooks") -> str:
        return f"{self.url}{path}"

    def events(self) -> list[str]:
        """The `event` of every request's body, in the order they arrived."""
        return [request.json["event"] for request in self.requests]


class _Handler(QuietHandler):
    fake: FakeReceiver

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        recorded = ReceivedRequest(
            "POST", self.path, dict(self.headers.items()), self.rfile.read(length)
        )
        self.fake.record(recorded)
        reply = self.fake.next_reply()
        if not self.wait_as_scripted(reply):
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


FakeReceiver.handler = _Handler


@pytest.fixture
def webhook_receiver():
    """A fake receiver on 127.0.0.1 (a free port), closed after the test."""
    receiver = FakeReceiver().start()
    yield receiver
    receiver.close()
