"""Crafted query strings and loose form values on the people's pages: a page or a 4xx, never a 500.

`?page=99999999999999999999` shows the last page and `?page=-1` the first; filters
holding NUL, an invalid UTF-8 sequence, ten thousand characters or a number past
what the database holds are refused or ignored; `next=` never leaves the site.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from surveys.models import OutboxMessage
from surveys.outbox import admin as outbox_admin
from surveys.services import audit
from surveys.services.audit import record_admin_change
from surveys.services.question_sets import drafts
from surveys.services.question_sets.versions import get_question_set
from surveys.web_input import MAX_PAGE, page_number
from tests.database_state import all_rows
from tests.factories import (
    PASSWORD,
    make_due_surveys,
    make_user,
)
from tests.pages import Page
from tests.routes import MACHINE_PREFIXES, make_world, path_for, route_table, rule_for
from tests.web import csrf_token, editor_form_data, log_in

PAST_THE_END = ["99999999999999999999", str(10**6), str(2**62), "9" * 5000]
NOT_A_PAGE = ["-1", "0", "abc", "1e3", "", "²", "٣", "\x00", " 2", "2.5"]


@pytest.fixture
def world(session, clock, admin):
    """An admin (logged in by the tests), an owner, an open case, a customer, a sent survey."""
    return make_world(session, admin=admin, now=clock.now())


# --- the shared helper ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, 1),
        ("3", 3),
        ("007", 7),
        *((text, 1) for text in NOT_A_PAGE),
        *((text, MAX_PAGE) for text in PAST_THE_END),
    ],
)
def test_a_page_number_is_a_whole_number_from_one_to_the_limit(text, expected):
    assert page_number({"page": text} if text is not None else {}) == expected


# --- the paged lists -----------------------------------------------------------------------


@pytest.fixture
def long_audit_log(session, admin, clock):
    """Two pages and a bit of audit entries: entry-000 is the oldest, on the last page."""
    for n in range(audit.PAGE_SIZE + 3):
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


@pytest.mark.parametrize("page", PAST_THE_END)
def test_a_page_past_the_end_of_the_audit_log_shows_its_last_page(
    admin_client, long_audit_log, page
):
    response = admin_client.get("/admin/audit", query_string={"page": page})
    shown = Page(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "entry-000" in shown.text
    assert shown.links(shown.by_label("Pages")) == {"← Newer": "/admin/audit?page=1"}


@pytest.mark.parametrize("page", NOT_A_PAGE)
def test_a_page_that_is_not_a_page_number_shows_the_first_page_of_the_audit_log(
    admin_client, long_audit_log, page
):
    response = admin_client.get("/admin/audit", query_string={"page": page})
    shown = Page(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f"entry-{audit.PAGE_SIZE + 2:03d}" in shown.text
    assert list(shown.links(shown.by_label("Pages"))) == ["Older →"]


@pytest.fixture
def long_outbox(session, clock):
    make_due_surveys(session, outbox_admin.PAGE_SIZE + 3, now=clock.now())
    session.commit()


@pytest.mark.parametrize("page", PAST_THE_END)
def test_a_page_past_the_end_of_the_outbox_shows_its_last_page(admin_client, long_outbox, page):
    response = admin_client.get("/admin/outbox", query_string={"page": page})
    shown = Page(response.get_data(as_text=True))
    assert response.status_code == 200
    assert list(shown.links(shown.by_label("Pages"))) == ["← Previous"]
    # The retry and cancel buttons bring the admin back to this page.
    assert {field["value"] for field in shown.all('input[type="hidden"][name="page"]')} == {"2"}


@pytest.mark.parametrize("page", NOT_A_PAGE)
def test_a_page_that_is_not_a_page_number_shows_the_first_page_of_the_outbox(
    admin_client, long_outbox, page
):
    response = admin_client.get("/admin/outbox", query_string={"page": page})
    shown = Page(response.get_data(as_text=True))
    assert response.status_code == 200
    assert list(shown.links(shown.by_label("Pages"))) == ["Next →"]


def test_the_outbox_goes_back_to_a_page_that_exists_after_a_retry(
    admin_client, session, long_outbox
):
    token = csrf_token(admin_client, "/admin/outbox")
    response = admin_client.post(
        "/admin/outbox/999999/retry",
        data={"csrf_token": token, "status": "waiting", "page": "99999999999999999999"},
    )
    assert response.status_code == 404  # no such message; nothing to go back from
    response = admin_client.post(
        f"/admin/outbox/{_first_message_id(session)}/cancel",
        data={"csrf_token": token, "status": "\x00", "page": "99999999999999999999"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/outbox?page={MAX_PAGE}"
    assert admin_client.get(response.headers["Location"]).status_code == 200


def _first_message_id(session) -> int:
    return session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).first()


# --- filters and other query strings of every page -----------------------------------------

# Names of every query argument a page reads, and some it does not.
ARGUMENT_NAMES = [
    "page",
    "per_page",
    "limit",
    "offset",
    "status",
    "owner",
    "action",
    "actor",
    "version",
    "variant",
    "a",
    "next",
    "case",
    "email",
    "category",
    "sku",
    "total",
    "q",
    "r",
    "since",
    "until",
    "from",
    "to",
    "_external",
    "_scheme",
    "endpoint",
]
# Already percent-encoded, as a browser or a script would send them.
HOSTILE_VALUES = {
    "nul": "a%00b",
    "invalid-utf8": "%ED%A0%80",
    "huge-number": "9" * 30,
    "negative": "-1",
    "long": "x" * 10_000,
    "other-digits": quote("²٣"),
    "crlf": "%0D%0ASet-Cookie:%20x=1",
}


PAGE_ROUTES = [
    path
    for path, method in route_table(lambda rule: not rule.rule.startswith(MACHINE_PREFIXES))
    if method == "GET"
]


def test_the_table_of_pages_holds_the_lists_and_the_survey():
    assert {"/admin/audit", "/admin/outbox", "/inbox", "/login", "/s/<token>"} <= set(PAGE_ROUTES)


@pytest.mark.parametrize("rule_path", PAGE_ROUTES)
def test_no_query_string_makes_a_page_answer_500(app, client, world, rule_path):
    log_in(client, world.admin)
    path = path_for(rule_for(app, rule_path, "GET"), world)
    for kind, value in HOSTILE_VALUES.items():
        query = "&".join(f"{name}={value}" for name in ARGUMENT_NAMES)
        response = client.get(f"{path}?{query}")
        response.get_data()  # a streamed export runs to its end, as a browser would read it
        response.close()
        assert response.status_code < 500, (path, kind, response.status_code)
        assert "x=1" not in response.headers.get("Set-Cookie", ""), (path, kind)


@pytest.mark.parametrize("kind", HOSTILE_VALUES)
def test_the_pager_links_of_the_audit_log_carry_only_its_filters(
    admin_client, long_audit_log, kind
):
    value = HOSTILE_VALUES[kind]
    response = admin_client.get(
        f"/admin/audit?_external=1&_scheme=javascript&endpoint={value}&x={value}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert Page(html).links(Page(html).by_label("Pages")) == {"Older →": "/admin/audit?page=2"}
    assert "javascript:" not in html


@pytest.mark.parametrize(
    "actor", ["user-²", "user-99999999999999999999", "key-\x00", "user-", "-1", "user-1-2"]
)
def test_an_audit_actor_that_can_name_nobody_is_refused_beside_the_filter(
    admin_client, long_audit_log, actor
):
    response = admin_client.get("/admin/audit", query_string={"actor": actor})
    shown = Page(response.get_data(as_text=True))
    assert response.status_code == 422
    assert len(shown.field_errors("actor")) == 1
    assert shown.find("table") is None and "entry-" not in shown.text


def test_an_audit_action_with_a_nul_byte_is_refused_beside_the_filter(admin_client, long_audit_log):
    response = admin_client.get("/admin/audit", query_string={"action": "setting.changed\x00"})
    assert response.status_code == 422
    [error] = Page(response.get_data(as_text=True)).field_errors("action")
    assert error.startswith("This field must not contain NUL")


@pytest.mark.parametrize("case_arg", ["99999999999999999999", "-1", "²", "\x00", str(2**31)])
def test_a_customer_note_with_a_strange_case_to_return_to_goes_back_to_the_profile(
    client, session, world, case_arg
):
    log_in(client, world.admin)
    token = csrf_token(client, f"/customers/{world.customer.id}")
    response = client.post(
        f"/customers/{world.customer.id}/notes",
        query_string={"case": case_arg},
        data={"csrf_token": token, "body": "Loves fountain pens."},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/customers/{world.customer.id}"


@pytest.mark.parametrize(
    "chosen", [["²"], ["99999999999999999999"], ["\x00"], [str(2**31)], ["-1"], ["1.0"]]
)
def test_inviting_neglected_customers_that_cannot_exist_changes_nothing(
    client, session, world, chosen
):
    log_in(client, world.admin)
    token = csrf_token(client, "/admin/neglected")
    before = all_rows(session)
    response = client.post(
        "/admin/neglected/invite", data={"csrf_token": token, "customer_ids": chosen}
    )
    assert response.status_code == 422
    assert all_rows(session) == before


@pytest.mark.parametrize(
    "action", ["remove-²", "up-99999999999999999999", "down-\x00", "remove--1"]
)
def test_an_editor_button_naming_no_question_moves_or_removes_nothing(
    client, session, world, action
):
    log_in(client, world.admin)
    token = csrf_token(client, "/admin/question-sets/heart-to-heart")
    question_set = get_question_set(session, "heart-to-heart")
    keys_before = [q["key"] for q in drafts.editor_document(session, question_set)]
    data = {**editor_form_data(session, "heart-to-heart"), "action": action, "csrf_token": token}
    response = client.post("/admin/question-sets/heart-to-heart", data=data)
    assert response.status_code == 302
    question_set = get_question_set(session, "heart-to-heart")
    assert [q["key"] for q in drafts.editor_document(session, question_set)] == keys_before


@pytest.mark.parametrize("revision", ["99999999999999999999", str(2**31), "-1", "²"])
def test_a_draft_revision_the_editor_never_wrote_is_a_bad_request(client, session, world, revision):
    log_in(client, world.admin)
    token = csrf_token(client, "/admin/question-sets/heart-to-heart")
    before = all_rows(session)
    data = {
        **editor_form_data(session, "heart-to-heart"),
        "revision": revision,
        "csrf_token": token,
    }
    response = client.post("/admin/question-sets/heart-to-heart", data=data)
    assert response.status_code == 400
    assert all_rows(session) == before


def test_a_preview_of_a_version_that_cannot_exist_is_404(client, world):
    log_in(client, world.admin)
    for version in ("99999999999999999999", str(2**31), "-1", "²"):
        response = client.get(
            "/admin/question-sets/heart-to-heart/preview", query_string={"version": version}
        )
        assert response.status_code == 404, version


def test_reassigning_to_an_owner_id_that_cannot_exist_is_refused_beside_the_choice(
    client, session, world
):
    log_in(client, world.admin)
    token = csrf_token(client, f"/cases/{world.case.id}")
    before = all_rows(session)
    response = client.post(
        f"/cases/{world.case.id}/reassign",
        data={"csrf_token": token, "owner_id": "99999999999999999999", "reason": "Holidays"},
    )
    assert response.status_code == 422
    reassign = Page(response.get_data(as_text=True))
    assert reassign.field_errors("owner_id", reassign.form(f"/cases/{world.case.id}/reassign"))
    assert all_rows(session) == before


# --- next= on the login page ---------------------------------------------------------------


@pytest.mark.parametrize(
    "next_value",
    [
        "/\x00//evil.example",
        "/\x0b/evil.example",
        "/\x7f",
        "/\r\nSet-Cookie: x=1",
        "\x00//evil.example",
        "/\u0085//evil.example",
        "/\x1b[2J",
    ],
)
def test_next_with_a_control_character_is_ignored(client, session, next_value):
    owner = make_user(session)
    session.commit()
    page = client.get("/login", query_string={"next": next_value})
    assert page.status_code == 200
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


def test_next_on_the_site_still_leads_there_after_logging_in(client, session, world):
    response = client.post(
        "/login",
        query_string={"next": f"/customers/{world.customer.id}?tab=notes"},
        data={
            "email": world.admin.email,
            "password": PASSWORD,
            "csrf_token": csrf_token(client, "/login"),
        },
    )
    assert response.headers["Location"] == f"/customers/{world.customer.id}?tab=notes"
