"""The audit log on /admin/audit: every admin change, who and when, before and after;
filterable by action and by person; never editable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from surveys.models import AuditEntry
from surveys.services.audit import PAGE_SIZE, record_admin_change
from surveys.services.settings import all_settings, page_specs
from tests.factories import make_api_key, make_case, make_user
from tests.pages import page
from tests.web import csrf_token


def entries(response) -> list[dict[str, str]]:
    """The log's rows ([] for the empty log); "What" is split into the action and its target."""
    shown = page(response)
    rows = shown.table_rows() if shown.find("table") else []
    for row in rows:
        row["Action"], _, row["Target"] = row.pop("What").partition(" ")
    return rows


def test_every_admin_change_appears_in_the_audit_log(admin_client, app, session, admin, clock):
    owner = make_user(session, name="Olivia Owner")
    busy = make_user(session, name="Busy Bee")
    make_case(session, owner=busy, now=clock.now())
    session.commit()
    t = csrf_token(admin_client, "/admin/dashboard")
    post = admin_client.post

    # Question sets: a draft save, a publish, the default set, a category override.
    post(
        "/admin/question-sets/heart-to-heart",
        data={"csrf_token": t, "revision": "0", "action": "save", "name": "Renamed"},
    )
    post(
        "/admin/question-sets",
        data={"csrf_token": t, "key": "after-repair", "name": "After a repair"},
    )
    post(
        "/admin/question-sets/after-purchase/default",
        data={"csrf_token": t, "question_set": "fix-check"},
    )
    post(
        "/admin/question-sets/after-purchase/categories",
        data={"csrf_token": t, "category": "repairs", "question_set": "fix-check"},
    )
    # Routing.
    post(
        "/admin/routing/rules",
        data={"csrf_token": t, "field": "sku", "value": "KB-1", "owner_id": owner.id},
    )
    post("/admin/routing/default-owner", data={"csrf_token": t, "owner_id": str(owner.id)})
    # Users: create, reset, deactivate, reactivate; a refused deactivation records nothing.
    post(
        "/admin/users",
        data={
            "csrf_token": t,
            "name": "Nora New",
            "email": "nora@example.com",
            "role": "owner",
            "password": "a long first password",
        },
    )
    post(
        f"/admin/users/{owner.id}/password",
        data={"csrf_token": t, f"u{owner.id}-password": "another long password"},
    )
    post(f"/admin/users/{owner.id}/deactivate", data={"csrf_token": t})
    post(f"/admin/users/{owner.id}/reactivate", data={"csrf_token": t})
    assert post(f"/admin/users/{busy.id}/deactivate", data={"csrf_token": t}).status_code == 409
    # Settings.
    values = all_settings(session)
    settings_form = {spec.key: str(values[spec.key]) for spec in page_specs()}
    post("/admin/settings", data={**settings_form, "csrf_token": t, "throttle_days": "14"})
    # The API.
    _key, raw = make_api_key(session, name="git sync")
    session.commit()
    body = (
        app.test_client()
        .get("/api/v1/question-sets/fix-check", headers={"Authorization": f"Bearer {raw}"})
        .get_json()
    )
    body["questions"] = body["questions"][:1]
    app.test_client().put(
        "/api/v1/question-sets/fix-check", json=body, headers={"Authorization": f"Bearer {raw}"}
    )

    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "question_set.renamed",
        "question_set.draft_saved",
        "question_set.created",
        "setting.changed",
        "question_set.category_assigned",
        "routing_rule.added",
        "setting.changed",
        "user.created",
        "user.password_reset",
        "user.deactivated",
        "user.reactivated",
        "setting.changed",
        "question_set.published",
    ]
    shown = entries(admin_client.get("/admin/audit"))
    assert {row["Who"] for row in shown} == {"API key “git sync”", "Ada Admin"}
    assert [row["Action"] for row in shown] == list(reversed(actions))  # newest first


