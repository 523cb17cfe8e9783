"""Fixtures for browser tests: Debian's Chromium driven by Playwright, and a live server.

They are registered for every test module (conftest's `pytest_plugins`); mark
the tests `@pytest.mark.browser`. Without /usr/bin/chromium the tests
skip, unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.

Every page opened through `browser` is watched: a test fails when the Content-Security-Policy
blocked anything on its pages (Chromium reports each block on the console).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from surveys.config import https_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (per test process): Playwright's sync API allows
    one at a time, and starting it again for each module cost a second or two each time. Tests
    stay apart by opening their own context (`new_context` / `new_page`)."""
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"browser tests need {CHROMIUM} (set REQUIRE_BROWSER=1 to fail instead)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield WatchedBrowser(chromium)
        chromium.close()


class WatchedBrowser:
    """Chromium whose pages report what the Content-Security-Policy blocked."""

    def __init__(self, chromium) -> None:
        self._chromium = chromium
        self.csp_violations: list[str] = []
        self._contexts: list = []

    def new_context(self, **options):
        context = self._chromium.new_context(**options)
        self._contexts.append(context)
        # The context's console carries the messages of all its pages and their frames.
        context.on("console", self._note_csp_violation)
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def close_contexts(self) -> None:
        """Close what a test opened, so the next test starts with a browser of its own."""
        for context in self._contexts:
            context.close()
        self._contexts.clear()

    def _note_csp_violation(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"{message.location.get('url')}: {message.text}")

    def __getattr__(self, name: str):
        return getattr(self._chromium, name)


@pytest.fixture(autouse=True)
def _no_csp_violations(request):
    """After a test that used the browser: nothing on its pages was blocked by the policy."""
    if "browser" not in request.fixturenames:
        yield
        return
    watched = request.getfixturevalue("browser")
    watched.csp_violations.clear()
    try:
        yield
    finally:
        watched.close_contexts()
    assert watched.csp_violations == [], "the Content-Security-Policy blocked something"


class LiveServers:
    """Serves apps over real HTTP from background threads until the test ends."""

    def __init__(self) -> None:
        self._running: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def __call__(self, app: Flask, *, https: bool = False) -> str:
        """Serve `app` on a free local port, point its BASE_URL there, and return that URL.

        `https=True` serves over TLS with a throw-away self-signed certificate (open pages
        in a context made with `ignore_https_errors=True`).
        """
        ssl_context = "adhoc" if https else None
        server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
        scheme = "https" if https else "http"
        base_url = f"{scheme}://127.0.0.1:{server.server_port}"
        # Links the app writes (emails, redirects built from BASE_URL) must lead back here,
        # and cookies are Secure exactly when that is https.
        app.config["BASE_URL"] = base_url
        app.config.update(https_settings(base_url))
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
