"""Routing rules on /admin/routing: add, delete, reorder, the default owner, and the tester,
which asks the same decision real cases get (`choose_owner`)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from surveys.models import AuditEntry, Customer, RoutingRule
from surveys.services.routing.decisions import choose_owner
from surveys.services.routing.rules import RoutingRuleError, clean_rule_value, ordered_rules
from surveys.services.settings import get_setting
from tests.factories import make_customer, make_purchase, make_user
from tests.pages import page, text_of
from tests.web import csrf_token


@pytest.fixture
def people(session):
    olivia = make_user(session, role="owner", name="Olivia Owner", email="olivia@shop.test")
    hugo = make_user(session, role="owner", name="Hugo Hardware", email="hugo@shop.test")
    dana = make_user(session, role="owner", name="Dana Default", email="dana@shop.test")
    session.commit()
    return olivia, hugo, dana


def token(client) -> str:
    return csrf_token(client, "/admin/routing")


def add_rule(client, field, value, owner):
    return client.post(
        "/admin/routing/rules",
        data={"csrf_token": token(client), "field": field, "value": value, "owner_id": owner.id},
    )


def rule_summary(session) -> list[tuple[int, str, str]]:
    return [(r.position, r.field, r.value) for r in ordered_rules(session)]


def test_rules_are_added_in_order_and_shown_numbered(admin_client, session, people):
    olivia, hugo, _ = people
    assert add_rule(admin_client, "category", "hardware", hugo).status_code == 302
    assert add_rule(admin_client, "total_at_least", "500.00", olivia).status_code == 302
    assert add_rule(admin_client, "email_domain", "@BigCorp.com", olivia).status_code == 302
    assert rule_summary(session) == [
        (1, "category", "hardware"),
        (2, "total_at_least", "500"),
        (3, "email_domain", "bigcorp.com"),
    ]
    shown = page(admin_client.get("/admin/routing"))
    rules = shown.all("ol.rule-list > li")
    assert [[text_of(s) for s in rule.find_all("strong")] for rule in rules] == [
        ["category is hardware", "Hugo Hardware"],
        ["order total is at least 500", "Olivia Owner"],
        ["email domain is bigcorp.com", "Olivia Owner"],
    ]
    assert text_of(rules[0]).startswith(
        "1. When the category is hardware, cases go to Hugo Hardware"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_at_least", "lots"),
        ("total_at_least", "-5"),
        ("total_at_least", "1.234"),
        ("email_domain", "not a domain"),
        ("category", "   "),
        ("colour", "red"),
    ],
)
def test_a_rule_that_makes_no_sense_is_refused(admin_client, session, people, field, value):
    response = add_rule(admin_client, field, value, people[0])
    assert response.status_code == 422
    assert session.scalar(select(RoutingRule)) is None


def test_a_rule_cannot_name_an_inactive_owner(session, admin, clock):
    from surveys.services.routing.rules import add_rule as add

    gone = make_user(session, role="owner", active=False)
    with pytest.raises(RoutingRuleError):
        add(session, field="sku", value="KB-1", owner=gone, actor=admin, now=clock.now())


def test_clean_rule_value_keeps_what_choose_owner_compares():
    assert clean_rule_value("sku", " KB-1 ") == "KB-1"
    assert clean_rule_value("total_at_least", "1,000.50") == "1000.5"
    assert clean_rule_value("email_domain", "@Example.ORG") == "example.org"


def test_rules_move_up_and_down_and_deleting_closes_the_gap(admin_client, session, people):
    olivia, hugo, dana = people
    add_rule(admin_client, "category", "a", olivia)
    add_rule(admin_client, "category", "b", hugo)
    add_rule(admin_client, "category", "c", dana)
    first, second, third = ordered_rules(session)
    t = token(admin_client)
    assert (
        admin_client.post(f"/admin/routing/rules/{third.id}/up", data={"csrf_token": t}).status_code
        == 302
    )
    assert [v for _, _, v in rule_summary(session)] == ["a", "c", "b"]
    admin_client.post(f"/admin/routing/rules/{first.id}/down", data={"csrf_token": t})
    assert [v for _, _, v in rule_summary(session)] == ["c", "a", "b"]
    # The first rule cannot move further up.
    admin_client.post(f"/admin/routing/rules/{third.id}/up", data={"csrf_token": t})
    assert [v for _, _, v in rule_summary(session)] == ["c", "a", "b"]
    assert (
        admin_client.post(
            f"/admin/routing/rules/{first.id}/delete", data={"csrf_token": t}
        ).status_code
        == 302
    )
    assert rule_summary(session) == [(1, "category", "c"), (2, "category", "b")]
    assert (
        admin_client.post("/admin/routing/rules/999999/delete", data={"csrf_token": t}).status_code
        == 404
    )


def test_the_default_owner_is_chosen_and_can_be_unset(admin_client, session, people):
    dana = people[2]
    response = admin_client.post(
        "/admin/routing/default-owner",
        data={"csrf_token": token(admin_client), "owner_id": str(dana.id)},
    )
    assert response.status_code == 302
    assert get_setting(session, "default_owner_id") == dana.id
    assert "Now: Dana Default." in page(admin_client.get("/admin/routing")).text
    admin_client.post(
        "/admin/routing/default-owner", data={"csrf_token": token(admin_client), "owner_id": ""}
    )
    assert get_setting(session, "default_owner_id") is None


def ask_tester(client, **sample) -> tuple[str, str]:
    """Who the tester says would own the case, and everything it says."""
    response = client.get("/admin/routing/test", query_string=sample)
    assert response.status_code == 200
    result = page(response).by_id("tester-result")
    return text_of(result.strong), text_of(result)


def test_a_rule_beats_the_default_and_the_account_owner_beats_both(admin_client, session, people):
    olivia, hugo, dana = people
    admin_client.post(
        "/admin/routing/default-owner",
        data={"csrf_token": token(admin_client), "owner_id": str(dana.id)},
    )
    add_rule(admin_client, "sku", "GPU-9", olivia)
    add_rule(admin_client, "category", "hardware", hugo)

    # Nothing matches: the default owner.
    owner, says = ask_tester(admin_client, email="new@example.com", category="books", total="20")
    assert owner == "Dana Default"
    assert says.startswith("Dana Default (dana@shop.test) would own the case.")
    assert "no account owner and no rule matches, so the default applies (default owner)" in says

    # A rule matches: it beats the default, and the tester says which rule.
    owner, says = ask_tester(admin_client, email="new@example.com", category="Hardware")
    assert owner == "Hugo Hardware"
    assert "rule 2 (category is hardware) is the first rule that matches." in says
    # Two rules match: the first in the list wins.
    owner, says = ask_tester(
        admin_client, email="new@example.com", category="hardware", sku="GPU-9"
    )
    assert owner == "Olivia Owner" and "rule 1 (SKU is GPU-9)" in says

    # A known customer with an account owner: the account owner beats both.
    make_customer(session, email="ana@example.com", owner=dana)
    session.commit()
    owner, says = ask_tester(
        admin_client, email="Ana@Example.com", category="hardware", sku="GPU-9"
    )
    assert owner == "Dana Default"
    assert "Dana Default is this customer’s account owner, which comes before every rule." in says

    # The tester saved nothing.
    assert session.scalars(select(Customer.email).order_by(Customer.email)).all() == [
        "ana@example.com"
    ]

    # Real cases get the same answers from choose_owner.
    hardware = [{"sku": "KB-1", "name": "Keyboard", "category": "hardware"}]
    stranger = make_customer(session, email="new@example.com")
    ana = session.scalar(select(Customer).where(Customer.email == "ana@example.com"))
    books = make_purchase(session, stranger, items=[{"sku": "B-1", "category": "books"}])
    keyboard = make_purchase(session, stranger, items=hardware)
    anas_keyboard = make_purchase(session, ana, items=hardware)
    assert choose_owner(session, customer=stranger, purchase=books).owner.id == dana.id
    decision = choose_owner(session, customer=stranger, purchase=keyboard)
    assert (decision.owner.id, decision.rule.value) == (hugo.id, "hardware")
    decision = choose_owner(session, customer=ana, purchase=anas_keyboard)
    assert (decision.owner.id, decision.reason, decision.rule) == (dana.id, "account owner", None)


def test_the_tester_and_real_cases_decide_alike(admin_client, session, people):
    olivia, hugo, dana = people
    add_rule(admin_client, "total_at_least", "100", olivia)
    customer = make_customer(session, email="real@example.com")
    purchase = make_purchase(session, customer, total="129.90")
    decision = choose_owner(session, customer=customer, purchase=purchase)
    assert decision.owner.id == olivia.id and decision.rule is not None
    owner, says = ask_tester(
        admin_client, email="real@example.com", category="hardware", sku="KB-1", total="129.90"
    )
    assert owner == "Olivia Owner"
    assert "rule 1 (order total is at least 100)" in says


def test_the_tester_refuses_a_bad_sample(admin_client, people):
    response = admin_client.get(
        "/admin/routing/test", query_string={"email": "x@example.com", "total": "a lot"}
    )
    assert response.status_code == 422
    assert "Give an amount, like 129.90." in response.get_data(as_text=True)
    assert admin_client.get("/admin/routing/test").status_code == 422


def test_every_routing_change_is_in_the_audit_log(admin_client, session, people, admin):
    olivia, hugo, dana = people
    add_rule(admin_client, "category", "hardware", hugo)
    add_rule(admin_client, "sku", "X", olivia)
    rule = ordered_rules(session)[1]
    t = token(admin_client)
    admin_client.post(f"/admin/routing/rules/{rule.id}/up", data={"csrf_token": t})
    admin_client.post(f"/admin/routing/rules/{rule.id}/delete", data={"csrf_token": t})
    admin_client.post(
        "/admin/routing/default-owner", data={"csrf_token": t, "owner_id": str(dana.id)}
    )
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == [
        "routing_rule.added",
        "routing_rule.added",
        "routing_rule.moved",
        "routing_rule.deleted",
        "setting.changed",
    ]
    assert {e.actor_user_id for e in entries} == {admin.id}
    assert entries[0].after == {
        "number": 1,
        "field": "category",
        "value": "hardware",
        "owner": "hugo@shop.test",
        "rule": "category is hardware",
    }
    assert entries[2].before == {"number": 2} and entries[2].after == {"number": 1}
    assert entries[3].before["value"] == "X" and entries[3].after is None
    assert entries[4].after == {"default_owner": "dana@shop.test"}
