"""Choosing a case's one owner: account owner, routing rules, default owner, earliest admin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from surveys.models import RoutingRule
from surveys.services.routing.decisions import NoOwnerAvailable, choose_owner
from surveys.services.settings import set_setting
from tests.factories import make_customer, make_purchase, make_user


@pytest.fixture
def admin(session, clock):
    user = make_user(session, role="admin", name="Ada Admin")
    user.created_at = clock.now() - timedelta(days=30)
    session.flush()
    return user


def add_rule(session, position: int, field: str, value: str, owner) -> RoutingRule:
    rule = RoutingRule(position=position, field=field, value=value, owner_id=owner.id)
    session.add(rule)
    session.flush()
    return rule


def keyboard_purchase(session, customer, total="129.90"):
    return make_purchase(
        session,
        customer,
        total=total,
        items=[
            {"sku": "KB-1", "name": "Keyboard", "category": "hardware", "unit_price": "99.90"},
            {"sku": "CARE-1", "name": "Care plan", "category": "services", "unit_price": "30.00"},
        ],
    )


def route_keyboard_purchase(session, customer):
    return choose_owner(session, customer=customer, purchase=keyboard_purchase(session, customer))


def test_account_owner_gets_the_case_before_any_rule(session, admin):
    olivia = make_user(session, role="owner")
    add_rule(session, 1, "category", "hardware", make_user(session, role="owner"))
    customer = make_customer(session, owner=olivia)
    decision = route_keyboard_purchase(session, customer)
    assert (decision.owner, decision.reason, decision.rule) == (olivia, "account owner", None)


def test_inactive_account_owner_is_passed_over(session, admin):
    gone = make_user(session, role="owner", active=False)
    hardware = make_user(session, role="owner")
    rule = add_rule(session, 1, "category", "hardware", hardware)
    customer = make_customer(session, owner=gone)
    decision = route_keyboard_purchase(session, customer)
    assert (decision.owner, decision.rule) == (hardware, rule)


def test_first_matching_rule_by_position_wins_and_is_explained(session, admin):
    first, second, third = (make_user(session, role="owner") for _ in range(3))
    add_rule(session, 30, "category", "hardware", third)
    add_rule(session, 10, "sku", "NOPE-9", first)
    winner = add_rule(session, 20, "category", "Hardware", second)
    customer = make_customer(session)
    decision = route_keyboard_purchase(session, customer)
    assert (decision.owner, decision.rule) == (second, winner)
    assert decision.reason == "routing rule 2: category is Hardware"


@pytest.mark.parametrize(
    ("field", "value", "matches"),
    [
        ("category", "services", True),  # any item's category
        ("category", " HARDWARE ", True),  # categories compare loosely
        ("category", "garden", False),
        ("sku", "CARE-1", True),  # any item's SKU
        ("sku", "care-1", False),  # SKUs are exact codes
        ("total_at_least", "129.90", True),
        ("total_at_least", "129.9", True),
        ("total_at_least", "129.91", False),
        ("total_at_least", "100", True),
        ("total_at_least", "lots", False),
        ("email_domain", "Example.COM", True),  # the customer's domain, any case
        ("email_domain", "@example.com", True),
        ("email_domain", "ample.com", False),
    ],
)
def test_each_kind_of_rule_matches_as_documented(session, admin, field, value, matches):
    owner = make_user(session, role="owner")
    add_rule(session, 1, field, value, owner)
    customer = make_customer(session, email="ana@example.com")
    decision = route_keyboard_purchase(session, customer)
    assert (decision.owner == owner) is matches


def test_rule_reasons_read_as_words(session, admin):
    owner = make_user(session, role="owner")
    customer = make_customer(session, email="ana@bigco.example")
    purchase = keyboard_purchase(session, customer, total="900.00")
    add_rule(session, 1, "total_at_least", "500", owner)
    assert choose_owner(session, customer=customer, purchase=purchase).reason == (
        "routing rule 1: order total is at least 500"
    )


def test_rule_of_an_inactive_owner_is_skipped(session, admin):
    gone = make_user(session, role="owner", active=False)
    active = make_user(session, role="owner")
    add_rule(session, 1, "category", "hardware", gone)
    add_rule(session, 2, "sku", "KB-1", active)
    customer = make_customer(session)
    decision = route_keyboard_purchase(session, customer)
    assert decision.owner == active
    assert decision.reason == "routing rule 2: SKU is KB-1"


def test_purchase_rules_do_not_match_without_a_purchase(session, admin):
    add_rule(session, 1, "category", "hardware", make_user(session, role="owner"))
    add_rule(session, 2, "total_at_least", "0", make_user(session, role="owner"))
    customer = make_customer(session)
    assert choose_owner(session, customer=customer, purchase=None).owner == admin


def test_default_owner_setting_takes_unclaimed_cases(session, admin):
    chosen = make_user(session, role="owner")
    set_setting(session, "default_owner_id", chosen.id)
    decision = choose_owner(session, customer=make_customer(session), purchase=None)
    assert (decision.owner, decision.reason, decision.rule) == (chosen, "default owner", None)


def test_earliest_active_admin_owns_cases_until_a_default_is_chosen(session, clock):
    retired = make_user(session, role="admin", active=False)
    retired.created_at = clock.now() - timedelta(days=90)
    earliest = make_user(session, role="admin")
    earliest.created_at = clock.now() - timedelta(days=60)
    later = make_user(session, role="admin")
    later.created_at = clock.now() - timedelta(days=1)
    session.flush()
    decision = choose_owner(session, customer=make_customer(session), purchase=None)
    assert decision.owner == earliest
    assert decision.reason == "earliest admin, as no default owner is chosen"


def test_inactive_default_owner_falls_back_to_the_earliest_admin(session, admin):
    gone = make_user(session, role="owner", active=False)
    set_setting(session, "default_owner_id", gone.id)
    decision = choose_owner(session, customer=make_customer(session), purchase=None)
    assert decision.owner == admin
    assert decision.reason == "earliest admin, as the default owner is no longer active"


def test_nobody_to_own_the_case_is_a_clear_error(session):
    with pytest.raises(NoOwnerAvailable):
        choose_owner(session, customer=make_customer(session), purchase=None)
