"""A negative answer on an install where nobody can own a case yet (issue 8, item 2).

A fresh install with an API key and no user: the shop posts purchases, the
customers answer. A negative answer is never lost: the response is kept and
its case opens "waiting for an owner", unowned and without deadlines, until an
admin or a default owner exists; then it is routed as any new case is, its
owner emailed once, and its deadlines start.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.db import db
from surveys.models import Case, CaseEvent, OutboxMessage, Response, RoutingRule, User
from surveys.services.cases.opening import assign_waiting_cases
from surveys.services.settings import set_setting
from surveys.services.surveys.responses import submit_response
from surveys.services.users import accounts as users
from surveys.services.webhooks_out.events import CASE_OPENED
from tests.factories import (
    UNHAPPY_ANSWERS,
    make_api_key,
    make_case,
    make_customer,
    make_purchase,
    make_sent_survey,
    make_user,
)
from tests.journey import act_on_case, bearer, mails_to, run_worker, unhappy_customer
from tests.test_openapi import assert_documented
from tests.test_webhooks_out import add_endpoint
from tests.web import csrf_token_from, log_in

ADMIN = "alex@shop.example"
ACKNOWLEDGE_HOURS = 4  # the default setting
WAITING = "waiting for an owner: no active admin, and no default owner is chosen"


@pytest.fixture
def shop_without_people(session):
    """A fresh install: the seeded question sets and an API key, and nobody who logs in."""
    assert session.scalar(select(func.count(User.id))) == 0
    _key, raw = make_api_key(session, "Shop")
    session.commit()
    return raw


def create_user_by_cli(runner, email: str, role: str):
    return runner.invoke(
        args=["users", "create", email, "--name", "Alex Morgan", "--role", role]
        + ["--password", "correct horse battery"]
    )


def unhappy_answer(session, clock, *, category: str = "hardware") -> Case:
    """A customer answers a sent survey unhappily, through the service the survey page calls."""
    customer = make_customer(session)
    purchase = make_purchase(
        session,
        customer,
        items=[{"sku": "KB-1", "name": "Keyboard", "category": category, "quantity": 1}],
    )
    survey, _token = make_sent_survey(session, customer, purchase=purchase, sent_at=clock.now())
    submit_response(session, survey, UNHAPPY_ANSWERS, now=clock.now())
    session.commit()
    return session.scalars(select(Case).where(Case.customer_id == customer.id)).one()


def new_case_emails(session) -> list[OutboxMessage]:
    return list(
        session.scalars(select(OutboxMessage).where(OutboxMessage.template == "owner_new_case"))
    )


def kinds(session, case: Case) -> list[str]:
    return list(
        session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )


# --- the answer is kept ---------------------------------------------------------------------


def test_negative_answer_with_nobody_to_own_it_is_kept_and_the_case_waits_for_an_owner(
    client, session, runner, clock, fake_sendgrid, shop_without_people
):
    case = unhappy_customer(
        client, session, runner, fake_sendgrid, raw_key=shop_without_people, owner_email=None
    )  # asserts the survey POST answered 200

    response = session.scalars(select(Response)).one()
    assert response.negative
    assert case.response_id == response.id
    assert (case.status, case.owner_id, case.routed_by) == ("open", None, WAITING)
    assert case.acknowledge_by is None and case.resolve_by is None
    assert kinds(session, case) == ["opened"]
    assert new_case_emails(session) == []


def test_thank_you_page_thanks_the_customer_without_naming_anyone(
    client, session, clock, shop_without_people
):
    customer = make_customer(session, name="Ana Diaz")
    survey, token = make_sent_survey(session, customer, sent_at=clock.now())
    session.commit()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    response = client.post(
        f"/s/{token}", data={**UNHAPPY_ANSWERS, "csrf_token": csrf_token_from(page)}
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Thank you, Ana." in html
    assert "already has your message" not in html  # nobody to name yet
    assert session.scalar(select(func.count(Case.id)).where(Case.owner_id.is_(None))) == 1


def test_the_api_shows_a_waiting_case_with_a_null_owner_and_no_deadline(
    client, session, clock, shop_without_people
):
    case = unhappy_answer(session, clock)
    document = client.get("/api/v1/openapi.json").get_json()

    response = client.get(f"/api/v1/cases/{case.id}", headers=bearer(shop_without_people))

    assert response.status_code == 200
    assert_documented(document, "/api/v1/cases/{case_id}", "GET", response)
    body = response.get_json()
    assert (body["owner"], body["acknowledge_by"], body["status"]) == (None, None, "open")
    listed = client.get("/api/v1/cases", headers=bearer(shop_without_people))
    assert_documented(document, "/api/v1/cases", "GET", listed)
    assert [item["owner"] for item in listed.get_json()["items"]] == [None]


def test_case_opened_webhook_says_the_owner_is_null(session, clock, shop_without_people):
    add_endpoint(session, "https://hooks.example/in", events=[CASE_OPENED])

    case = unhappy_answer(session, clock)

    [delivery] = session.scalars(
        select(OutboxMessage).where(OutboxMessage.channel == "webhook")
    ).all()
    assert delivery.payload["data"]["id"] == case.id
    assert delivery.payload["data"]["owner"] is None


def test_cases_export_leaves_the_owner_of_a_waiting_case_empty(client, session, clock):
    case = unhappy_answer(session, clock)
    admin = make_user(session, role="admin")  # written straight in: nothing assigned it yet
    session.commit()
    log_in(client, admin)

    export = client.get("/admin/export/cases.csv").get_data(as_text=True)

    header, row = export.splitlines()[:2]
    assert header.split(",")[:3] == ["id", "status", "owner"]
    assert row.split(",")[:3] == [str(case.id), "open", ""]


# --- the first admin, a default owner, a rule: routed as a new case is ----------------------


def test_the_first_admin_created_gets_the_waiting_case_one_email_and_fresh_deadlines(
    client, session, runner, clock, fake_sendgrid, shop_without_people
):
    case = unhappy_customer(
        client, session, runner, fake_sendgrid, raw_key=shop_without_people, owner_email=None
    )
    clock.advance(hours=30)  # the admin arrives long after the answer

    result = create_user_by_cli(runner, ADMIN, "admin")

    assert result.exit_code == 0, result.output
    assert "1 case waiting for an owner now has one, who was emailed" in result.output
    session.refresh(case)
    admin = session.scalar(select(User).where(User.email == ADMIN))
    assert case.owner_id == admin.id
    assert case.routed_by == "earliest admin, as no default owner is chosen"
    assert case.acknowledge_by == clock.now() + timedelta(hours=ACKNOWLEDGE_HOURS)
    assert kinds(session, case) == ["opened", "owner_assigned", "owner_notified"]
    assert "after waiting 1 day for an owner" in session.scalar(
        select(CaseEvent.body).where(CaseEvent.kind == "owner_assigned")
    )
    run_worker(runner)
    run_worker(runner)  # the safety net finds nothing left to give
    [mail] = [m for m in mails_to(fake_sendgrid, ADMIN) if f"case #{case.id}" in m.subject]
    assert f"/cases/{case.id}" in mail.text
    assert "before anyone could own their case" in mail.text


def test_creating_an_owner_leaves_the_case_waiting_and_says_so(
    session, runner, clock, shop_without_people
):
    case = unhappy_answer(session, clock)

    result = create_user_by_cli(runner, "olivia@shop.example", "owner")

    assert result.exit_code == 0, result.output
    assert "Warning: 1 case waits for an owner" in result.output
    assert "flask --app app users create EMAIL --role admin" in result.output
    session.refresh(case)
    assert case.owner_id is None
    assert new_case_emails(session) == []


def test_reactivating_the_owner_a_rule_names_routes_the_waiting_case_by_that_rule(
    session, clock, shop_without_people
):
    olivia = make_user(session, email="olivia@shop.example", active=False)
    session.add(RoutingRule(position=1, field="category", value="hardware", owner_id=olivia.id))
    case = unhappy_answer(session, clock, category="hardware")
    assert case.owner_id is None  # the rule's owner was deactivated

    users.reactivate_user(session, olivia, now=clock.now())

    assert case.owner_id == olivia.id
    assert case.routed_by == "routing rule 1: category is hardware"
    assert [m.to_email for m in new_case_emails(session)] == [olivia.email]


def test_admin_dashboard_lists_waiting_cases_and_choosing_a_default_owner_assigns_them(
    client, session, clock
):
    first = unhappy_answer(session, clock)
    second = unhappy_answer(session, clock)
    # People written straight into the database, as a restore or a script might: nothing
    # has routed the waiting cases yet, so the dashboard must show them.
    admin = make_user(session, role="admin")
    olivia = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    session.commit()
    log_in(client, admin)

    page = client.get("/admin/dashboard").get_data(as_text=True)

    assert "2 cases wait for an owner" in page
    assert f'href="/cases/{first.id}"' in page and f'href="/cases/{second.id}"' in page
    act = client.get("/admin/routing").get_data(as_text=True)
    response = client.post(
        "/admin/routing/default-owner",
        data={"owner_id": str(olivia.id), "csrf_token": csrf_token_from(act)},
    )

    assert response.status_code == 302
    session.expire_all()
    assert {case.owner_id for case in session.scalars(select(Case))} == {olivia.id}
    assert [m.to_email for m in new_case_emails(session)] == [olivia.email] * 2
    assert "wait for an owner" not in client.get("/admin/dashboard").get_data(as_text=True)


def test_the_worker_gives_waiting_cases_an_owner_as_a_safety_net(
    session, runner, clock, fake_sendgrid
):
    case = unhappy_answer(session, clock)
    warned = run_worker(runner)
    assert "Warning: 1 case waits for an owner" in warned
    admin = make_user(session, role="admin", email=ADMIN)  # straight in: nothing routed it
    session.commit()

    output = run_worker(runner)

    assert "cases given an owner 1" in output
    assert "waits for an owner" not in output
    session.refresh(case)
    assert case.owner_id == admin.id
    assert len([m for m in mails_to(fake_sendgrid, ADMIN) if f"case #{case.id}" in m.subject]) == 1


# --- while it waits -------------------------------------------------------------------------


def test_a_waiting_case_is_never_escalated(session, runner, clock):
    case = unhappy_answer(session, clock)
    clock.advance(days=10)

    output = run_worker(runner)

    assert "escalated" not in output
    assert kinds(session, case) == ["opened"]


def test_a_waiting_case_can_only_be_noted_or_given_to_someone_whose_deadlines_then_start(
    client, session, runner, clock
):
    case = unhappy_answer(session, clock)
    admin = make_user(session, role="admin")
    olivia = make_user(session, email="olivia@shop.example", name="Olivia Bennett")
    session.commit()
    log_in(client, admin)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Nobody owns this case yet" in page and "Give it an owner" in page
    clock.advance(hours=2)

    refused = act_on_case(client, case.id, "acknowledge")
    given = act_on_case(
        client, case.id, "reassign", owner_id=olivia.id, reason="She handles keyboards."
    )

    assert refused.status_code == 409
    assert "Nobody owns this case yet" in refused.get_data(as_text=True)
    assert given.status_code == 302
    session.refresh(case)
    assert case.owner_id == olivia.id
    assert case.acknowledge_by == clock.now() + timedelta(hours=ACKNOWLEDGE_HOURS)
    assert case.reassign_count == 0  # its first owner, not a move
    assert case.routed_by == f"chosen by {admin.name} while the case waited for an owner"
    templates = sorted(m.template for m in session.scalars(select(OutboxMessage)))
    assert templates == ["case_reassigned_customer", "case_reassigned_owner"]
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Given to Olivia Bennett" in page


def test_a_waiting_case_comes_first_in_the_admins_inbox_marked_as_waiting(client, session, clock):
    waiting = unhappy_answer(session, clock)
    admin = make_user(session, role="admin")  # straight in: nothing routed the case yet
    overdue = make_case(session, owner=admin, now=clock.now() - timedelta(days=3))
    session.commit()
    log_in(client, admin)

    page = client.get("/inbox?owner=all").get_data(as_text=True)

    assert page.index(f"/cases/{waiting.id}") < page.index(f"/cases/{overdue.id}")
    assert "waiting for an owner" in page


# --- once, whoever assigns -----------------------------------------------------------------


def test_assigning_at_once_from_two_places_gives_each_case_one_owner_and_one_email(
    committed_app,
):
    with committed_app.app_context():
        session = db.session()
        clock = committed_app.extensions["clock"]
        for _ in range(3):
            unhappy_answer(session, clock)
        make_user(session, role="admin")
        session.commit()
    barrier = threading.Barrier(2)
    counts: list[int] = []
    failures: list[BaseException] = []

    def assign() -> None:
        try:
            with committed_app.app_context():
                session = db.session()
                barrier.wait(timeout=10)
                counts.append(assign_waiting_cases(session, clock.now()))
                session.commit()
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=assign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not failures, failures
    assert sum(counts) == 3
    with committed_app.app_context():
        session = db.session()
        assert session.scalar(select(func.count(Case.id)).where(Case.owner_id.is_(None))) == 0
        assert len(new_case_emails(session)) == 3


def test_settings_change_nothing_for_a_waiting_case_until_it_has_an_owner(session, clock):
    # The deadlines come from the settings in force when the case gets its owner.
    case = unhappy_answer(session, clock)
    set_setting(session, "acknowledge_hours", 1)
    clock.advance(hours=5)

    make_user(session, role="admin")
    assign_waiting_cases(session, clock.now())

    assert case.acknowledge_by == clock.now() + timedelta(hours=1)
