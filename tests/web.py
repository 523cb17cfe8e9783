"""Helpers for tests that use the people's pages through HTTP: CSRF tokens and logging in."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from surveys.models import User
from tests.factories import PASSWORD

_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The first CSRF token on a page."""
    match = _CSRF_INPUT.search(html)
    assert match, "the page carries no csrf_token field"
    return match.group(1)


def csrf_token(client: FlaskClient, path: str) -> str:
    """A valid CSRF token for the client's session, read from the page at `path`."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return csrf_token_from(response.get_data(as_text=True))


def log_in(client: FlaskClient, user: User | str, password: str = PASSWORD):
    """Log in through the login form; returns the response (a redirect on success)."""
    email = user if isinstance(user, str) else user.email
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def post_form(client: FlaskClient, path: str, data: dict | None = None, *, token_from: str):
    """POST a form with a CSRF token taken from the page the form lives on."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, token_from)})
