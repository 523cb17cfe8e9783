"""Helpers for tests that use the people's pages through HTTP: CSRF tokens and logging in."""

from __future__ import annotations

from flask.testing import FlaskClient

from surveys.admin.question_set_forms import draft_form_data
from surveys.models import User
from surveys.services.question_sets import drafts
from surveys.services.question_sets.translations import editor_languages
from surveys.services.question_sets.versions import get_question_set
from tests.factories import PASSWORD
from tests.pages import page


def csrf_token_from(html: str) -> str:
    """The first CSRF token on a page."""
    return page(html).field_value("csrf_token")


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


def _nested_form_data(prefix: str, value) -> dict[str, str]:
    """WTForms' field names for nested data: questions-0-options-1-label."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    elif isinstance(value, bool):
        return {prefix: "y"} if value else {}
    else:
        return {prefix: "" if value is None else str(value)}
    flat: dict[str, str] = {}
    for key, item in items:
        flat.update(_nested_form_data(f"{prefix}-{key}" if prefix else str(key), item))
    return flat


def editor_form_data(session, key: str) -> dict[str, str]:
    """The question-set editor's form for the set's draft, as its page posts it (Save)."""
    question_set = get_question_set(session, key)
    document = drafts.editor_document(session, question_set)
    data = draft_form_data(
        document,
        name=question_set.name,
        revision=question_set.draft_revision,
        # Every language's texts, as the page carries them (shown or hidden).
        languages=[language.tag for language in editor_languages("en", document)],
    )
    return {**_nested_form_data("", data), "action": "save"}
