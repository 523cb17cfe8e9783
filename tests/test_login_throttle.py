"""Login throttling (Flask-Limiter): failed attempts are slowed per account and per address.

Every test runs with the limiter's storage in memory and in the local Redis (a key prefix of
its own per test, so runs never see each other's counts), on SQLite and PostgreSQL.
Passwords here are hashed with one PBKDF2 round: checking a wrong one then costs microseconds
instead of scrypt's tenth of a second, and the tests stay quick however many they try.
"""

from __future__ import annotations

import logging
import os
import uuid

import pytest
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from surveys.throttle import ACCOUNT_LIMITS, ADDRESS_LIMITS
from tests.conftest import make_test_app
from tests.factories import make_user
from tests.web import csrf_token

PASSWORD = "the right password"
QUICK_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
WRONG = "That email and password do not match. Please try again."
THROTTLED = "Too many failed attempts to log in"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

# The limits as documented: 5 failures a minute per account, 20 per 5 minutes per address.
PER_ACCOUNT = 5
PER_ADDRESS = 20


def redis_or_skip(url: str):
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at {url} unreachable: {exc}")
    return client


@pytest.fixture(scope="module")
def database_url(template_database) -> str:
    """One database for this module's apps (each test adds people with addresses of its own)."""
    return template_database.copy()


@pytest.fixture
def new_app(database_url, tmp_path):
    """`new_app(**config)`: an app with a limiter of its own, on this module's database."""
    apps = []

    def build(**config):
        app = make_test_app(database_url, tmp_path / f"instance{len(apps)}", **config)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["db"]["engine"].dispose()


@pytest.fixture(params=["memory", "redis"])
def throttled_app(request, new_app):
    """An app whose limiter keeps its counts in memory or in Redis."""
    prefix = f"h2h-test-{uuid.uuid4().hex}"
    storage = "memory://" if request.param == "memory" else REDIS_URL
    redis_client = redis_or_skip(REDIS_URL) if request.param == "redis" else None
    yield new_app(RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=prefix)
    if redis_client is not None:
        for key in redis_client.scan_iter(match=f"*{prefix}*"):
            redis_client.delete(key)


def add_person(app, name: str = "olivia") -> str:
    """A person whose password is PASSWORD; returns their (unique) email address."""
    email = f"{name}.{uuid.uuid4().hex[:10]}@shop.example"
    with app.extensions["db"]["sessionmaker"]() as session:
        user = make_user(session, email=email)
        user.password_hash = QUICK_HASH
        session.commit()
    return email


def client_from(app, address: str, **environ) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, **environ})
    return client


def attempt(client: FlaskClient, email: str, password: str):
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")},
    )


def assert_throttled(response) -> None:
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 5 * 60
    html = response.get_data(as_text=True)
    assert THROTTLED in html
    # The login form again, not a bare error page.
    assert 'name="email"' in html and 'name="password"' in html and 'name="csrf_token"' in html


def test_the_documented_limits_are_the_ones_in_force():
    assert ACCOUNT_LIMITS.startswith(f"{PER_ACCOUNT} per minute")
    assert ADDRESS_LIMITS == f"{PER_ADDRESS} per 5 minutes"


def test_wrong_passwords_for_one_account_answer_429_after_five(throttled_app):
    olivia = add_person(throttled_app)
    client = client_from(throttled_app, "10.0.0.1")

    statuses = [attempt(client, olivia, f"guess {n}").status_code for n in range(PER_ACCOUNT + 1)]

    assert statuses == [200] * PER_ACCOUNT + [429]
    response = attempt(client, olivia, "guess 7")
    assert_throttled(response)
    assert olivia in response.get_data(as_text=True)  # the form keeps the email


def test_the_right_password_waits_too_while_the_account_is_throttled(throttled_app):
    olivia = add_person(throttled_app)
    attacker = client_from(throttled_app, "10.0.0.1")
    for n in range(PER_ACCOUNT):
        attempt(attacker, olivia, f"guess {n}")

    response = attempt(attacker, olivia, PASSWORD)

    assert_throttled(response)
    assert attacker.get("/inbox").status_code == 302  # not logged in


def test_the_account_is_counted_whatever_the_case_and_spaces_of_the_email(throttled_app):
    olivia = add_person(throttled_app)
    client = client_from(throttled_app, "10.0.0.1")
    spellings = [olivia, olivia.upper(), f"  {olivia.title()} "]

    for n in range(PER_ACCOUNT):
        attempt(client, spellings[n % 3], f"guess {n}")

    assert_throttled(attempt(client, olivia.capitalize(), "guess"))


def test_an_account_throttled_from_anywhere_stays_throttled_from_another_address(throttled_app):
    olivia = add_person(throttled_app)
    for n in range(PER_ACCOUNT):
        attempt(client_from(throttled_app, f"10.0.1.{n}"), olivia, f"guess {n}")

    assert_throttled(attempt(client_from(throttled_app, "10.0.2.1"), olivia, "guess"))


