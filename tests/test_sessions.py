"""Sessions can be cut off: a copied cookie dies with logout, a new password and deactivation.

Each test logs in with one client, copies its session cookie into a second client (a stolen
cookie, or the same person on another device), then acts with the first or as an admin.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from surveys.services.users import accounts as users
from tests.factories import make_user
from tests.web import csrf_token, log_in, post_form


def copy_of_the_session(app, client: FlaskClient) -> FlaskClient:
    """A second client holding the same session cookie as `client`."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "the client has no session cookie"
    other = app.test_client()
    other.set_cookie("session", cookie.value)
    return other


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_copied_session_cookie_works_until_something_ends_it(app, client, session):
    owner = make_user(session)
    session.commit()
    log_in(client, owner)

    copy = copy_of_the_session(app, client)

    assert copy.get("/inbox").status_code == 200


def test_logging_out_ends_a_copied_session_too(app, client, session):
    owner = make_user(session)
    session.commit()
    log_in(client, owner)
    copy = copy_of_the_session(app, client)

    post_form(client, "/logout", token_from="/logout")

    assert_sent_to_login(copy.get("/inbox"))
    assert_sent_to_login(client.get("/inbox"))


def test_logging_out_ends_the_sessions_on_every_device(app, session):
    owner = make_user(session)
    session.commit()
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, owner)
    log_in(phone, owner)

    post_form(laptop, "/logout", token_from="/logout")

    assert_sent_to_login(phone.get("/inbox"))


def test_logging_in_again_after_logout_works(app, client, session):
    owner = make_user(session)
    session.commit()
    log_in(client, owner)
    post_form(client, "/logout", token_from="/logout")

    log_in(client, owner)

    assert client.get("/inbox").status_code == 200


def test_an_admin_resetting_a_password_ends_that_persons_sessions(
    app, admin_client, session, admin
):
    owner = make_user(session)
    session.commit()
    owners_client = app.test_client()
    log_in(owners_client, owner)
    copy = copy_of_the_session(app, owners_client)

    response = post_form(
        admin_client,
        f"/admin/users/{owner.id}/password",
        {f"u{owner.id}-password": "a brand new secret"},
        token_from="/admin/users",
    )

    assert response.status_code == 302
    assert_sent_to_login(owners_client.get("/inbox"))
    assert_sent_to_login(copy.get("/inbox"))
    assert admin_client.get("/admin/users").status_code == 200  # the admin's own stays
    log_in(app.test_client(), owner, "a brand new secret")


def test_an_admin_resetting_their_own_password_ends_their_other_sessions_only(
    app, admin_client, session, admin
):
    copy = copy_of_the_session(app, admin_client)

    post_form(
        admin_client,
        f"/admin/users/{admin.id}/password",
        {f"u{admin.id}-password": "a brand new secret"},
        token_from="/admin/users",
    )

    assert_sent_to_login(copy.get("/inbox"))
    assert admin_client.get("/admin/users").status_code == 200


def test_deactivation_ends_a_session_for_good_even_if_it_was_not_used_meanwhile(
    app, admin_client, session, admin
):
    owner = make_user(session)
    session.commit()
    owners_client = app.test_client()
    log_in(owners_client, owner)
    copy = copy_of_the_session(app, owners_client)

    deactivated = admin_client.post(
        f"/admin/users/{owner.id}/deactivate",
        data={"csrf_token": csrf_token(admin_client, "/admin/users")},
    )
    assert deactivated.status_code == 302
    assert_sent_to_login(owners_client.get("/inbox"))
    # The copy makes no request while the owner is deactivated; reactivating them
    # must not bring it back to life.
    reactivated = admin_client.post(
        f"/admin/users/{owner.id}/reactivate",
        data={"csrf_token": csrf_token(admin_client, "/admin/users")},
    )
    assert reactivated.status_code == 302

    assert_sent_to_login(copy.get("/inbox"))
    log_in(app.test_client(), owner)  # a fresh login works again


def test_every_service_that_changes_a_password_or_deactivates_ends_sessions(app, session, clock):
    owner = make_user(session)
    session.commit()

    versions = [owner.session_version]
    users.set_password(session, owner, "another long secret")
    versions.append(owner.session_version)
    users.deactivate_user(session, owner, now=clock.now())
    versions.append(owner.session_version)
    users.end_sessions(session, owner)
    versions.append(owner.session_version)

    assert versions == sorted(set(versions)), versions  # each one moved it on


def test_a_session_cookie_from_before_session_versions_is_not_accepted(app, session):
    # A cookie holding only the user id (as issued before this change) must not log anyone in.
    owner = make_user(session)
    session.commit()
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(owner.id)
        cookie["_fresh"] = True

    assert_sent_to_login(client.get("/inbox"))


def test_cookies_are_secure_when_base_url_is_https(template_database, tmp_path):
    from tests.conftest import make_test_app

    https_app = make_test_app(
        template_database.copy(), tmp_path / "https", BASE_URL="https://surveys.example"
    )
    http_app = make_test_app(
        template_database.copy(), tmp_path / "http", BASE_URL="http://127.0.0.1:5000"
    )
    try:
        https_cookie = https_app.test_client().get("/login").headers["Set-Cookie"]
        http_cookie = http_app.test_client().get("/login").headers["Set-Cookie"]
    finally:
        https_app.extensions["db"]["engine"].dispose()
        http_app.extensions["db"]["engine"].dispose()

    assert "; Secure" in https_cookie
    assert "HttpOnly" in https_cookie
    assert "; Secure" not in http_cookie  # `make run` on plain http keeps working
    assert https_app.config["REMEMBER_COOKIE_SECURE"] is True
