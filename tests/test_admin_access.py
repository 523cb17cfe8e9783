"""Who may use the admin pages: admins only. Owners get 403 on every page and every action,
strangers are sent to log in, and the question-set API listens to API keys, not sessions.

The admin routes are read from the app's URL map, so pages added later are covered too.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveys.models import AuditEntry, QuestionSetVersion, RoutingRule, Setting, User
from tests.factories import make_user
from tests.pages import page
from tests.web import csrf_token, log_in

# A value for each URL argument of the admin routes.
ARGUMENTS = {"key": "heart-to-heart", "direction": "up"}


def admin_routes(app) -> list[tuple[str, str, str]]:
    """(method, path, endpoint) for every admin route."""
    adapter = app.url_map.bind("localhost")
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        values = {name: ARGUMENTS.get(name, 1) for name in rule.arguments}
        path = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path, rule.endpoint))
    return routes


def test_the_admin_pages_of_this_issue_are_all_routed(app):
    endpoints = {endpoint for _method, _path, endpoint in admin_routes(app)}
    assert {
        "admin.show_dashboard",
        "admin.list_question_sets",
        "admin.edit_question_set",
        "admin.save_question_set",
        "admin.preview_question_set",
        "admin.show_question_set_history",
        "admin.show_routing",
        "admin.test_routing",
        "admin.add_routing_rule",
        "admin.list_users",
        "admin.create_user",
        "admin.deactivate_user",
        "admin.show_settings",
        "admin.update_settings",
        "admin.show_audit_log",
    } <= endpoints


def state(session) -> tuple:
    """Counts of what admin actions change, to show that a refused action changed nothing."""
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (AuditEntry, QuestionSetVersion, RoutingRule, Setting, User)
    )


def test_owners_get_403_on_every_admin_page_and_action(app, client, session):
    owner = make_user(session, role="owner")
    session.commit()
    log_in(client, owner)
    token = csrf_token(client, "/inbox")
    before = state(session)
    routes = admin_routes(app)
    for method, path, _endpoint in routes:
        data = {"csrf_token": token} if method != "GET" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (method, path, response.status_code)
    assert state(session) == before
    assert len(routes) >= 20


def test_strangers_are_sent_to_log_in(app, client, session):
    token = csrf_token(client, "/login")
    before = state(session)
    for method, path, _endpoint in admin_routes(app):
        data = {"csrf_token": token} if method != "GET" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code == 302, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/login?next=")
    assert state(session) == before


def test_a_post_without_a_csrf_token_is_refused_even_for_admins(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    log_in(client, admin)
    response = client.post("/admin/settings", data={"throttle_days": "1"})
    assert response.status_code == 400
    response = client.post(
        "/admin/question-sets/heart-to-heart", data={"revision": "0", "action": "add"}
    )
    assert response.status_code == 400
    assert session.scalar(select(func.count(AuditEntry.id))) == 0


def test_admins_can_open_every_admin_page_of_this_issue(client, session):
    admin = make_user(session, role="admin")
    session.commit()
    log_in(client, admin)
    for path in (
        "/admin/",
        "/admin/dashboard",
        "/admin/question-sets",
        "/admin/question-sets/heart-to-heart",
        "/admin/question-sets/heart-to-heart/preview",
        "/admin/question-sets/heart-to-heart/versions",
        "/admin/routing",
        "/admin/users",
        "/admin/settings",
        "/admin/audit",
    ):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, path


def test_the_admin_link_shows_for_admins_only(client, app, session):
    admin = make_user(session, role="admin")
    owner = make_user(session, role="owner")
    session.commit()
    log_in(client, admin)
    assert page(client.get("/inbox")).link("Admin")["href"] == "/admin/dashboard"
    owners_client = app.test_client()
    log_in(owners_client, owner)
    assert "/admin/dashboard" not in page(owners_client.get("/inbox")).links().values()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/question-sets"),
        ("GET", "/api/v1/question-sets/heart-to-heart"),
        ("PUT", "/api/v1/question-sets/heart-to-heart"),
    ],
)
def test_the_question_set_api_wants_a_key_not_a_login(client, session, method, path):
    admin = make_user(session, role="admin")
    session.commit()
    log_in(client, admin)
    response = client.open(path, method=method, json={"questions": []})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_options_lists_the_methods_for_anyone_as_flask_answers_it_without_a_view(client):
    response = client.options("/admin/users")
    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
