"""`flask users create` and `flask api-keys create`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from surveys.models import ApiKey, User
from surveys.services.users import accounts as users
from surveys.services.users.accounts import UserError
from surveys.services.users.api_keys import find_live_api_key
from tests.factories import make_user
from tests.web import log_in


def user_count(session) -> int:
    return session.scalar(select(func.count(User.id)))


def create(runner, *args, **kwargs):
    return runner.invoke(args=["users", "create", *args], **kwargs)


def test_users_create_makes_a_login_that_works(runner, client, session):
    result = create(
        runner,
        "Olivia@Shop.Example",
        "--name",
        "Olivia Owen",
        "--role",
        "owner",
        "--password",
        "a long enough secret",
    )

    assert result.exit_code == 0, result.output
    assert "Created owner Olivia Owen <olivia@shop.example>." in result.output
    user = session.scalar(select(User).where(User.email == "olivia@shop.example"))
    assert (user.name, user.role, user.active) == ("Olivia Owen", "owner", True)
    assert "a long enough secret" not in user.password_hash
    log_in(client, "olivia@shop.example", "a long enough secret")


def test_users_create_asks_for_the_password_when_it_is_left_out(runner, session):
    result = create(
        runner,
        "ada@shop.example",
        "--name",
        "Ada Admin",
        "--role",
        "admin",
        input="a long enough secret\na long enough secret\n",
    )

    assert result.exit_code == 0, result.output
    assert "a long enough secret" not in result.output
    assert users.authenticate(session, "ada@shop.example", "a long enough secret").is_admin


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["not-an-address", "--name", "X", "--role", "owner", "--password", "long enough pw"],
            "is not a valid email address",
        ),
        (
            ["olivia@shop.example", "--name", "Olivia", "--role", "owner", "--password", "short"],
            "The password must be at least 10 characters long.",
        ),
        (
            [
                "olivia@shop.example",
                "--name",
                "Olivia",
                "--role",
                "boss",
                "--password",
                "long pw 123",
            ],
            "The role must be “admin” or “owner”, not “boss”.",
        ),
        (
            ["olivia@shop.example", "--name", "Olivia", "--password", "long enough pw"],
            "The role must be “admin” or “owner”",
        ),
        (
            [
                "olivia@shop.example",
                "--name",
                "  ",
                "--role",
                "owner",
                "--password",
                "long enough pw",
            ],
            "Give the person's name.",
        ),
        (
            [
                "taken@shop.example",
                "--name",
                "Twin",
                "--role",
                "owner",
                "--password",
                "long enough pw",
            ],
            "There is already a user with the email taken@shop.example.",
        ),
        (
            [
                "TAKEN@shop.example",
                "--name",
                "Twin",
                "--role",
                "owner",
                "--password",
                "long enough pw",
            ],
            "There is already a user with the email taken@shop.example.",
        ),
    ],
)
def test_users_create_refuses_bad_input_with_exit_code_1_and_writes_nothing(
    runner, session, args, message
):
    make_user(session, email="taken@shop.example")
    session.commit()
    before = user_count(session)

    result = create(runner, *args)

    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert user_count(session) == before


def test_api_keys_create_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(
    runner, session
):
    result = runner.invoke(args=["api-keys", "create", "Helpdesk"])

    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("h2h_") and " " not in raw and len(raw) > 40
    key = session.scalar(select(ApiKey).where(ApiKey.name == "Helpdesk"))
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (key.name, key.key_hash, key.prefix)
    assert raw.startswith(key.prefix)
    assert find_live_api_key(session, raw).id == key.id
    assert key.scope == "write"


def test_two_api_keys_are_different(runner):
    first = runner.invoke(args=["api-keys", "create", "Helpdesk"]).output.strip().splitlines()[-1]
    second = runner.invoke(args=["api-keys", "create", "CRM"]).output.strip().splitlines()[-1]

    assert first != second


def test_api_keys_create_refuses_a_blank_name(runner, session):
    result = runner.invoke(args=["api-keys", "create", "   "])

    assert result.exit_code == 1
    assert "Error: Give the API key a name" in result.output
    assert session.scalar(select(func.count(ApiKey.id))) == 0


def test_create_user_in_the_service_names_each_problem(session):
    now = datetime.now(UTC)
    with pytest.raises(UserError, match="not a valid email address"):
        users.create_user(
            session, email="", name="X", role="owner", password="long enough pw", now=now
        )
    with pytest.raises(UserError, match="longer than 200 characters"):
        users.create_user(
            session,
            email="a@shop.example",
            name="x" * 201,
            role="owner",
            password="long enough pw",
            now=now,
        )

    user = users.create_user(
        session,
        email=" Ana@Shop.Example ",
        name=" Ana ",
        role="admin",
        password="long enough pw",
        now=now,
    )
    assert (user.email, user.name) == ("ana@shop.example", "Ana")
