"""Users on /admin/users: create, reset a password, deactivate (not while owning open cases),
reactivate, and each person's workload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from surveys.models import AuditEntry, User
from surveys.services.users.accounts import password_matches
from tests.factories import make_case, make_user
from tests.pages import page
from tests.web import csrf_token, log_in


def token(client) -> str:
    return csrf_token(client, "/admin/users")


def test_an_admin_creates_an_owner_who_can_then_log_in(admin_client, app, session, admin):
    response = admin_client.post(
        "/admin/users",
        data={
            "csrf_token": token(admin_client),
            "name": "Olivia Owner",
            "email": "Olivia@Example.com",
            "role": "owner",
            "password": "a long first password",
        },
    )
    assert response.status_code == 302
    olivia = session.scalar(select(User).where(User.email == "olivia@example.com"))
    assert (olivia.name, olivia.role, olivia.active) == ("Olivia Owner", "owner", True)
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.target, entry.actor_user_id) == (
        "user.created",
        "user olivia@example.com",
        admin.id,
    )
    assert entry.after == {
        "email": "olivia@example.com",
        "name": "Olivia Owner",
        "role": "owner",
        "active": True,
    }
    assert "password" not in str(entry.after)
    log_in(app.test_client(), "olivia@example.com", "a long first password")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short"}, "at least 10 characters"),
        ({"email": "not-an-email"}, "is not a valid email address"),
        (
            {"email": "taken@example.com"},
            "There is already a user with the email taken@example.com.",
        ),
        ({"name": ""}, "Give their name."),
    ],
)
def test_a_login_that_cannot_be_created_is_refused(admin_client, session, fields, message):
    make_user(session, email="taken@example.com")
    session.commit()
    data = {
        "csrf_token": token(admin_client),
        "name": "Nora New",
        "email": "nora@example.com",
        "role": "owner",
        "password": "a long first password",
        **fields,
    }
    response = admin_client.post("/admin/users", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.name == "Nora New")) is None
    assert session.scalar(select(AuditEntry)) is None


def test_an_admin_resets_a_password(admin_client, session, admin):
    owner = make_user(session, name="Olivia Owner")
    session.commit()
    response = admin_client.post(
        f"/admin/users/{owner.id}/password",
        data={"csrf_token": token(admin_client), f"u{owner.id}-password": "a brand new password"},
    )
    assert response.status_code == 302
    session.refresh(owner)
    assert password_matches(owner, "a brand new password")
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.before, entry.after) == ("user.password_reset", None, None)

    too_short = admin_client.post(
        f"/admin/users/{owner.id}/password",
        data={"csrf_token": token(admin_client), f"u{owner.id}-password": "short"},
    )
    assert too_short.status_code == 422
    assert "at least 10 characters" in too_short.get_data(as_text=True)
    session.refresh(owner)
    assert password_matches(owner, "a brand new password")


def test_deactivation_is_refused_while_they_own_open_cases(admin_client, session, clock):
    owner = make_user(session, name="Olivia Owner")
    case = make_case(session, owner=owner, now=clock.now())
    session.commit()
    response = admin_client.post(
        f"/admin/users/{owner.id}/deactivate", data={"csrf_token": token(admin_client)}
    )
    assert response.status_code == 409
    assert "Olivia Owner still owns 1 case that is not closed." in response.get_data(as_text=True)
    session.refresh(owner)
    assert owner.active
    assert session.scalar(select(AuditEntry)) is None

    case.status = "closed"
    session.commit()
    response = admin_client.post(
        f"/admin/users/{owner.id}/deactivate", data={"csrf_token": token(admin_client)}
    )
    assert response.status_code == 302
    session.refresh(owner)
    assert not owner.active


def test_a_deactivated_person_cannot_log_in_until_reactivated(admin_client, app, session, admin):
    owner = make_user(session, email="olivia@shop.test")
    session.commit()
    admin_client.post(
        f"/admin/users/{owner.id}/deactivate", data={"csrf_token": token(admin_client)}
    )
    stranger = app.test_client()
    refused = stranger.post(
        "/login",
        data={
            "csrf_token": csrf_token(stranger, "/login"),
            "email": "olivia@shop.test",
            "password": "correct horse battery",
        },
    )
    assert refused.status_code == 200  # the login form again, with its error
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "deactivated" in page and "Reactivate" in page

    assert (
        admin_client.post(
            f"/admin/users/{owner.id}/reactivate", data={"csrf_token": token(admin_client)}
        ).status_code
        == 302
    )
    log_in(app.test_client(), owner)
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["user.deactivated", "user.reactivated"]
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].before["active"] is True and entries[0].after["active"] is False


def test_the_last_active_admin_cannot_be_deactivated(admin_client, session, admin):
    response = admin_client.post(
        f"/admin/users/{admin.id}/deactivate", data={"csrf_token": token(admin_client)}
    )
    assert response.status_code == 409
    assert "the only active admin" in response.get_data(as_text=True)
    session.refresh(admin)
    assert admin.active


def test_each_persons_open_and_overdue_cases_are_shown(admin_client, session, clock):
    owner = make_user(session, name="Olivia Owner")
    make_case(session, owner=owner, now=clock.now() - timedelta(hours=5))  # past acknowledge-by
    make_case(session, owner=owner, now=clock.now(), status="acknowledged")
    make_case(session, owner=owner, now=clock.now(), status="closed")
    session.commit()
    shown = page(admin_client.get("/admin/users"))
    row = {row["id"]: row for row in shown.table_rows()}[f"user-{owner.id}"]
    assert (row["Open cases"], row["Overdue"]) == ("2", "1")
    overdue = shown.one('td[data-label="Overdue"]', shown.by_id(f"user-{owner.id}"))
    assert "overdue" in overdue["class"]
