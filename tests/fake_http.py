"""What the fake servers standing in for the outside world share.

A `ScriptedServer` listens on 127.0.0.1 (a free port) in a background thread,
records every request its handler hands it, and answers from a per-test script
of `Reply`s (its `default` once the script is used up). Subclasses give the
handler that reads a request and the shape they record.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, after a delay, with an optional error message."""

    status: int = 202
    delay: float = 0.0
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The body field SendGrid names with its error ("personalizations.3.to.0.email").
    field: str | None = None


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and hung up is part of the tests


class QuietHandler(BaseHTTPRequestHandler):
    """A handler bound to its fake (`self.fake`), logging nothing."""

    fake: ScriptedServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args):
        pass

    def wait_as_scripted(self, reply: Reply) -> bool:
        """Wait out the reply's delay; False when the server closed meanwhile."""
        return not (reply.delay and self.fake.closing.wait(reply.delay))


class ScriptedServer:
    """start(), respond_with(…), read `requests`, close()."""

    handler: type[QuietHandler]
    thread_name = "fake-server"

    def __init__(self, default: Reply) -> None:
        self.requests: list = []
        self.default = default
        self.closing = threading.Event()
        self._script: deque[Reply] = deque()
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    def start(self):
        bound = type("BoundHandler", (self.handler,), {"fake": self})
        self._server = QuietServer(("127.0.0.1", 0), bound)
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True, name=self.thread_name
        ).start()
        return self

    def close(self) -> None:
        self.closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def respond_with(self, *replies: int | Reply) -> None:
        """Queue answers for the next requests, in order: statuses or Reply objects."""
        with self._lock:
            for reply in replies:
                self._script.append(reply if isinstance(reply, Reply) else Reply(status=reply))

    def next_reply(self) -> Reply:
        with self._lock:
            return self._script.popleft() if self._script else self.default

    def record(self, request) -> None:
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> bool:
        """Block until at least `count` requests arrived (True) or `timeout` passed."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.requests) >= count, timeout)

    def recorded(self) -> list:
        """A snapshot of the requests so far (the server may be adding to them)."""
        with self._lock:
            return list(self.requests)
