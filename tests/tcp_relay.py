"""A TCP relay in front of PostgreSQL, to cut the database off without stopping it.

The app under test connects to the relay's port; the relay opens a connection
to the real server for each one and pipes the bytes both ways. `cut()` closes
every piped connection and stops listening, so new connections are refused
(as with a server that went away); `restore()` listens again on the same port.
`cut_on(marker)` cuts the moment a client sends `marker` (say, `b"COMMIT"`),
dropping that message: the transaction it would have ended never ends.

    relay = TcpRelay(("127.0.0.1", 5432)).start()
    url = relay.url_for("postgresql+psycopg://postgres@127.0.0.1:5432/db")
    relay.cut(); …; relay.restore(); …; relay.close()
"""

from __future__ import annotations

import selectors
import socket
import threading

from sqlalchemy.engine import make_url


class TcpRelay:
    """Pipes 127.0.0.1:<port> to `upstream`; can cut every connection and refuse new ones."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._pipes: set[_Pipe] = set()
        self._lock = threading.Lock()
        self._marker: bytes | None = None
        self.cuts = 0

    def start(self) -> TcpRelay:
        self._listen()
        return self

    def url_for(self, database_url: str) -> str:
        """The same database URL, reaching the server through this relay."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def cut(self) -> None:
        """Close every connection and refuse new ones, until `restore()`."""
        with self._lock:
            listener, self._listener = self._listener, None
            pipes, self._pipes = self._pipes, set()
            self._marker = None
            self.cuts += 1
        if listener is not None:
            _close(listener)
        for pipe in pipes:
            pipe.close()

    def cut_on(self, marker: bytes) -> None:
        """Cut as soon as a client sends bytes containing `marker` (which never arrive)."""
        with self._lock:
            self._marker = marker

    def restore(self) -> None:
        """Listen again on the same port; new connections reach the server."""
        with self._lock:
            if self._listener is None:
                self._listen()

    def close(self) -> None:
        self.cut()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pipes)

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(
            target=self._accept, args=(listener,), daemon=True, name="tcp-relay"
        ).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut: the listener was closed
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            pipe = _Pipe(self, client, server)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    pipe.close()
                    return
                self._pipes.add(pipe)
            threading.Thread(target=pipe.run, daemon=True, name="tcp-relay-pipe").start()

    def _should_cut(self, data: bytes) -> bool:
        with self._lock:
            return self._marker is not None and self._marker in data


class _Pipe:
    """One client connection and its connection to the server."""

    def __init__(self, relay: TcpRelay, client: socket.socket, server: socket.socket) -> None:
        self.relay = relay
        self.client = client
        self.server = server
        self._closed = threading.Event()

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.client, selectors.EVENT_READ, self.server)
        selector.register(self.server, selectors.EVENT_READ, self.client)
        try:
            while not self._closed.is_set():
                for key, _events in selector.select(timeout=0.1):
                    source, destination = key.fileobj, key.data
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is self.client and self.relay._should_cut(data):
                        self.relay.cut()
                        return
                    destination.sendall(data)
        except (OSError, ValueError):
            return  # closed under us by a cut
        finally:
            selector.close()
            self.close()

    def close(self) -> None:
        self._closed.set()
        for sock in (self.client, self.server):
            _close(sock)
        with self.relay._lock:
            self.relay._pipes.discard(self)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