def test_each_entry_shows_who_what_when_before_and_after(admin_client, session, admin, clock):
    record_admin_change(
        session,
        actor_user=admin,
        action="setting.changed",
        target="setting throttle_days",
        before={"throttle_days": 30},
        after={"throttle_days": 14},
        now=clock.now(),
    )
    session.commit()
    [entry] = entries(admin_client.get("/admin/audit"))
    assert entry == {
        "When": "23 Nov 2026, 09:00 UTC",
        "Who": "Ada Admin",
        "Action": "setting.changed",
        "Target": "setting throttle_days",
        "Before": '{ "throttle_days": 30 }',
        "After": '{ "throttle_days": 14 }',
    }


def test_the_log_filters_by_action_and_by_person(admin_client, session, admin, clock):
    other = make_user(session, role="admin", name="Bea Boss")
    key, _raw = make_api_key(session, name="git sync")
    record_admin_change(
        session,
        actor_user=admin,
        action="setting.changed",
        target="setting a",
        before=None,
        after=None,
        now=clock.now(),
    )
    record_admin_change(
        session,
        actor_user=other,
        action="user.created",
        target="user b",
        before=None,
        after=None,
        now=clock.now(),
    )
    record_admin_change(
        session,
        actor_api_key=key,
        action="question_set.published",
        target="question set c",
        before=None,
        after=None,
        now=clock.now(),
    )
    session.commit()

    def targets(**query) -> list[str]:
        return [
            row["Target"] for row in entries(admin_client.get("/admin/audit", query_string=query))
        ]

    # Newest first; entries made at the same moment, the latest first.
    assert targets() == ["question set c", "user b", "setting a"]
    assert targets(action="user.created") == ["user b"]
    assert targets(actor=f"user-{admin.id}") == ["setting a"]
    assert targets(actor=f"key-{key.id}") == ["question set c"]
    assert targets(action="setting.changed", actor=f"user-{other.id}") == []
    choices = page(admin_client.get("/admin/audit")).options("actor")
    assert choices[f"user-{other.id}"] == "Bea Boss"
    assert choices[f"key-{key.id}"] == "API key “git sync”"


def test_the_log_is_paged_newest_first(admin_client, session, admin, clock):
    for n in range(PAGE_SIZE + 3):
        record_admin_change(
            session,
            actor_user=admin,
            action="setting.changed",
            target=f"entry-{n:03d}",
            before=None,
            after=None,
            now=clock.now() + timedelta(minutes=n),
        )
    session.commit()
    first = page(admin_client.get("/admin/audit"))
    targets = [row["What"].partition(" ")[2] for row in first.table_rows()]
    assert targets == [f"entry-{n:03d}" for n in range(PAGE_SIZE + 2, 2, -1)]
    assert list(first.links(first.by_label("Pages"))) == ["Older →"]
    second = page(admin_client.get("/admin/audit?page=2"))
    targets = [row["What"].partition(" ")[2] for row in second.table_rows()]
    assert targets == ["entry-002", "entry-001", "entry-000"]
    assert list(second.links(second.by_label("Pages"))) == ["← Newer"]


def test_the_log_cannot_be_edited_or_deleted(app, admin_client, session, admin, clock):
    entry = record_admin_change(
        session,
        actor_user=admin,
        action="setting.changed",
        target="setting x",
        before=None,
        after=None,
        now=clock.now(),
    )
    session.commit()
    audit_rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule]
    assert [sorted(rule.methods) for rule in audit_rules] == [["GET", "HEAD", "OPTIONS"]]
    t = csrf_token(admin_client, "/admin/audit")
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = admin_client.open("/admin/audit", method=method, data={"csrf_token": t})
        assert response.status_code == 405
        response = admin_client.open(
            f"/admin/audit/{entry.id}", method=method, data={"csrf_token": t}
        )
        assert response.status_code == 404
    assert session.get(AuditEntry, entry.id).target == "setting x"