def test_other_accounts_log_in_while_one_is_throttled(throttled_app):
    olivia, oscar = add_person(throttled_app), add_person(throttled_app, "oscar")
    attacker = client_from(throttled_app, "10.0.0.1")
    for n in range(PER_ACCOUNT + 3):
        attempt(attacker, olivia, f"guess {n}")

    same_address = client_from(throttled_app, "10.0.0.1")
    elsewhere = client_from(throttled_app, "10.0.0.2")

    assert attempt(same_address, oscar, PASSWORD).status_code == 302
    assert attempt(elsewhere, oscar, PASSWORD).status_code == 302


def fail_from_one_address(client: FlaskClient, people: list[str]) -> list[int]:
    """PER_ADDRESS wrong passwords spread over `people`: under each account's limit."""
    return [
        attempt(client, people[n % len(people)], f"guess {n}").status_code
        for n in range(PER_ADDRESS)
    ]


def test_twenty_failures_from_one_address_throttle_that_address_only(throttled_app):
    people = [add_person(throttled_app, f"owner{n}") for n in range(5)]
    attacker = client_from(throttled_app, "10.0.0.1")

    assert fail_from_one_address(attacker, people) == [200] * PER_ADDRESS

    assert_throttled(attempt(attacker, people[0], PASSWORD))
    assert_throttled(attempt(client_from(throttled_app, "10.0.0.1"), people[1], PASSWORD))
    assert attempt(client_from(throttled_app, "10.0.0.2"), people[2], PASSWORD).status_code == 302


def test_successful_logins_are_never_counted(throttled_app):
    olivia = add_person(throttled_app)

    statuses = [
        attempt(client_from(throttled_app, "10.0.0.1"), olivia, PASSWORD).status_code
        for _ in range(PER_ACCOUNT * 2 + 1)
    ]

    assert statuses == [302] * (PER_ACCOUNT * 2 + 1)


def test_the_rest_of_the_app_is_not_throttled(throttled_app):
    people = [add_person(throttled_app, f"owner{n}") for n in range(5)]
    client = client_from(throttled_app, "10.0.0.1")
    fail_from_one_address(client, people)

    # The login page itself and other pages answer as usual, without limit headers; the API
    # answers as usual too, within its own limit (it counts requests, not failed logins).
    pages = [client.get("/login") for _ in range(50)]
    pages.append(client.get("/s/no-such-token"))
    api = [client.get("/api/v1/cases") for _ in range(50)]

    assert {r.status_code for r in pages} == {200, 404}
    assert not any("X-RateLimit-Limit" in r.headers for r in pages)
    assert {r.status_code for r in api} == {401}
    assert attempt(client, people[0], PASSWORD).status_code == 429  # the login still is


def test_each_failed_attempt_is_logged_with_the_email_and_address_never_the_password(
    throttled_app, caplog
):
    olivia = add_person(throttled_app)
    client = client_from(throttled_app, "10.0.0.9")

    with caplog.at_level(logging.INFO):
        for n in range(PER_ACCOUNT + 1):
            attempt(client, olivia, f"secret-guess-{n}")

    failed = [r for r in caplog.records if "Failed login" in r.getMessage()]
    throttled = [r for r in caplog.records if "throttled" in r.getMessage()]
    assert len(failed) == PER_ACCOUNT and len(throttled) == 1
    assert all(r.levelno == logging.WARNING for r in failed + throttled)
    assert all(
        olivia in r.getMessage() and "10.0.0.9" in r.getMessage() for r in failed + throttled
    )
    assert "secret-guess" not in caplog.text


def test_an_unreachable_throttle_storage_does_not_stop_logins(new_app):
    # Nothing listens on the discard port: the limiter falls back to counting in memory.
    app = new_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    olivia = add_person(app)
    client = client_from(app, "10.0.0.1")

    assert attempt(client, olivia, "wrong").status_code == 200
    assert attempt(client, olivia, PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_each_client_address_is_counted_apart(new_app):
    app = new_app(TRUSTED_PROXIES=1)
    people = [add_person(app, f"owner{n}") for n in range(5)]
    attacker = client_from(app, "10.0.0.254", HTTP_X_FORWARDED_FOR="203.0.113.7")
    fail_from_one_address(attacker, people)
    assert_throttled(attempt(attacker, people[0], PASSWORD))

    # Through the same proxy, another client logs in.
    colleague = client_from(app, "10.0.0.254", HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert attempt(colleague, people[1], PASSWORD).status_code == 302


def test_without_a_trusted_proxy_x_forwarded_for_cannot_dodge_the_limit(new_app):
    app = new_app()
    people = [add_person(app, f"owner{n}") for n in range(5)]
    for n in range(PER_ADDRESS):
        client = client_from(app, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        attempt(client, people[n % 5], "wrong")

    fresh_header = client_from(app, "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert_throttled(attempt(fresh_header, people[0], PASSWORD))
