"""API keys: `flask api-keys create|list|revoke`, revocation obeyed on the next request,
and "last use" written at most about once a minute per key."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, update

from surveys.models import ApiKey, AuditEntry
from tests.factories import make_api_key


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def basic(raw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{raw}:".encode()).decode()}


def api_keys(runner, *args: str):
    return runner.invoke(args=["api-keys", *args])


def key_named(session, name: str) -> ApiKey:
    return session.scalar(select(ApiKey).where(ApiKey.name == name))


def audit_actions(session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- revocation is obeyed at once ------------------------------------------------------------


def test_a_key_revoked_by_another_process_is_refused_on_the_next_api_request(client, session):
    key, raw = make_api_key(session)
    session.commit()
    assert client.get("/api/v1/cases", headers=bearer(raw)).status_code == 200

    # Another web process (or `flask api-keys revoke`) writes the revocation.
    session.execute(update(ApiKey).where(ApiKey.id == key.id).values(revoked_at=func.now()))
    session.commit()

    response = client.get("/api/v1/cases", headers=bearer(raw))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_a_key_revoked_on_the_command_line_is_refused_by_the_delighted_endpoints(
    client, runner, session
):
    _key, raw = make_api_key(session, "delighted")
    session.commit()
    assert client.get("/v1/bounces.json", headers=basic(raw)).status_code == 200

    assert api_keys(runner, "revoke", "delighted").exit_code == 0

    response = client.get("/v1/bounces.json", headers=basic(raw))
    assert response.status_code == 401
    assert response.get_json()["status"] == 401


# --- the command line --------------------------------------------------------------------------


def test_create_with_a_read_scope_makes_a_read_key_and_says_so(runner, session):
    result = api_keys(runner, "create", "Dashboard", "--scope", "read")

    assert result.exit_code == 0, result.output
    assert "(read)" in result.output
    assert key_named(session, "Dashboard").scope == "read"
    assert audit_actions(session) == ["api_key.created"]


def test_create_refuses_an_unknown_scope_and_writes_nothing(runner, session):
    result = api_keys(runner, "create", "Dashboard", "--scope", "admin")

    assert result.exit_code == 2
    assert "'admin' is not one of 'read', 'write'" in result.output
    assert session.scalar(select(func.count(ApiKey.id))) == 0


def test_list_shows_name_prefix_scope_created_last_use_and_revoked(runner, session, clock):
    shop, _raw = make_api_key(session, "Shop")
    shop.created_at = clock.now() - timedelta(days=2)
    shop.last_used_at = clock.now() - timedelta(hours=1)
    old, _raw = make_api_key(session, "Old CRM", scope="read")
    old.created_at = clock.now() - timedelta(days=9)
    old.revoked_at = clock.now() - timedelta(days=1)
    session.commit()

    result = api_keys(runner, "list")

    assert result.exit_code == 0, result.output
    header, first, second = result.output.splitlines()
    assert header.split() == ["NAME", "PREFIX", "SCOPE", "CREATED", "LAST", "USE", "REVOKED"]
    assert first.split() == [
        "Shop",
        f"{shop.prefix}…",
        "write",
        *"2026-11-21 09:00 UTC".split(),
        *"2026-11-23 08:00 UTC".split(),
        "no",
    ]
    assert second.split() == [
        "Old",
        "CRM",
        f"{old.prefix}…",
        "read",
        *"2026-11-14 09:00 UTC".split(),
        "never",
        *"2026-11-22 09:00 UTC".split(),
    ]


def test_list_says_when_there_are_no_keys(runner):
    result = api_keys(runner, "list")

    assert result.exit_code == 0
    assert "No API keys yet" in result.output


@pytest.mark.parametrize("how", ["name", "name in other case", "prefix", "prefix…", "whole key"])
def test_revoke_finds_the_key_by_name_prefix_or_the_key_itself(client, runner, session, how):
    key, raw = make_api_key(session, "Helpdesk")
    make_api_key(session, "CRM")
    session.commit()
    argument = {
        "name": "Helpdesk",
        "name in other case": "helpdesk",
        "prefix": key.prefix,
        "prefix…": f"{key.prefix}…",
        "whole key": raw,
    }[how]

    result = api_keys(runner, "revoke", argument)

    assert result.exit_code == 0, result.output
    assert f"Revoked API key “Helpdesk” ({key.prefix}…)" in result.output
    assert key_named(session, "Helpdesk").revoked_at is not None
    assert key_named(session, "CRM").revoked_at is None
    assert client.get("/api/v1/cases", headers=bearer(raw)).status_code == 401
    assert audit_actions(session) == ["api_key.revoked"]
    entry = session.scalar(select(AuditEntry))
    assert entry.actor_user_id is None
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"]


def test_revoke_refuses_when_no_key_matches(runner, session):
    make_api_key(session, "Helpdesk")
    session.commit()

    result = api_keys(runner, "revoke", "Help")

    assert result.exit_code == 1
    assert "Error: No API key has the name or prefix “Help”" in result.output
    assert session.scalar(select(func.count()).where(ApiKey.revoked_at.is_not(None))) == 0


def test_revoke_refuses_a_name_that_several_keys_share_and_lists_them(runner, session):
    first, _raw = make_api_key(session, "Shop")
    second, _raw = make_api_key(session, "shop")
    session.commit()

    result = api_keys(runner, "revoke", "Shop")

    assert result.exit_code == 1
    assert "Error: 2 API keys match “Shop”" in result.output
    assert first.prefix in result.output and second.prefix in result.output
    assert "Give the prefix instead." in result.output
    assert session.scalar(select(func.count()).where(ApiKey.revoked_at.is_not(None))) == 0
    assert audit_actions(session) == []


def test_revoking_an_already_revoked_key_says_so_and_changes_nothing(runner, session, clock):
    key, _raw = make_api_key(session, "Helpdesk")
    key.revoked_at = clock.now() - timedelta(days=3)
    session.commit()

    result = api_keys(runner, "revoke", "Helpdesk")

    assert result.exit_code == 0
    assert "was already revoked on 2026-11-20 09:00 UTC" in result.output
    assert key_named(session, "Helpdesk").revoked_at == clock.now() - timedelta(days=3)
    assert audit_actions(session) == []


# --- last use ----------------------------------------------------------------------------------


@pytest.fixture
def key_updates(app):
    """The UPDATE statements sent to api_keys while the test runs."""
    statements: list[str] = []
    engine = app.extensions["db"]["engine"]

    def collect(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", collect)
    yield statements
    event.remove(engine, "before_cursor_execute", collect)


def test_last_use_is_written_at_most_once_a_minute_per_key(client, session, clock, key_updates):
    key, raw = make_api_key(session)
    session.commit()
    key_updates.clear()
    first_use = clock.now()

    for _ in range(5):
        assert client.get("/api/v1/cases", headers=bearer(raw)).status_code == 200
        clock.advance(seconds=10)
    assert len(key_updates) == 1
    assert key_named(session, key.name).last_used_at == first_use

    clock.advance(seconds=10)  # a minute after the first use
    assert client.post("/api/v1/purchases", headers=bearer(raw), json={}).status_code == 422
    assert len(key_updates) == 2
    assert key_named(session, key.name).last_used_at == first_use + timedelta(minutes=1)


def test_a_refused_key_writes_nothing(client, session, key_updates):
    key, raw = make_api_key(session)
    key.revoked_at = key.created_at
    session.commit()
    key_updates.clear()

    assert client.get("/api/v1/cases", headers=bearer(raw)).status_code == 401
    assert client.get("/api/v1/cases", headers=bearer("h2h_not-a-key")).status_code == 401
    assert key_updates == []
    assert key_named(session, key.name).last_used_at is None


def test_last_use_is_kept_even_when_the_request_then_fails(client, session, clock):
    key, raw = make_api_key(session)
    session.commit()

    response = client.post("/api/v1/purchases", headers=bearer(raw), json={"order_id": ""})

    assert response.status_code == 422
    assert key_named(session, key.name).last_used_at == clock.now()
