"""Fixtures for browser tests: Debian's Chromium driven by Playwright, and a live server.

They are registered for every test module (conftest's `pytest_plugins`); mark
the tests `@pytest.mark.browser`. Without /usr/bin/chromium the tests
skip, unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for this module's tests (Playwright's sync API allows one at a time)."""
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"browser tests need {CHROMIUM} (set REQUIRE_BROWSER=1 to fail instead)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class LiveServers:
    """Serves apps over real HTTP from background threads until the test ends."""

    def __init__(self) -> None:
        self._running: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def __call__(self, app: Flask) -> str:
        """Serve `app` on a free local port, point its BASE_URL there, and return that URL."""
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base_url = f"http://127.0.0.1:{server.server_port}"
        # Links the app writes (emails, redirects built from BASE_URL) must lead back here.
        app.config["BASE_URL"] = base_url
        thread = threading.Thread(
            target=server.serve_forever, name=f"live-server-{base_url}", daemon=True
        )
        thread.start()
        self._running.append((server, thread))
        return base_url

    def stop(self) -> None:
        for server, thread in self._running:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
        self._running.clear()


@pytest.fixture
def live_server() -> Iterator[LiveServers]:
    """`live_server(app)` serves an app (use `committed_app`) and returns its base URL."""
    servers = LiveServers()
    yield servers
    servers.stop()
