"""/admin/api-keys: create a key (shown once, on the answer to the POST only), list keys with
their scope and last use, revoke one (obeyed on the next request). Every change is audited."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from surveys.models import ApiKey, AuditEntry
from tests.factories import make_api_key
from tests.pages import page, text_of
from tests.web import csrf_token

RAW_KEY = re.compile(r"h2h_[A-Za-z0-9_-]{43}")


def token(client) -> str:
    return csrf_token(client, "/admin/api-keys")


def create(client, name: str, scope: str = "write"):
    return client.post(
        "/admin/api-keys", data={"csrf_token": token(client), "name": name, "scope": scope}
    )


def revoke(client, key: ApiKey):
    return client.post(f"/admin/api-keys/{key.id}/revoke", data={"csrf_token": token(client)})


def audit(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_a_new_key_is_shown_once_on_the_answer_to_the_post_and_works(admin_client, admin, session):
    response = create(admin_client, "Helpdesk", scope="read")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "Copy it now: this is the only time we show it." in html
    raw = RAW_KEY.search(html).group(0)
    key = session.scalar(select(ApiKey).where(ApiKey.name == "Helpdesk"))
    assert (key.scope, key.prefix) == ("read", raw[:12])
    # Not kept anywhere the browser sends back or shows again.
    assert raw not in (response.headers.get("Set-Cookie") or "")
    with admin_client.session_transaction() as flask_session:
        assert raw not in repr(dict(flask_session))
    again = admin_client.get("/admin/api-keys").get_data(as_text=True)
    assert raw not in again and key.prefix in again
    # The key itself works, within its scope.
    auth = {"Authorization": f"Bearer {raw}"}
    assert admin_client.get("/api/v1/cases", headers=auth).status_code == 200
    assert admin_client.post("/api/v1/purchases", headers=auth, json={}).status_code == 403
    [entry] = audit(session)
    assert (entry.action, entry.actor_user_id) == ("api_key.created", admin.id)
    assert entry.after == {
        "name": "Helpdesk",
        "prefix": key.prefix,
        "scope": "read",
        "revoked_at": None,
    }
    assert raw not in str(entry.after)


def test_a_key_without_a_name_is_refused_and_nothing_is_made(admin_client, session):
    response = create(admin_client, "   ")

    assert response.status_code == 422
    assert "Give the key a name" in response.get_data(as_text=True)
    assert RAW_KEY.search(response.get_data(as_text=True)) is None
    assert session.scalar(select(func.count(ApiKey.id))) == 0
    assert audit(session) == []


def test_an_unknown_scope_is_refused(admin_client, session):
    response = create(admin_client, "Helpdesk", scope="admin")

    assert response.status_code == 422
    assert session.scalar(select(func.count(ApiKey.id))) == 0


def test_the_list_shows_scope_last_use_and_revoked_keys(admin_client, session, clock):
    used, _raw = make_api_key(session, "Shop")
    used.last_used_at = clock.now() - timedelta(hours=3)
    unused, _raw = make_api_key(session, "Dashboard", scope="read")
    gone, _raw = make_api_key(session, "Old CRM")
    gone.revoked_at = clock.now() - timedelta(days=1)
    session.commit()

    shown = page(admin_client.get("/admin/api-keys"))

    rows = {row["id"]: row for row in shown.table_rows()}
    row = {key.name: rows[f"api-key-{key.id}"] for key in (used, unused, gone)}
    assert (row["Shop"]["Scope"], row["Shop"]["Last used"]) == ("write", "3 hours ago")
    assert (row["Dashboard"]["Scope"], row["Dashboard"]["Last used"]) == ("read", "never")
    assert "revoked" in row["Old CRM"]["Status"]
    assert shown.buttons(shown.by_id(f"api-key-{used.id}")) == ["Revoke “Shop” now"]
    assert shown.buttons(shown.by_id(f"api-key-{gone.id}")) == []
    current = shown.by_label("Admin").find("a", attrs={"aria-current": "page"})
    assert (text_of(current), current["href"]) == ("API keys", "/admin/api-keys")


def test_revoking_refuses_the_key_from_the_next_request_and_is_audited(
    admin_client, admin, session, clock
):
    key, raw = make_api_key(session, "Helpdesk")
    session.commit()
    auth = {"Authorization": f"Bearer {raw}"}
    assert admin_client.get("/api/v1/cases", headers=auth).status_code == 200

    response = revoke(admin_client, key)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/api-keys#api-key-{key.id}"
    assert admin_client.get("/api/v1/cases", headers=auth).status_code == 401
    assert session.get(ApiKey, key.id).revoked_at == clock.now()
    [entry] = audit(session)
    assert (entry.action, entry.actor_user_id) == ("api_key.revoked", admin.id)
    assert entry.target == f"API key “Helpdesk” ({key.prefix}…)"
    page = admin_client.get("/admin/api-keys").get_data(as_text=True)
    assert "Revoked API key “Helpdesk”" in page
    log = admin_client.get("/admin/audit?action=api_key.revoked").get_data(as_text=True)
    assert f"API key “Helpdesk” ({key.prefix}…)" in log and admin.name in log


def test_revoking_twice_says_so_and_audits_once(admin_client, session):
    key, _raw = make_api_key(session, "Helpdesk")
    session.commit()
    revoke(admin_client, key)

    response = revoke(admin_client, key)

    assert response.status_code == 302
    page = admin_client.get("/admin/api-keys").get_data(as_text=True)
    assert "API key “Helpdesk” (" in page and "was already revoked." in page
    assert [entry.action for entry in audit(session)] == ["api_key.revoked"]


def test_revoking_a_key_that_does_not_exist_is_a_404(admin_client):
    response = admin_client.post(
        "/admin/api-keys/999999/revoke", data={"csrf_token": token(admin_client)}
    )

    assert response.status_code == 404


def test_create_and_revoke_need_a_csrf_token(admin_client, session):
    key, raw = make_api_key(session, "Helpdesk")
    session.commit()

    assert admin_client.post("/admin/api-keys", data={"name": "x"}).status_code == 400
    assert admin_client.post(f"/admin/api-keys/{key.id}/revoke").status_code == 400

    assert session.scalar(select(func.count(ApiKey.id))) == 1
    assert session.get(ApiKey, key.id).revoked_at is None
    assert audit(session) == []
