"""Logging in and out: hashed passwords, CSRF, one generic error, no open redirects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.services.users import accounts as users
from surveys.services.users.accounts import UserError
from tests.factories import PASSWORD, make_case, make_user
from tests.web import csrf_token, csrf_token_from, log_in

WRONG = "That email and password do not match. Please try again."


def logged_in_user_id(client) -> str | None:
    """The id of the user the client's session logs in ("<id>:<session version>" holds it)."""
    with client.session_transaction() as flask_session:
        session_id = flask_session.get("_user_id")
    return session_id.partition(":")[0] if session_id else None


def submit_login(client, email: str, password: str, path: str = "/login"):
    return client.post(
        path,
        data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")},
    )


def test_login_page_has_the_email_password_and_csrf_fields(client):
    html = client.get("/login").get_data(as_text=True)

    assert 'name="email"' in html
    assert 'name="password"' in html
    assert csrf_token_from(html)


def test_right_password_logs_in_and_opens_the_inbox(client, session):
    owner = make_user(session, email="olivia@shop.example")

    response = submit_login(client, "olivia@shop.example", PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"
    assert logged_in_user_id(client) == str(owner.id)
    assert client.get("/inbox").status_code == 200


def test_passwords_are_stored_only_as_hashes(session):
    user = users.create_user(
        session,
        email="olivia@shop.example",
        name="Olivia Owen",
        role="owner",
        password="a long enough secret",
        now=datetime.now(UTC),
    )

    assert "a long enough secret" not in user.password_hash
    # scrypt at werkzeug's full cost (people made by tests/factories.py get a cheap one).
    assert user.password_hash.startswith("scrypt:32768:8:1$")


@pytest.mark.parametrize(
    "email, password",
    [
        ("olivia@shop.example", "not the password"),
        ("nobody@shop.example", PASSWORD),
        ("not an address", PASSWORD),
    ],
)
def test_wrong_credentials_get_the_form_again_with_one_generic_error(
    client, session, email, password
):
    make_user(session, email="olivia@shop.example")

    response = submit_login(client, email, password)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count(WRONG) == 1
    assert 'name="password"' in html
    assert logged_in_user_id(client) is None


def test_blank_fields_answer_422_with_the_errors_in_place(client):
    response = submit_login(client, " ", "")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter your email address." in html
    assert "Enter your password." in html
    assert logged_in_user_id(client) is None


def test_login_without_a_csrf_token_answers_400_and_logs_nobody_in(client, session):
    make_user(session, email="olivia@shop.example")

    response = client.post("/login", data={"email": "olivia@shop.example", "password": PASSWORD})

    assert response.status_code == 400
    assert logged_in_user_id(client) is None


def test_the_email_matches_whatever_its_case(client, session):
    owner = make_user(session, email="olivia@shop.example")

    submit_login(client, "  Olivia@Shop.EXAMPLE ", PASSWORD)

    assert logged_in_user_id(client) == str(owner.id)


def test_an_inactive_user_cannot_log_in(client, session):
    make_user(session, email="olivia@shop.example", active=False)

    response = submit_login(client, "olivia@shop.example", PASSWORD)

    assert response.status_code == 200
    assert WRONG in response.get_data(as_text=True)
    assert logged_in_user_id(client) is None


def test_a_deactivated_user_is_logged_out_on_their_next_request(client, session, clock):
    owner = make_user(session)
    log_in(client, owner)
    assert client.get("/inbox").status_code == 200

    users.deactivate_user(session, owner, now=clock.now())
    session.commit()
    response = client.get("/inbox")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert logged_in_user_id(client) is None
    # Reactivating them does not bring the old login back.
    users.reactivate_user(session, owner, now=clock.now())
    session.commit()
    assert client.get("/inbox").status_code == 302


def test_a_page_sends_strangers_to_the_login_and_back_afterwards(client, session):
    owner = make_user(session)
    case = make_case(session, owner=owner)

    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 302
    login_path = response.headers["Location"]
    assert login_path == f"/login?next=%2Fcases%2F{case.id}"

    response = submit_login(client, owner.email, PASSWORD, path=login_path)
    assert response.headers["Location"] == f"/cases/{case.id}"


@pytest.mark.parametrize(
    "next_value",
    [
        "https://evil.example/",
        "//evil.example/inbox",
        "/\\evil.example",
        "javascript:alert(1)",
        "inbox",
        "/\t/evil.example",
    ],
)
def test_next_pointing_off_the_site_is_ignored(client, session, next_value):
    owner = make_user(session)

    response = client.post(
        "/login",
        query_string={"next": next_value},
        data={
            "email": owner.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"


def test_a_logged_in_person_visiting_the_login_page_goes_to_the_inbox(client, session):
    log_in(client, make_user(session))

    response = client.get("/login")

    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"


def test_the_front_page_leads_to_the_login_or_the_inbox(client, session):
    assert client.get("/").headers["Location"] == "/login"
    log_in(client, make_user(session))
    assert client.get("/").headers["Location"] == "/inbox"


def test_logging_in_gives_a_new_csrf_token(client, session):
    owner = make_user(session)
    before = csrf_token(client, "/login")

    log_in(client, owner)

    assert csrf_token(client, "/inbox") != before


def test_logout_is_a_post_with_a_csrf_token(client, session):
    log_in(client, make_user(session))

    confirm = client.get("/logout")
    assert confirm.status_code == 200  # a typed /logout asks, with a button
    assert logged_in_user_id(client) is not None
    assert client.post("/logout").status_code == 400
    assert logged_in_user_id(client) is not None

    response = client.post(
        "/logout", data={"csrf_token": csrf_token_from(confirm.get_data(as_text=True))}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert logged_in_user_id(client) is None
    assert "You are logged out" in client.get("/login").get_data(as_text=True)
    assert client.get("/inbox").status_code == 302


def test_logout_when_not_logged_in_leads_to_the_login_page(client):
    response = client.get("/logout")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_an_admin_sees_the_admin_link_on_every_page(client, session):
    log_in(client, make_user(session, role="admin"))

    assert 'href="/admin/dashboard"' in client.get("/inbox").get_data(as_text=True)


# --- the users service behind the pages -------------------------------------------


def test_authenticate_finds_only_active_users_with_the_right_password(session):
    owner = make_user(session, email="olivia@shop.example")
    make_user(session, email="ivan@shop.example", active=False)

    assert users.authenticate(session, "olivia@shop.example", PASSWORD) is owner
    assert users.authenticate(session, "olivia@shop.example", "wrong password") is None
    assert users.authenticate(session, "ivan@shop.example", PASSWORD) is None
    assert users.authenticate(session, "nobody@shop.example", PASSWORD) is None
    assert users.authenticate(session, "", "") is None


def test_set_password_replaces_the_password(session):
    owner = make_user(session, email="olivia@shop.example")

    users.set_password(session, owner, "a brand new secret")

    assert users.authenticate(session, "olivia@shop.example", "a brand new secret") is owner
    assert users.authenticate(session, "olivia@shop.example", PASSWORD) is None
    with pytest.raises(UserError, match="at least 10 characters"):
        users.set_password(session, owner, "short")


def test_deactivating_an_owner_with_unclosed_cases_is_refused_naming_how_many(session, clock):
    owner = make_user(session, name="Olivia Owen")
    make_case(session, owner=owner, now=clock.now())
    make_case(session, owner=owner, status="resolved", now=clock.now())
    make_case(session, owner=owner, status="closed", now=clock.now())

    with pytest.raises(UserError, match="Olivia Owen still owns 2 cases that are not closed"):
        users.deactivate_user(session, owner, now=clock.now())

    session.refresh(owner)
    assert owner.active


def test_deactivating_an_owner_whose_cases_are_all_closed_works(session, clock):
    owner = make_user(session)
    make_case(session, owner=owner, status="closed", now=clock.now())

    users.deactivate_user(session, owner, now=clock.now())

    assert not owner.active
    users.reactivate_user(session, owner, now=clock.now())
    assert owner.active


def test_the_last_active_admin_cannot_be_deactivated(session, clock):
    first = make_user(session, role="admin", name="Ada Admin")
    second = make_user(session, role="admin")
    users.deactivate_user(session, second, now=clock.now())

    with pytest.raises(UserError, match="Ada Admin is the only active admin"):
        users.deactivate_user(session, first, now=clock.now())
    assert first.active
