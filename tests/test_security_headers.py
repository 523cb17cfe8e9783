"""Security headers on every response: CSP without inline code, no framing, nosniff, a referrer
policy that keeps survey tokens in, HSTS when the site is served over HTTPS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import make_test_app
from tests.factories import make_case, make_customer, make_purchase, make_sent_survey, make_user
from tests.web import csrf_token_from

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().partition(" ")[::2] for part in policy.split(";"))


def assert_protected(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == "'none'"
    assert "script-src" not in policy  # so default-src 'none': no script runs at all
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin"


@pytest.fixture
def survey_token(session, clock):
    customer = make_customer(session, owner=make_user(session))
    _survey, token = make_sent_survey(
        session, customer, purchase=make_purchase(session, customer), sent_at=clock.now()
    )
    session.commit()
    return token


def test_every_kind_of_response_carries_the_headers(admin_client, session, survey_token):
    case = make_case(session, owner=make_user(session))
    session.commit()
    responses = {
        "login redirect": admin_client.get("/login"),  # already logged in
        "inbox": admin_client.get("/inbox"),
        "case": admin_client.get(f"/cases/{case.id}"),
        "admin": admin_client.get("/admin/users"),
        "survey": admin_client.get(f"/s/{survey_token}"),
        "unsubscribe": admin_client.get(f"/u/{survey_token}"),
        "not found": admin_client.get("/no/such/page"),
        "stylesheet": admin_client.get("/static/app.css"),
        "api": admin_client.get("/api/v1/cases"),
        "webhook": admin_client.post("/webhooks/shopify", data=b"{}"),
    }

    assert {name: r.status_code for name, r in responses.items()} == {
        "login redirect": 302,
        "inbox": 200,
        "case": 200,
        "admin": 200,
        "survey": 200,
        "unsubscribe": 200,
        "not found": 404,
        "stylesheet": 200,
        "api": 401,
        "webhook": 404,
    }
    for response in responses.values():
        assert_protected(response)
        assert "Strict-Transport-Security" not in response.headers  # BASE_URL is http here


def test_the_login_page_carries_the_headers(client):
    assert_protected(client.get("/login"))


def test_hsts_is_sent_when_base_url_is_https(template_database, tmp_path):
    app = make_test_app(
        template_database.copy(), tmp_path / "instance", BASE_URL="https://surveys.example"
    )
    try:
        response = app.test_client().get("/login", base_url="https://surveys.example")
    finally:
        app.extensions["db"]["engine"].dispose()

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert_protected(response)


def test_the_survey_preview_may_be_framed_by_the_editor_only(admin_client):
    response = admin_client.get("/admin/question-sets/heart-to-heart/preview")

    assert response.status_code == 200
    policy = directives(response)
    assert policy["frame-ancestors"] == "'self'"
    assert policy["default-src"] == "'none'" and "unsafe-inline" not in str(policy)


def test_an_emails_html_preview_is_sandboxed_and_allows_inline_styles_only(admin_client):
    page = admin_client.get("/admin/emails/reply")
    [src] = re.findall(r'<iframe[^>]* src="([^"]+)"', page.get_data(as_text=True))
    html = admin_client.get(src.replace("&amp;", "&"))

    assert html.status_code == 200
    assert html.get_data(as_text=True).lstrip().startswith("<!doctype html>")
    policy = directives(html)
    assert policy["style-src"] == "'unsafe-inline'"
    assert policy["default-src"] == "'none'" and "script-src" not in policy
    assert policy["frame-ancestors"] == "'self'"
    assert policy["sandbox"] == ""  # no script, an origin of its own, even opened alone
    assert_protected(page)  # the page around it keeps the site's policy


def test_the_survey_posted_over_https_passes_the_csrf_check_with_the_origin_alone(
    client, survey_token
):
    # Over HTTPS Flask-WTF refuses a form POST without a Referer from this host. The policy
    # sends the origin only (never the token in the path), and that is enough.
    page = client.get(f"/s/{survey_token}", base_url="https://surveys.test")
    assert page.headers["Referrer-Policy"] == "strict-origin"

    response = client.post(
        f"/s/{survey_token}",
        base_url="https://surveys.test",
        headers={"Referer": "https://surveys.test/"},
        data={"expectations": "exceeding", "csrf_token": csrf_token_from(page.text)},
    )

    assert response.status_code == 200, response.text
    assert "Thank you" in response.text


INLINE_CODE = re.compile(
    r"<script|<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "template",
    sorted(
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        # Emails are not pages: mail clients need inline styles, and no browser runs them
        # under our policy except the admin's sandboxed preview (EMAIL_HTML_PREVIEW).
        if path.relative_to(TEMPLATES).parts[0] != "emails"
    ),
)
def test_no_template_carries_inline_script_style_or_event_handlers(template):
    source = (TEMPLATES / template).read_text()

    assert INLINE_CODE.findall(source) == []
